"""The grade of a green result, after the tests pass and before the commit: the quality metrics of every written
Python file (quality.py), recorded as a `grade` event and returned for the run summary. Data, not a gate."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from greenloop import record
from greenloop.examples import Example
from greenloop.figures import STRONG_SCORE, Evidence, evidence_of
from greenloop.ledger import Ledger
from greenloop.mutation import MutationScore, score
from greenloop.protocols import Sandbox
from greenloop.quality import measure
from greenloop.trajectory import Trajectory
from greenloop.workspace import Workspace

MUTATION_BUDGET_S = 20.0  # at most (default_budget)
MUTATION_MAX_MUTANTS = 8
GRADE_SHARE = 0.4  # of the run so far the grade may take (a model run of minutes: every mutant; the last
# mutant may overrun the budget by one test run, so a quick run stays within +50%)


@dataclass(frozen=True)
class Graded:
    quality: dict[str, object]  # the run summary's `quality`
    mutation: MutationScore | None  # None: not measured (no tests, no Python code, or `mutation = "off"`)
    judges: str = "the tests"  # what faced the mutants, for the warning

    @property
    def evidence(self) -> Evidence:
        m = self.mutation
        return "unmeasured" if m is None else evidence_of(m.score, m.total, m.not_run)

    def why(self) -> str:
        """What the evidence rests on, for the end of a run: one clause."""
        m = self.mutation
        if m is None or m.score is None:
            return "no mutation score was taken"
        cut = f"; {m.not_run} not run (time budget)" if m.not_run else ""
        return f"{self.judges} killed {m.killed} of {m.total} mutants of the code{cut}"

    def warning(self) -> str | None:
        """One line naming the surviving mutants when the score is low."""
        m = self.mutation
        if m is None or m.score is None or m.score >= STRONG_SCORE:
            return None
        names = "; ".join(f"{s.path}:{s.line} {s.description}" for s in m.survived[:3])
        return (f"{self.judges} killed {m.killed} of {m.total} mutants of the code (mutation score {m.score}); "
                f"they do not notice: {names}{' ...' if len(m.survived) > 3 else ''}")


def default_budget(reading: record.Reading) -> float:
    """Seconds of mutation analysis by default: as long as the run's own test runs took, or 40% of the run's time
    so far if that is more (a model's minutes buy all the mutants, a quick run stays within +50%), at most 20 s."""
    tested = sum(e.seconds for e in reading.of(record.TestRun))
    start = reading.last(record.RunStart)  # a continued run: its own start
    elapsed = time.time() - start.ts if start is not None else 0.0
    return min(MUTATION_BUDGET_S, max(tested, GRADE_SHARE * elapsed))


def grade(ledger: Ledger, traj: Trajectory, ws: Workspace, sandbox: Sandbox, python: Path,
          timeout_s: float, budget_s: float | None = None, test_cmd: str | None = None,
          mutate: bool = True, examples: Sequence[Example] = ()) -> Graded:
    """`{"files": {path: metrics}, "mutation": {...}}` for the implementation files the run wrote. The
    mutants face what judged the run: its own tests, else the configured test command; then the task's
    `examples` (Python)."""
    started = time.monotonic()
    written = {p: e.current for p, e in ledger.entries.items() if not e.is_test and not e.protected}
    quality: dict[str, object] = {"files": measure(written, {p: ledger.entries[p].original for p in written})}
    mutation = None
    if mutate and (ledger.tests or test_cmd) and any(p.endswith(".py") for p in written):
        budget = budget_s if budget_s is not None else default_budget(record.read(traj.path))
        mutation = score(ledger, ws, sandbox, python, timeout_s, budget, MUTATION_MAX_MUTANTS, test_cmd, examples)
        quality["mutation"] = mutation.to_json()
    traj.write(record.Grade(ts=0, run_id="", step="grade", quality=quality,
                            seconds=round(time.monotonic() - started, 3)))
    return Graded(quality, mutation, "the tests and the task's examples" if examples else "the tests")
