"""The figures of a run, typed: the run summary of a `run_end` event, its token usage and cost, and the grade
(quality metrics per file, mutation score) of a `grade` event. The record keeps them as JSON objects; this module
is the one place that reads them, leniently: a field of the wrong type (an old or foreign record) makes the
figure absent with a reason, never a crash."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Any, Literal, TypeVar, get_args

from pydantic import TypeAdapter, ValidationError

from greenloop.quality import FileMetrics

T = TypeVar("T")

STRONG_SCORE = 0.8  # a mutation score under this (more than one mutant in five survives) is a summary warning
EVIDENCE_MIN_MUTANTS = 3  # fewer judged, with some cut off by the time budget, is too few to call the tests strong

# How much a green says (the run summary's `evidence`): "strong" when the tests and the task's examples killed at
# least STRONG_SCORE of the code's mutants (and enough of them ran), "weak" when more survived, "unmeasured" when no
# score was taken or too few mutants ran to tell.
Evidence = Literal["strong", "weak", "unmeasured"]
EVIDENCE_LEVELS: tuple[Evidence, ...] = get_args(Evidence)


def evidence_of(score: float | None, total: int, not_run: int) -> Evidence:
    """The evidence of a mutation score: killed / total mutants, `not_run` cut off by the time budget."""
    if score is None:
        return "unmeasured"
    if score < STRONG_SCORE:
        return "weak"
    return "strong" if total >= EVIDENCE_MIN_MUTANTS or not not_run else "unmeasured"


@dataclass(frozen=True)
class MutationFigures:
    """The mutation score of the final tests, as mutation.py writes it into the grade."""

    score: float | None = None
    killed: int = 0
    survived: int = 0
    total: int = 0
    not_run: int = 0  # over the time budget
    seconds: float = 0.0
    survivors: list[str] = field(default_factory=list)  # "path:line description", at most 10

    @property
    def evidence(self) -> Evidence:
        return evidence_of(self.score, self.total, self.not_run)


@dataclass(frozen=True)
class GradedFile(FileMetrics):
    base: FileMetrics | None = None  # the same file at the base revision, when it existed there


@dataclass(frozen=True)
class GradeFigures:
    files: dict[str, GradedFile] = field(default_factory=dict)
    mutation: MutationFigures | None = None

    @property
    def max_complexity(self) -> int | None:
        """The largest cyclomatic complexity of any function the run wrote (None: no Python file graded)."""
        return max((f.cc_max for f in self.files.values()), default=None)


@dataclass(frozen=True)
class Usage:
    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float | None = None  # None: no price known for the model


@dataclass(frozen=True)
class Summary:
    """The run summary (DESIGN.md), the fields greenloop reads back; other keys are ignored."""

    status: str = ""
    branch: str | None = None
    commit: str | None = None
    attempts: int = 0
    usage: Usage = field(default_factory=Usage)
    quality: GradeFigures = field(default_factory=GradeFigures)
    evidence: str | None = None  # a green's: strong | weak | unmeasured (absent before the field: None)
    error: str | None = None


@cache
def _adapter(cls: type[T]) -> TypeAdapter[T]:
    return TypeAdapter(cls)


def parse(cls: type[T], data: Any, what: str) -> tuple[T | None, list[str]]:
    """`data` as a `cls`, and why parts of it were left out (written for a reader of the report). A top-level key
    that does not fit is dropped and the rest kept; data that is not an object at all gives None."""
    reasons: list[str] = []
    while True:
        try:
            return _adapter(cls).validate_python(data), reasons
        except ValidationError as exc:
            loc = exc.errors()[0]["loc"]
            where = ".".join(str(p) for p in loc) or "the object"
            reasons.append(f"{what}: {where}: {exc.errors()[0]['msg']}; left out")
            if not (isinstance(data, dict) and loc and loc[0] in data):
                return None, reasons
            data = {k: v for k, v in data.items() if k != loc[0]}
