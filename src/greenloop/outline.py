"""How a file is shown to the model: whole when it fits the budget, else an outline of its definitions
(line ranges, via ast) plus the numbered text of the definitions the task names. Never cut silently:
a partial view says so, and asks for SEARCH/REPLACE edits."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_CONTEXT_LINES = 3  # around a task word in a file without an outline
_RARE_LINES = 10  # a task word on more lines than this does not point at a place


@dataclass(frozen=True)
class FileView:
    """What the prompt shows of one file. `whole`: `text` is the file; else it is a partial view."""

    text: str
    whole: bool


@dataclass(frozen=True)
class Definition:
    kind: str  # def | class
    name: str  # qualified: Class.method
    start: int  # first line (decorators included), 1-based
    end: int  # last line, inclusive
    depth: int


def parse_module(source: str) -> ast.Module | None:
    """The module of a Python source, or None when it does not parse (or is too deep or large to)."""
    try:
        return ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def call_name(node: ast.AST) -> str:
    """The name a call calls: `f` of `f(...)` and of `module.f(...)`; "" for anything else."""
    func = node.func if isinstance(node, ast.Call) else None
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


def docstring(node: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
    """A function's docstring as written ("" without one). Not cleaned: inspect.cleandoc drops leading blank lines
    one `list.pop(0)` at a time, quadratic in them, and a docstring is the repository's. Read it with patterns
    that allow any indentation."""
    return ast.get_docstring(node, clean=False) or ""


def is_string_statement(stmt: ast.AST) -> bool:
    """A bare string statement: a docstring, or one in its place."""
    return isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) and isinstance(stmt.value.value, str)


def definitions(source: str) -> list[Definition] | None:
    """Every function and class with its line range, in source order; None if the source does not parse."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return None
    found: list[Definition] = []

    def visit(node: ast.AST, prefix: str, depth: int) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                start = min([child.lineno, *(d.lineno for d in child.decorator_list)])
                kind = "class" if isinstance(child, ast.ClassDef) else "def"
                name = prefix + child.name
                found.append(Definition(kind, name, start, child.end_lineno or child.lineno, depth))
                if depth < 2:
                    visit(child, name + ".", depth + 1)

    visit(tree, "", 0)
    return found


def top_level_names(source: str) -> list[str] | None:
    """Names of the module's top-level functions and classes, in order; None if it does not parse."""
    found = definitions(source)
    return None if found is None else list(dict.fromkeys(d.name for d in found if d.depth == 0))


def _numbered(lines: list[str], start: int, end: int) -> str:
    return "".join(f"{n:4d}| {lines[n - 1]}\n" for n in range(start, end + 1))


def _merge(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for lo, hi in sorted(ranges):
        if merged and lo <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged


def _wanted_ranges(lines: list[str], defs: list[Definition] | None, words: set[str]) -> list[tuple[int, int]]:
    """Line ranges the task is about: the definitions it names, or (no outline) the lines naming its words."""
    if defs is not None:
        named = [d for d in defs if d.name.rsplit(".", 1)[-1] in words or d.name in words]
        # a named class that is large shows through its named methods, not whole
        return [(d.start, d.end) for d in named if d.kind == "def" or d.end - d.start < 80]
    per_line = [set(_WORD.findall(line)) & words for line in lines]
    counts: dict[str, int] = {}
    for found in per_line:
        for word in found:
            counts[word] = counts.get(word, 0) + 1
    rare = {w for w, c in counts.items() if c <= _RARE_LINES}  # "the", "of": on every line, not the point
    hits = [n for n, found in enumerate(per_line, 1) if found & rare]
    return [(max(1, n - _CONTEXT_LINES), min(len(lines), n + _CONTEXT_LINES)) for n in hits]


def _outline(defs: list[Definition], room: int) -> str:
    entries = [f"{'    ' * d.depth}  {d.kind} {d.name}: lines {d.start}-{d.end}\n" for d in defs]
    if sum(map(len, entries)) <= room:
        return "".join(entries)
    out, used = [], 0
    for i, entry in enumerate(entries):
        if used + len(entry) > room - 100:  # room for the line that says what is left out
            rest = defs[i:]
            out.append(f"  ... {len(rest)} more definitions in lines {rest[0].start}-{rest[-1].end}, "
                       "not listed here\n")
            break
        out.append(entry)
        used += len(entry)
    return "".join(out)


def _excerpts(lines: list[str], ranges: list[tuple[int, int]], room: int) -> tuple[str, list[tuple[int, int]]]:
    """The numbered text of `ranges`, as many whole ranges as fit in `room`; and the ranges left out."""
    shown, skipped, used = [], [], 0
    for lo, hi in _merge(ranges):
        block = f"Lines {lo}-{hi}:\n" + _numbered(lines, lo, hi)
        if used + len(block) > room:
            skipped.append((lo, hi))
            continue
        shown.append(block)
        used += len(block)
    return "".join(shown), skipped


def file_view(path: str, content: str, task: str, budget_chars: int) -> FileView:
    """The file whole if it fits `budget_chars`; else an outline with line ranges and the numbered text of
    the definitions named in `task` (as many as fit), and an explicit note that the view is partial."""
    if len(content) <= budget_chars:
        return FileView(text=content, whole=True)
    lines = content.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    defs = definitions(content) if path.endswith((".py", ".pyi")) else None
    words = set(_WORD.findall(task))
    head = (f"({path} has {len(lines)} lines ({len(content)} characters), too long to show whole. Shown: "
            + ("an outline of its definitions with their line ranges, and " if defs else "")
            + "numbered excerpts; every line not shown is in the file unchanged. Edit this file ONLY with "
            "SEARCH/REPLACE blocks whose SEARCH lines are copied exactly from the excerpts (without the line "
            "numbers and the '| '); never send this file whole.)\n")
    room = max(0, budget_chars - len(head))
    wanted = _wanted_ranges(lines, defs, words)
    first_def = min((d.start for d in defs), default=len(lines) + 1) if defs is not None else 1
    # the task's definitions first (leaving the outline a third of the room), then the outline, then the
    # module's header (its imports) if room is left
    full_outline = _outline(defs, room) if defs else ""
    text, skipped = _excerpts(lines, wanted, room - min(len(full_outline) + 10, room // 3))
    outline = "Outline:\n" + _outline(defs, max(0, room - len(text) - 10)) if defs else ""
    header = ""
    if defs is not None and first_def > 1:
        header, _ = _excerpts(lines, [(1, min(first_def - 1, 60))], room - len(text) - len(outline))
    note = "".join(f"(lines {lo}-{hi}, also named by the task, did not fit in this view)\n" for lo, hi in skipped)
    if not wanted:
        note += "(the task names none of this file's definitions, so none is shown in full)\n"
    return FileView(text=head + outline + header + text + note, whole=False)
