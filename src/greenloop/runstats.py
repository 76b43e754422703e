"""Figures over a repository's runs (`greenloop runs --stats`): how often greenloop solves its tasks, what a run
costs in attempts, tokens and time, and how good the green results are (mutation score, complexity)."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from greenloop.figures import EVIDENCE_LEVELS
from greenloop.runlog import RunRecord, when


@dataclass(frozen=True)
class Stats:
    runs: int
    finished: int  # runs with a run_end (the medians are over these)
    solved: int
    solve_rate: float | None  # solved / runs
    median_attempts: float | None
    median_tokens: float | None
    median_seconds: float | None
    mutation_runs: int  # green runs with a mutation score
    mean_mutation_score: float | None
    graded_runs: int  # green runs with a graded Python file
    mean_max_complexity: float | None  # the mean over green runs of the largest function complexity
    evidence: dict[str, int]  # green runs by the evidence they claimed (strong, weak, unmeasured; older: unknown)

    def to_json(self) -> dict[str, object]:
        return asdict(self)

    def rows(self) -> list[tuple[str, str]]:
        """(figure, value) for a plain text table."""
        return [
            ("runs", f"{self.runs} ({self.finished} finished)"),
            ("solved", f"{self.solved}" + (f" ({100 * self.solve_rate:.1f}%)" if self.solve_rate is not None else "")),
            ("median attempts", _num(self.median_attempts)),
            ("median tokens", _num(self.median_tokens)),
            ("median wall time", _num(self.median_seconds, " s")),
            ("mean mutation score (green runs)", _num(self.mean_mutation_score) + f"  (of {self.mutation_runs})"),
            ("mean max complexity (green runs)", _num(self.mean_max_complexity) + f"  (of {self.graded_runs})"),
            ("evidence (green runs)", ", ".join(f"{level} {n}" for level, n in self.evidence.items() if n) or "-"),
        ]


def _num(value: float | None, unit: str = "") -> str:
    return "-" if value is None else f"{value:g}{unit}"


def _median(values: Sequence[float]) -> float | None:
    return round(statistics.median(values), 3) if values else None


def _mean(values: Sequence[float]) -> float | None:
    return round(statistics.fmean(values), 3) if values else None


def stats(runs: Sequence[RunRecord]) -> Stats:
    finished = [r for r in runs if r.ended]
    green = [r for r in runs if r.status == "success"]
    scores = [s for r in green if r.summary.quality.mutation and (s := r.summary.quality.mutation.score) is not None]
    complexity = [c for r in green if (c := r.summary.quality.max_complexity) is not None]
    return Stats(
        runs=len(runs), finished=len(finished), solved=len(green),
        solve_rate=round(len(green) / len(runs), 4) if runs else None,
        median_attempts=_median([r.attempts for r in finished]),
        median_tokens=_median([r.tokens for r in finished]),
        median_seconds=_median([r.seconds for r in finished]),
        mutation_runs=len(scores), mean_mutation_score=_mean(scores),
        graded_runs=len(complexity), mean_max_complexity=_mean(complexity),
        evidence={level: sum((r.summary.evidence or "unknown") == level for r in green)
                  for level in (*EVIDENCE_LEVELS, "unknown")},
    )


def run_json(rec: RunRecord) -> dict[str, object]:
    """One run for `greenloop runs --json` (and the index page's columns)."""
    mutation = rec.summary.quality.mutation
    return {"run_id": rec.run_id, "started": when(rec.started), "task": rec.task, "status": rec.status,
            "undone": rec.undone, "branch": rec.branch, "commit": rec.commit, "attempts": rec.attempts,
            "model": rec.model, "tokens": rec.tokens, "cost_usd": rec.summary.usage.cost_usd,
            "seconds": rec.seconds, "mutation_score": mutation.score if mutation else None,
            "evidence": rec.summary.evidence,
            "max_complexity": rec.summary.quality.max_complexity}
