"""Quality of a written Python file, through radon: cyclomatic complexity per function (max, mean),
maintainability index, source lines, the longest function; compared with the file at the base revision.
Data, not a gate. Only parses the code (radon uses ast): nothing of it runs on the host."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from radon.complexity import cc_visit
from radon.metrics import mi_visit
from radon.raw import analyze
from radon.visitors import Function


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


def measure(written: dict[str, str], base: dict[str, str | None]) -> dict[str, dict[str, object]]:
    """path -> its metrics, and `base` (the same at the base revision) for a file that existed there."""
    out: dict[str, dict[str, object]] = {}
    for path, code in sorted(written.items()):
        if not path.endswith(".py"):
            continue
        entry: dict[str, object] = metrics(code).to_json()
        before = base.get(path)
        if before is not None:
            entry["base"] = metrics(before).to_json()
        out[path] = entry
    return out
