"""JavaScript/TypeScript rules past the syntax (validate_js.py): placeholders where code was asked, packages
that are neither Node built-ins nor in package.json (greenloop adds no dependencies: the user installs them),
fences in the code, and warnings for constructs a reviewer should look at."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from greenloop.runners.project import read_package

BUILTINS = frozenset(
    "assert async_hooks buffer child_process cluster console constants crypto dgram diagnostics_channel dns domain "
    "events fs http http2 https inspector module net os path perf_hooks process punycode querystring readline repl "
    "stream string_decoder sys test timers tls trace_events tty url util v8 vm wasi worker_threads zlib".split())
_PLACEHOLDER = re.compile(r"//\s*(TODO|FIXME)\b|throw new Error\(\s*['\"`]not implemented", re.I)
_FENCE = re.compile(r"^\s*```")
_FUNCTIONS = {"function_declaration", "method_definition", "arrow_function", "function_expression", "function"}
_SUSPICIOUS_MODULES = {"child_process": "child_process (runs commands)", "net": "network sockets",
                       "http": "an HTTP client or server", "https": "an HTTP client or server",
                       "dgram": "network sockets", "vm": "vm (runs code)", "worker_threads": "worker threads"}


def _string(node: Any) -> str | None:
    if node is None or node.type not in ("string", "template_string"):
        return None
    text = node.text.decode("utf-8", "replace")
    return text[1:-1] if len(text) >= 2 and "${" not in text else None


def specifiers(root_node: Any, walk: Any) -> list[tuple[str, int]]:
    """(module specifier, line) of every import, export-from, require() and import() with a literal name."""
    found = []
    for node in walk(root_node):
        source = None
        if node.type in ("import_statement", "export_statement"):
            source = node.child_by_field_name("source")
        elif node.type == "call_expression":
            fn = node.child_by_field_name("function")
            args = node.child_by_field_name("arguments")
            if fn is not None and fn.text in (b"require", b"import") and args is not None and args.named_children:
                source = args.named_children[0]
        name = _string(source)
        if name is not None:
            found.append((name, node.start_point[0] + 1))
    return found


def package_of(specifier: str) -> str | None:
    """The npm package a bare specifier names; None for relative, absolute, node: and built-in modules."""
    if specifier.startswith((".", "/", "node:", "data:", "file:")) or not specifier:
        return None
    parts = specifier.split("/")
    name = "/".join(parts[:2]) if specifier.startswith("@") else parts[0]
    return None if name in BUILTINS else name


def rules(path: str, source: str, tree: Any, walk: Any, root: Path, is_test: bool) -> list[str]:
    errors = []
    fence = next((i for i, line in enumerate(source.split("\n"), 1) if _FENCE.match(line)), None)
    if fence is not None:
        errors.append(f"{path}:{fence}: a markdown fence (```) inside the code; send only the file's contents")
    if not is_test:
        placeholder = _PLACEHOLDER.search(source)
        if placeholder is not None:
            line = source.count("\n", 0, placeholder.start()) + 1
            errors.append(f"{path}:{line}: a placeholder ({placeholder.group(0).strip()}); write the real code")
        for node in walk(tree.root_node):
            body = node.child_by_field_name("body") if node.type in _FUNCTIONS else None
            if body is not None and body.type == "statement_block" and not [
                    c for c in body.named_children if c.type != "comment"]:
                name = node.child_by_field_name("name")
                label = name.text.decode("utf-8", "replace") if name is not None else "a function"
                errors.append(f"{path}:{node.start_point[0] + 1}: {label} has an empty body; implement it")
                break
    project = read_package(root)
    declared = project.dependencies | ({str(project.package.get("name"))} if project.package else set())
    for spec, line in specifiers(tree.root_node, walk):
        package = package_of(spec)
        if package is not None and package not in declared:
            errors.append(f"{path}:{line}: requires '{package}', which is neither a Node built-in nor in package.json; "
                          f"greenloop adds no dependencies: use Node's built-ins, or ask the user to run "
                          f"`npm install {package}` before the run")
    return errors


def suspicious(path: str, source: str, tree: Any, walk: Any) -> list[str]:
    """Warnings (not errors), like guardrails.suspicious_code for Python."""
    found: dict[str, int] = {}
    for spec, line in specifiers(tree.root_node, walk):
        base = spec.removeprefix("node:").split("/")[0]
        if base in _SUSPICIOUS_MODULES:
            found.setdefault(_SUSPICIOUS_MODULES[base], line)
    for node in walk(tree.root_node):
        line = node.start_point[0] + 1
        if node.type == "call_expression" and (fn := node.child_by_field_name("function")) is not None \
                and fn.text == b"eval":
            found.setdefault("eval()", line)
        elif node.type == "new_expression" and (ctor := node.child_by_field_name("constructor")) is not None \
                and ctor.text == b"Function":
            found.setdefault("new Function()", line)
        elif node.type == "member_expression" and node.text == b"process.env":
            found.setdefault("reads the environment", line)
    return [f"{path}:{line}: uses {what}" for what, line in sorted(found.items(), key=lambda kv: kv[1])]
