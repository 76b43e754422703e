"""Code that games the judge instead of doing the task, refused before it runs. The model's code runs in
the same process as the tests that judge it, so a reply can detect that it is being tested, patch the
tests it imports, rewrite a function's code object or forge the report on exit. None of that has a place
in an implementation or in a test of one; each finding names the construct and goes back to the model."""

from __future__ import annotations

import ast

from greenloop.outline import parse_module

_EVERYWHERE_ATTRS = {"__code__": "rewrites a function's code", "__globals__": "reaches into a function's globals",
                     "_exit": "exits without reporting (os._exit)"}
_EVERYWHERE_MODULES = {"atexit": "runs code after the tests reported", "builtins": "patches builtins"}
_HARNESS_NAMES = {"pytest", "_pytest", "PYTEST_CURRENT_TEST", "unittest"}
_HARNESS_PARTS = ("junitxml", ".greenloop-report")
_TEST_CALLS = {"globals": "rewrites module globals", "setattr": "sets attributes by name",
               "exec": "executes generated code", "eval": "evaluates generated code"}


def _imported(tree: ast.Module) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            names.update(a.asname or a.name for a in node.names)
    return names


def _root(node: ast.AST) -> str:
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        node = node.value
    return node.id if isinstance(node, ast.Name) else ""


def _common(node: ast.AST) -> str | None:
    if isinstance(node, ast.Attribute) and node.attr in _EVERYWHERE_ATTRS:
        return _EVERYWHERE_ATTRS[node.attr]
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        mods = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
        for mod in mods:
            if mod.split(".")[0] in _EVERYWHERE_MODULES:
                return _EVERYWHERE_MODULES[mod.split(".")[0]]
    if isinstance(node, ast.Attribute) and node.attr == "modules" and _root(node) == "sys":
        return "reaches into sys.modules"
    return None


def _in_test(node: ast.AST, imported: set[str], top_level: set[int]) -> str | None:
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _TEST_CALLS:
        return _TEST_CALLS[node.func.id]
    if isinstance(node, (ast.Global, ast.Nonlocal)):
        return "rebinds names of the module from a function"
    if isinstance(node, ast.ImportFrom) and any(a.name == "*" for a in node.names):
        return "imports * (the names it tests must be explicit)"
    if isinstance(node, ast.Delete) and id(node) in top_level:
        return "deletes module names"
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("pytest_"):
        return "defines a pytest hook"
    if isinstance(node, ast.Name) and node.id == "pytest_plugins":
        return "loads pytest plugins"
    targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(
        node, (ast.AugAssign, ast.AnnAssign)) else []
    for target in targets:
        if isinstance(target, (ast.Attribute, ast.Subscript)) and _root(target) in imported:
            return f"assigns into the imported '{_root(target)}' (patching the code under test)"
    return None


def gaming(path: str, source: str, is_test: bool) -> list[str]:
    """Findings, one line each (`path:line: ...`); empty for clean code or code that does not parse."""
    tree = parse_module(source)
    if tree is None:
        return []
    imported = _imported(tree)
    top_level = {id(n) for n in tree.body}
    found: list[str] = []
    for node in ast.walk(tree):
        why = _common(node) or (_in_test(node, imported, top_level) if is_test else None)
        if why is None and not is_test and isinstance(node, ast.Constant) and isinstance(node.value, str) and (
                node.value in _HARNESS_NAMES or any(p in node.value for p in _HARNESS_PARTS)):
            why = "behaves differently under the test runner"
        if why:
            found.append(f"{path}:{getattr(node, 'lineno', 0)}: {why}; greenloop refuses code that games the tests. "
                         "Write plain code and plain tests.")
    return list(dict.fromkeys(found))
