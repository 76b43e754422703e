"""Deterministic repairs of a reply's test files, no model call: an obvious missing import (a test that
uses `pytest.raises` or `re.match` without importing the module) is added. Small models make this
mistake often, and a test that fails with NameError says nothing about the code."""

from __future__ import annotations

import ast
import builtins

from greenloop.outline import parse_module

# Modules a test may use by their plain name; a name is repaired only if nothing in the file binds it.
KNOWN_MODULES = frozenset({
    "pytest", "re", "math", "os", "sys", "json", "random", "string", "itertools", "functools", "collections",
    "datetime", "decimal", "fractions", "statistics", "typing", "pathlib", "tempfile", "io", "textwrap",
    "operator", "copy", "time", "unittest", "dataclasses", "enum", "heapq", "bisect", "hashlib", "base64",
})


def _bound_names(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            names.add(node.name)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            names.update(node.names)
    return names


def missing_imports(source: str) -> list[str]:
    """Known modules the source uses (`name.attr`) without binding them anywhere."""
    tree = parse_module(source)
    if tree is None:
        return []
    bound = _bound_names(tree)
    used = {node.value.id for node in ast.walk(tree)
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
            and isinstance(node.value.ctx, ast.Load)}
    return sorted(n for n in used if n in KNOWN_MODULES and n not in bound and not hasattr(builtins, n))


def add_missing_imports(source: str) -> tuple[str, list[str]]:
    """The source with `import X` added after its docstring and `__future__` imports, and the names added."""
    names = missing_imports(source)
    if not names:
        return source, []
    tree = ast.parse(source)
    insert_at = 0
    for node in tree.body:
        is_doc = isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(
            node.value.value, str)
        if (is_doc and insert_at == 0) or (isinstance(node, ast.ImportFrom) and node.module == "__future__"):
            insert_at = node.end_lineno or 0
        else:
            break
    lines = source.splitlines(keepends=True)
    if insert_at and insert_at <= len(lines) and not lines[insert_at - 1].endswith("\n"):
        lines[insert_at - 1] += "\n"
    added = "".join(f"import {n}\n" for n in names)
    return "".join(lines[:insert_at]) + added + "".join(lines[insert_at:]), names
