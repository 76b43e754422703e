"""What a whole-file reply left out of the user's Python file, put back. A small model asked for one function
often sends that function alone, or shortens its docstring: applied as the whole file, the reply would delete the
user's other functions, constants and imports, or the examples in the docstring. Nothing of the user's is
deleted unasked, so a whole reply is taken as what it changes, not as what it drops:
- a top-level definition, assignment or import of the file at the base commit that the reply binds nowhere is
  kept where it was (its current text), unless the task names it (asking to remove or rename it);
- a docstring the reply only cut lines from (every line it keeps is one of the old one's) is kept whole.
A model that means to delete something sends a SEARCH/REPLACE block that removes it (not a whole file)."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from greenloop.outline import is_string_statement, parse_module

_Def = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


@dataclass(frozen=True)
class Kept:
    source: str  # the reply's file with what it left out put back
    restored: tuple[str, ...]  # the names put back, and "docstring of NAME" for each docstring kept whole

    def warning(self, path: str) -> str:
        more = len(self.restored) - 12
        names = ", ".join(self.restored[:12]) + (f" and {more} more" if more > 0 else "")
        return (f"{path}: kept {names}, which the reply left out of the file it sent whole "
                "(to delete something, ask for it in the task)")


def _names(stmt: ast.stmt) -> set[str]:
    """The names a top-level statement binds (definitions, plain assignments, imports); empty for others."""
    if isinstance(stmt, _Def):
        return {stmt.name}
    if isinstance(stmt, (ast.Import, ast.ImportFrom)):
        return {(a.asname or a.name).split(".")[0] for a in stmt.names if a.name != "*"}
    targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target] if isinstance(
        stmt, ast.AnnAssign) else []
    return {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}


def _lines(source: str, node: ast.AST) -> list[str]:
    """The whole lines of `node`, with the decorators of a definition."""
    start = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])  # type: ignore[attr-defined]
    return source.splitlines(keepends=True)[start - 1:node.end_lineno]  # type: ignore[attr-defined]


def _docstring(node: ast.AST) -> ast.Expr | None:
    body = getattr(node, "body", None)
    first = body[0] if body else None
    return first if isinstance(first, ast.Expr) and is_string_statement(first) else None


def _cut_only(old: str, new: str | None) -> bool:
    """The new docstring only drops lines of the old one (or is gone)."""
    old_lines = [ln.strip() for ln in old.splitlines() if ln.strip()]
    new_lines = [ln.strip() for ln in (new or "").splitlines() if ln.strip()]
    return len(new_lines) < len(old_lines) and all(ln in old_lines for ln in new_lines)


def _functions(tree: ast.Module) -> dict[str, ast.AST]:
    """Top-level functions and classes, and the methods of top-level classes (as Class.method)."""
    found: dict[str, ast.AST] = {}
    for node in tree.body:
        if isinstance(node, _Def):
            found[node.name] = node
            if isinstance(node, ast.ClassDef):
                found.update({f"{node.name}.{m.name}": m for m in node.body if isinstance(m, _Def)})
    return found


def _docstring_edits(before: str, old_tree: ast.Module, new_tree: ast.Module
                     ) -> list[tuple[int, int, list[str], str]]:
    """(first line, end line, replacement lines, name) per docstring to keep whole; lines 1-based, end exclusive."""
    edits = []
    old_defs = _functions(old_tree)
    for name, node in _functions(new_tree).items():
        old = old_defs.get(name)
        old_doc = _docstring(old) if old is not None else None
        new_doc = _docstring(node)
        if old_doc is None or not _cut_only(old_doc.value.value,  # type: ignore[attr-defined]
                                            new_doc.value.value if new_doc else None):  # type: ignore[attr-defined]
            continue
        body = node.body  # type: ignore[attr-defined]
        if (new_doc or body[0]).lineno == node.lineno or old_doc.lineno == old.lineno:  # type: ignore[union-attr]
            continue  # `def f(): return 1`: the docstring shares the line of the def
        indent, old_indent = " " * (new_doc or body[0]).col_offset, " " * old_doc.col_offset
        text = [indent + ln[len(old_indent):] if ln.startswith(old_indent) else ln for ln in _lines(before, old_doc)]
        first = (new_doc or body[0]).lineno
        edits.append((first, new_doc.end_lineno + 1 if new_doc else first, text, name))  # type: ignore[operator]
    return edits


def keep_omitted(after: str, before: str, original: str, task: str = "") -> Kept:
    """`after` (a whole-file reply) with what it left out of `before` (the file before the reply) put back:
    statements binding a name `original` (the base commit's file) binds, and shortened docstrings. `after` is
    returned unchanged if it does not parse, or the result would not."""
    new_tree, old_tree, base_tree = parse_module(after), parse_module(before), parse_module(original)
    if new_tree is None or old_tree is None or base_tree is None:
        return Kept(after, ())
    bound = set().union(*(_names(s) for s in new_tree.body))
    users = set().union(*(_names(s) for s in base_tree.body))
    named = set(re.findall(r"[A-Za-z_]\w*", task))
    missing = [s for s in old_tree.body if (names := _names(s)) and names <= users and not names & bound
               and not names & named]
    lines = after.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    edits: list[tuple[int, int, list[str]]] = []  # (0-based first line, end, replacement)
    restored: list[str] = []
    for first, end, text, name in _docstring_edits(before, old_tree, new_tree):
        edits.append((first - 1, end - 1, text))
        restored.append(f"the docstring of {name}")
    for line, stmts in _placements(missing, old_tree, new_tree, after).items():
        block = [ln for s in stmts for ln in _with_newline(_lines(before, s)) + _gap(s)]
        after_code = line > 0 and lines[line - 1].strip() != ""  # the statement before it is not followed by a gap
        edits.append((line, line, (_gap(stmts[0]) if after_code else []) + block))
    for first, end, text in sorted(edits, key=lambda e: e[0], reverse=True):
        lines[first:end] = text
    restored[:0] = [n for s in missing for n in sorted(_names(s))]
    if not restored:
        return Kept(after, ())
    source = "".join(lines).rstrip("\n") + "\n"  # what was put back at the end leaves no blank lines after it
    if not _compiles(source):  # the parser's checks and the compiler's
        return Kept(after, ())
    return Kept(source, tuple(dict.fromkeys(restored)))


def _compiles(source: str) -> bool:
    """The compiler's checks beyond the parser's (a `from __future__` import after other code); nothing runs."""
    try:
        compile(source, "<reply>", "exec", dont_inherit=True)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


def _comments(source: str) -> int:
    """How many lines the file opens with that are comments or blank (a shebang, an encoding line)."""
    lines = source.splitlines()
    return next((i for i, ln in enumerate(lines) if ln.strip() and not ln.lstrip().startswith("#")), len(lines))


def _gap(stmt: ast.stmt) -> list[str]:
    """The blank lines around a statement put back: two for a definition, one for others, none for an import."""
    return [] if isinstance(stmt, (ast.Import, ast.ImportFrom)) else ["\n", "\n"] if isinstance(
        stmt, _Def) else ["\n"]


def _with_newline(lines: list[str]) -> list[str]:
    return lines[:-1] + [lines[-1] if lines[-1].endswith("\n") else lines[-1] + "\n"] if lines else lines


def _placements(missing: list[ast.stmt], old_tree: ast.Module, new_tree: ast.Module, after: str
                ) -> dict[int, list[ast.stmt]]:
    """Where each left-out statement goes, as the 0-based line of `after` it is inserted before: before the
    first statement that followed it in the old file and is in the reply; imports after the reply's imports."""
    starts = {n: min([s.lineno, *(d.lineno for d in getattr(s, "decorator_list", []))]) - 1
              for s in new_tree.body for n in _names(s)}
    imports = [s for s in new_tree.body if isinstance(s, (ast.Import, ast.ImportFrom))]
    doc = _docstring(new_tree)
    top = imports[-1].end_lineno if imports else doc.end_lineno if doc else 0
    end = len(after.splitlines())
    places: dict[int, list[ast.stmt]] = {}
    for i, stmt in enumerate(old_tree.body):
        if stmt not in missing:
            continue
        if isinstance(stmt, ast.ImportFrom) and stmt.module == "__future__":
            line = doc.end_lineno if doc else _comments(after)  # only the docstring and comments come before it
        elif isinstance(stmt, (ast.Import, ast.ImportFrom)):
            line = top or 0
        else:
            later = (starts[n] for s in old_tree.body[i + 1:] for n in sorted(_names(s)) if n in starts)
            line = max(next(later, end), top or 0)
        places.setdefault(line, []).append(stmt)  # type: ignore[arg-type]
    return places
