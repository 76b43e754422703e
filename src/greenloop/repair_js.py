"""Deterministic repairs of a reply's JS/TS test files, no model call (repair.py's twin for Node). Small models
write `describe(...)`/`it(...)` in a `node --test` file without requiring them from node:test, use `assert`
without requiring it, and require the code under test by a relative path that misses it
(`require('../lib/slug')` from `test/lib/`). Such a test fails with ReferenceError or MODULE_NOT_FOUND and
says nothing about the code; the fix request would ask to change code that may be right."""

from __future__ import annotations

import os
import posixpath
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from greenloop.jsrules import specifiers
from greenloop.runners.project import JS_SUFFIXES, read_package
from greenloop.validate_js import _parser, _walk, project_module_system

NODE_TEST_NAMES = ("describe", "it", "test", "before", "after", "beforeEach", "afterEach", "mock")
_RESOLVE_SUFFIXES = ("", ".js", ".mjs", ".cjs", ".ts", ".tsx", ".jsx", ".json", "/index.js", "/index.ts")
_SKIP_DIRS = {"node_modules", ".git"}
_USE_STRICT = re.compile(r"""^\s*(['"])use strict\1;?[ \t]*\n""")


def _bound(root_node: Any) -> set[str]:
    """Names the file declares: variables (also destructured), functions, classes, imports, parameters."""
    names: set[str] = set()
    for node in _walk(root_node):
        if node.type in ("shorthand_property_identifier_pattern", "namespace_import"):
            names.add(node.text.decode("utf-8", "replace").split()[-1])
        elif node.type in ("variable_declarator", "function_declaration", "class_declaration"):
            name = node.child_by_field_name("name")
            if name is not None and name.type == "identifier":
                names.add(name.text.decode("utf-8", "replace"))
        elif node.type == "import_specifier":
            alias = node.child_by_field_name("alias") or node.child_by_field_name("name")
            if alias is not None:
                names.add(alias.text.decode("utf-8", "replace"))
        elif node.type == "import_clause":
            names.update(c.text.decode("utf-8", "replace") for c in node.named_children if c.type == "identifier")
        elif node.type in ("formal_parameters", "pair_pattern"):
            names.update(c.text.decode("utf-8", "replace") for c in node.named_children if c.type == "identifier")
    return names


def _used(root_node: Any) -> set[str]:
    """Free-standing calls of node:test's names, and `assert` used as a value (`assert.equal`, `assert(x)`)."""
    used: set[str] = set()
    for node in _walk(root_node):
        if node.type == "call_expression" and (fn := node.child_by_field_name("function")) is not None:
            target = fn.child_by_field_name("object") if fn.type == "member_expression" else fn
            if target is not None and target.type == "identifier":
                used.add(target.text.decode("utf-8", "replace"))
    return used & {*NODE_TEST_NAMES, "assert"}


def _exists(root: Path, rel: str, written: set[str]) -> bool:
    return rel in written or (root / rel).is_file()


def _resolves(root: Path, path: str, spec: str, written: set[str]) -> bool:
    base = posixpath.normpath(posixpath.join(posixpath.dirname(path), spec))
    stem, ext = posixpath.splitext(base)
    typed = [stem + ".ts", stem + ".tsx"] if ext == ".js" else [stem + ".mts"] if ext == ".mjs" else []
    return base.startswith("../") or any(_exists(root, base + s, written) for s in _RESOLVE_SUFFIXES) or any(
        _exists(root, t, written) for t in typed)  # TypeScript's ESM imports name the .js it compiles to


def _same_name(root: Path, stem: str, written: set[str]) -> list[str]:
    """Project files (not node_modules) whose name without its JS suffix is `stem`."""
    found = {w for w in written if posixpath.splitext(posixpath.basename(w))[0] == stem and w.endswith(JS_SUFFIXES)}
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in _SKIP_DIRS]
        rel = os.path.relpath(folder, root)
        found.update(posixpath.normpath(posixpath.join(rel, f)) for f in files
                     if f.endswith(JS_SUFFIXES) and os.path.splitext(f)[0] == stem)
    return sorted(found)


def _respecified(root: Path, path: str, spec: str, written: set[str]) -> str | None:
    """The relative specifier that reaches the one project file of the same name; None if not exactly one."""
    stem, ext = posixpath.splitext(posixpath.basename(spec))
    matches = [m for m in _same_name(root, stem, written) if m != path]
    if len(matches) != 1:
        return None
    target = posixpath.splitext(posixpath.relpath(matches[0], posixpath.dirname(path) or "."))[0] + ext
    return target if target.startswith(".") else "./" + target


def repair_test(path: str, source: str, root: Path, written: Iterable[str]) -> tuple[str, list[str]]:
    """The test file with its node:test/assert requires added and its relative paths to the code under test
    corrected, and what was done (one line each). `written`: the other paths of the reply and of the run."""
    tree = _parser(Path(path).suffix).parse(source.encode("utf-8"))
    if tree.root_node.has_error:
        return source, []
    done: list[str] = []
    known = set(written)
    for spec, _line in specifiers(tree.root_node, _walk):
        if spec.startswith(("./", "../")) and not _resolves(root, path, spec, known):
            better = _respecified(root, path, spec, known)
            if better is not None:
                source = re.sub(rf"""(['"`]){re.escape(spec)}\1""", lambda m, b=better: f"{m.group(1)}{b}{m.group(1)}",
                                source)
                done.append(f"'{spec}' -> '{better}'")
    missing = sorted(_used(tree.root_node) - _bound(tree.root_node))
    names = [n for n in missing if n != "assert"]
    node_test = "node --test" in read_package(root).test_script or "node:test" in source
    lines = [] if not names or not node_test else [_require(path, root, "{ " + ", ".join(names) + " }", "node:test")]
    lines += [_require(path, root, "assert", "node:assert")] if "assert" in missing else []
    if lines:
        head = _USE_STRICT.match(source)
        at = head.end() if head else 0
        source = source[:at] + "".join(lines) + source[at:]
        done += [line.strip() for line in lines]
    return source, done


def _require(path: str, root: Path, names: str, module: str) -> str:
    esm = path.endswith((".mjs", ".ts", ".tsx", ".mts")) or (
        not path.endswith(".cjs") and project_module_system(root) == "esm")
    return f"import {names} from '{module}';\n" if esm else f"const {names} = require('{module}');\n"
