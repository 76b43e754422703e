"""The mutation score of the final tests: each mutant of the written implementation (mutants.py) is put in the
worktree and the run's test files run against it in the sandbox; a failing run kills it, and so does a task
example it misses (the examples judged the green too). Bounded by a count and a time budget; the worktree is
reset to base + record before each mutant and after the last."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from greenloop.candidates import example_failures
from greenloop.examples import Example
from greenloop.figures import MutationFigures
from greenloop.ledger import Ledger
from greenloop.mutants import Mutant, mutants
from greenloop.protocols import Sandbox
from greenloop.testrun import pytest_argv, run_tests, test_argv
from greenloop.workspace import Workspace


@dataclass
class MutationScore:
    killed: int = 0
    survived: list[Mutant] = field(default_factory=list)
    not_run: int = 0  # over the time budget
    seconds: float = 0.0

    @property
    def total(self) -> int:
        return self.killed + len(self.survived)

    @property
    def score(self) -> float | None:
        return round(self.killed / self.total, 3) if self.total else None

    def to_json(self) -> dict[str, object]:
        return asdict(MutationFigures(score=self.score, killed=self.killed, survived=len(self.survived),
                                      total=self.total, not_run=self.not_run, seconds=round(self.seconds, 3),
                                      survivors=[f"{m.path}:{m.line} {m.description}" for m in self.survived[:10]]))


def score(ledger: Ledger, ws: Workspace, sandbox: Sandbox, python: Path, timeout_s: float, budget_s: float,
          max_mutants: int, test_cmd: str | None = None, examples: Sequence[Example] = ()) -> MutationScore:
    """The run's own test files judge each mutant; a run without tests of its own (require_tests off) was
    judged by the configured test command, so that command judges the mutants. A mutant the tests miss
    faces the task's `examples` (Python) next."""
    sources = [p for p in ledger.sources if p.endswith(".py") and not ledger.is_protected(p)]
    per_file = max(1, max_mutants // max(1, len(sources)))
    todo = [m for p in sources for m in mutants(p, ledger.current(p) or "", per_file)][:max_mutants]
    argv = pytest_argv(python, []) + ["-x", *ledger.tests] if ledger.tests else test_argv(test_cmd, [], python)
    out, started = MutationScore(), time.monotonic()
    for i, mutant in enumerate(todo):
        if time.monotonic() - started > budget_s:
            out.not_run = len(todo) - i
            break
        ledger.reset(ws)
        ws.write_text(mutant.path, mutant.source)
        report = run_tests(sandbox, argv, ws.root, timeout_s)
        if (report.exit_code != 0 or report.timed_out
                or example_failures(examples, ledger.sources, ws, sandbox, python, timeout_s)):
            out.killed += 1
        else:
            out.survived.append(mutant)
    ledger.reset(ws)
    out.seconds = time.monotonic() - started
    return out
