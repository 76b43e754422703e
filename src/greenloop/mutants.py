"""Bounded AST mutants of a written Python file (mutation.py runs them against the final tests in the sandbox).
Comparison flips, off-by-one integer constants, boolean and arithmetic operator swaps, `return X` -> `return None`.
Pure: the code is parsed, never run, on the host."""

from __future__ import annotations

import ast
from dataclasses import dataclass

_SWAP: dict[type, type] = {
    ast.Lt: ast.GtE, ast.GtE: ast.Lt, ast.Gt: ast.LtE, ast.LtE: ast.Gt, ast.Eq: ast.NotEq, ast.NotEq: ast.Eq,
    ast.Is: ast.IsNot, ast.IsNot: ast.Is, ast.In: ast.NotIn, ast.NotIn: ast.In,
    ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.FloorDiv, ast.Div: ast.Mult, ast.FloorDiv: ast.Mult,
    ast.Mod: ast.FloorDiv, ast.And: ast.Or, ast.Or: ast.And,
}
_SYMBOL = {ast.Lt: "<", ast.GtE: ">=", ast.Gt: ">", ast.LtE: "<=", ast.Eq: "==", ast.NotEq: "!=", ast.Is: "is",
           ast.IsNot: "is not", ast.In: "in", ast.NotIn: "not in", ast.Add: "+", ast.Sub: "-", ast.Mult: "*",
           ast.Div: "/", ast.FloorDiv: "//", ast.Mod: "%", ast.And: "and", ast.Or: "or"}


@dataclass(frozen=True)
class Mutant:
    path: str
    line: int
    description: str  # e.g. "`<` -> `>=`"
    source: str  # the whole mutated file


def _points(tree: ast.AST) -> list[tuple[ast.AST, str, int]]:
    """(node, what, index) for every place a mutation applies, in source order."""
    out: list[tuple[ast.AST, str, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            out += [(node, "cmp", i) for i, op in enumerate(node.ops) if type(op) in _SWAP]
        elif isinstance(node, (ast.BinOp, ast.BoolOp)) and type(node.op) in _SWAP:
            out.append((node, "op", 0))
        elif isinstance(node, ast.Constant) and type(node.value) is int:
            out.append((node, "int", 0))
        elif isinstance(node, ast.Constant) and type(node.value) is bool:
            out.append((node, "bool", 0))
        elif isinstance(node, ast.Return) and node.value is not None and not (
                isinstance(node.value, ast.Constant) and node.value.value is None):
            out.append((node, "return", 0))
    return sorted(out, key=lambda p: (getattr(p[0], "lineno", 0), getattr(p[0], "col_offset", 0), p[2]))


def _apply(node: ast.AST, what: str, index: int) -> str:
    """Mutate `node` in place; returns the description."""
    if isinstance(node, ast.Compare) and what == "cmp":
        old = node.ops[index]
        node.ops[index] = _SWAP[type(old)]()
        return f"`{_SYMBOL[type(old)]}` -> `{_SYMBOL[type(node.ops[index])]}`"
    if isinstance(node, (ast.BinOp, ast.BoolOp)):
        old_op = node.op
        node.op = _SWAP[type(old_op)]()  # type: ignore[assignment]
        return f"`{_SYMBOL[type(old_op)]}` -> `{_SYMBOL[type(node.op)]}`"
    if isinstance(node, ast.Constant) and what == "int":
        node.value += 1
        return f"`{node.value - 1}` -> `{node.value}`"
    if isinstance(node, ast.Constant):
        node.value = not node.value
        return f"`{not node.value}` -> `{node.value}`"
    assert isinstance(node, ast.Return)
    node.value = ast.Constant(None)
    return "`return ...` -> `return None`"


def mutants(path: str, source: str, limit: int) -> list[Mutant]:
    """At most `limit` mutants of `source`, spread evenly over the file's mutation points (deterministic)."""
    count = len(_points(ast.parse(source)))
    step = max(1, -(-count // limit)) if limit > 0 else count + 1
    out = []
    for k in range(0, count, step):
        tree = ast.parse(source)  # a fresh tree per mutant: the same point, by its position in source order
        node, what, index = _points(tree)[k]
        line = getattr(node, "lineno", 0)
        description = _apply(node, what, index)
        out.append(Mutant(path, line, description, ast.unparse(tree)))
    return out[:limit]
