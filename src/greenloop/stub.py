"""The code before the implementation, for the red run. A file the run creates is not simply absent
there: a test that fails only because the import fails says nothing (a test may define its own copy of
the function it claims to test). The stub keeps the module's names (imports, functions, classes and
their methods) but every body raises, and module-level values are gone."""

from __future__ import annotations

import ast

from greenloop.outline import parse_module

_RAISE = "raise NotImplementedError('greenloop red run: not implemented yet')"


class _Hollow(ast.NodeTransformer):
    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:
        node.body = ast.parse(_RAISE).body
        return node

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> ast.AST:
        node.body = ast.parse(_RAISE).body
        return node

    def visit_ClassDef(self, node: ast.ClassDef) -> ast.AST:
        defs = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
        kept = [self.visit(n) for n in node.body if isinstance(n, defs)]
        node.body = kept or [ast.Pass()]
        node.decorator_list = []
        return node


def stub(source: str) -> str | None:
    """The hollow module, or None when the source does not parse (the file is then absent in the red run)."""
    tree = parse_module(source)
    if tree is None:
        return None
    body = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom, ast.FunctionDef,
                                                    ast.AsyncFunctionDef, ast.ClassDef))]
    for node in body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            node.decorator_list = []
    module = _Hollow().visit(ast.Module(body=body, type_ignores=[]))
    return ast.unparse(ast.fix_missing_locations(module)) + "\n"
