"""Quality of a written Python file, through radon: cyclomatic complexity per function (max, mean),
maintainability index, source lines, the longest function; compared with the file at the base revision.
Data, not a gate. Only parses the code (radon uses ast): nothing of it runs on the host.

radon's line counts take time quadratic in the lines of one string literal (a 5,000-line docstring: 12 s, 20,000:
150 s), and a file the run changed may hold the repository's: a file whose strings weigh more than
MAX_STRING_WEIGHT (the sum of each multi-line string's lines squared) is not measured."""

from __future__ import annotations

import ast
from dataclasses import asdict, dataclass

from radon.complexity import cc_visit
from radon.metrics import mi_visit
from radon.raw import analyze
from radon.visitors import Function

from greenloop.outline import parse_module


@dataclass(frozen=True)
class FileMetrics:
    functions: int
    cc_max: int
    cc_mean: float
    maintainability: float  # radon's maintainability index, 0-100, higher is easier to maintain
    sloc: int
    comments: int
    longest_function: int  # lines

    def to_json(self) -> dict[str, float | int]:
        return asdict(self)


def _functions(code: str) -> list[Function]:
    return [b for b in cc_visit(code) if isinstance(b, Function)]  # methods are listed on their own too


def metrics(code: str) -> FileMetrics:
    """The metrics of one Python source (SyntaxError if it does not parse: validate.py checked it before)."""
    funcs = _functions(code)
    cc = [f.complexity for f in funcs]
    raw = analyze(code)
    return FileMetrics(
        functions=len(funcs), cc_max=max(cc, default=0), cc_mean=round(sum(cc) / len(cc), 2) if cc else 0.0,
        maintainability=round(mi_visit(code, multi=True), 1), sloc=raw.sloc, comments=raw.comments,
        longest_function=max((f.endline - f.lineno + 1 for f in funcs), default=0),
    )


MAX_STRING_WEIGHT = 1_000_000  # about a second of radon: one 1,000-line string, or a hundred of 100 lines


def measurable(code: str) -> bool:
    """Whether radon reads `code` in bounded time (see the module's docstring)."""
    tree = parse_module(code)
    if tree is None:
        return False
    weight = sum(((n.end_lineno or n.lineno) - n.lineno + 1) ** 2 for n in ast.walk(tree)
                 if isinstance(n, (ast.Constant, ast.JoinedStr)) and (n.end_lineno or n.lineno) > n.lineno)
    return weight <= MAX_STRING_WEIGHT


def measure(written: dict[str, str], base: dict[str, str | None]) -> dict[str, dict[str, object]]:
    """path -> its metrics, and `base` (the same at the base revision) for a file that existed there; a file
    radon cannot read in bounded time is left out, and its base when that one cannot be."""
    out: dict[str, dict[str, object]] = {}
    for path, code in sorted(written.items()):
        if not path.endswith(".py") or not measurable(code):
            continue
        entry: dict[str, object] = metrics(code).to_json()
        before = base.get(path)
        if before is not None and measurable(before):
            entry["base"] = metrics(before).to_json()
        out[path] = entry
    return out
