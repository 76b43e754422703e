"""JavaScript/TypeScript checks through tree-sitter: syntax, and ESM/CommonJS mismatch with the project."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from greenloop.errors import GuardrailViolation
from greenloop.jsrules import rules, suspicious
from greenloop.workspace import Workspace


@functools.cache
def _parser(suffix: str) -> Any:
    from tree_sitter import Language, Parser

    if suffix in (".ts", ".tsx"):
        import tree_sitter_typescript as ts

        return Parser(Language(ts.language_tsx() if suffix == ".tsx" else ts.language_typescript()))
    import tree_sitter_javascript as js

    return Parser(Language(js.language()))


def _first_error(node: Any) -> Any | None:
    if node.type == "ERROR" or node.is_missing:
        return node
    if not node.has_error:
        return None
    for child in node.children:
        found = _first_error(child)
        if found is not None:
            return found
    return node


def _walk(node: Any) -> Any:
    yield node
    for child in node.children:
        yield from _walk(child)


def project_module_system(root: Path) -> str:
    """'esm' when package.json says "type": "module", else 'commonjs'."""
    try:
        text = Workspace(root).read_text("package.json")
        data = json.loads(text) if text is not None else {}
    except (GuardrailViolation, json.JSONDecodeError):
        data = {}  # a link out of the project, a special file, or not JSON: no project setting
    return "esm" if isinstance(data, dict) and data.get("type") == "module" else "commonjs"


def js_warnings(path: str, source: str) -> list[str]:
    tree = _parser(Path(path).suffix).parse(source.encode("utf-8"))
    return [] if tree.root_node.has_error else suspicious(path, source, tree, _walk)


def check_js(path: str, source: str, root: Path, is_test: bool = False) -> list[str]:
    suffix = Path(path).suffix
    tree = _parser(suffix).parse(source.encode("utf-8"))
    bad = _first_error(tree.root_node)
    if bad is not None:
        line, col = bad.start_point
        text = source.split("\n")[line] if line < len(source.split("\n")) else ""
        return [f"{path}:{line + 1}:{col + 1}: syntax error near '{text.strip()[:60]}'"]
    found = rules(path, source, tree, _walk, root, is_test)
    if found:
        return found
    if suffix in (".ts", ".tsx", ".jsx"):
        return []  # compiled: the bundler or tsc decides the module system
    uses_esm = uses_cjs = False
    for node in _walk(tree.root_node):
        if node.type in ("import_statement", "export_statement"):
            uses_esm = True
        elif node.type == "call_expression" and node.child_by_field_name("function") is not None \
                and node.child_by_field_name("function").text == b"require":
            uses_cjs = True
        elif node.type == "member_expression" and node.text.startswith((b"module.exports", b"exports.")):
            uses_cjs = True
    expected = {".mjs": "esm", ".cjs": "commonjs"}.get(suffix) or project_module_system(root)
    if expected == "esm" and uses_cjs:
        return [f"{path}: uses require()/module.exports, but the file is an ES module here "
                "(package.json type=module or .mjs); use import/export"]
    if expected == "commonjs" and uses_esm:
        return [f"{path}: uses import/export, but the project is CommonJS (no \"type\": \"module\" in "
                "package.json); use require()/module.exports or name the file .mjs"]
    return []
