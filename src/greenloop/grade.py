"""The grade of a green result, after the tests pass and before the commit: the quality metrics of every written
Python file (quality.py), recorded as a `grade` event and returned for the run summary. Data, not a gate."""

from __future__ import annotations

import time
from pathlib import Path

from greenloop import record
from greenloop.ledger import Ledger
from greenloop.mutation import score
from greenloop.protocols import Sandbox
from greenloop.quality import measure
from greenloop.trajectory import Trajectory
from greenloop.workspace import Workspace

MUTATION_BUDGET_S = 20.0  # at most; and no more than the run's own test runs took (the default)
MUTATION_MAX_MUTANTS = 8


def grade(ledger: Ledger, traj: Trajectory, ws: Workspace, sandbox: Sandbox, python: Path,
          timeout_s: float, budget_s: float | None = None, test_cmd: str | None = None) -> dict[str, object]:
    """`{"files": {path: metrics}, "mutation": {...}}` for the implementation files the run wrote. The
    mutants face the tests that judged the run: its own, else the configured test command."""
    started = time.monotonic()
    written = {p: e.current for p, e in ledger.entries.items() if not e.is_test and not e.protected}
    quality: dict[str, object] = {"files": measure(written, {p: ledger.entries[p].original for p in written})}
    if (ledger.tests or test_cmd) and any(p.endswith(".py") for p in written):
        tested = sum(e.seconds for e in record.read(traj.path).of(record.TestRun))  # the loop's test runs
        budget = budget_s if budget_s is not None else min(MUTATION_BUDGET_S, tested)
        quality["mutation"] = score(ledger, ws, sandbox, python, timeout_s, budget, MUTATION_MAX_MUTANTS,
                                     test_cmd).to_json()
    traj.write(record.Grade(ts=0, run_id="", step="grade", quality=quality,
                            seconds=round(time.monotonic() - started, 3)))
    return quality
