"""The grade of a green result, after the tests pass and before the commit: the quality metrics of every written
Python file (quality.py), recorded as a `grade` event and returned for the run summary. Data, not a gate.

How much a green says (`evidence`) is the mutation score of what judged it, unless the run's tests only restate
the task's own examples: then they checked nothing the user did not already state, whatever the score (on the
1.5B model's HumanEval run at `70c3fef`, 5 of the 46 greens whose tests only restated the examples were wrong,
none of the 25 whose tests called the function on anything else)."""

from __future__ import annotations

import ast
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from greenloop import record
from greenloop.config import AUTO_MUTATION_BUDGET_S
from greenloop.examples import Example
from greenloop.figures import STRONG_SCORE, Evidence, evidence_of
from greenloop.ledger import Ledger
from greenloop.mutation import MutationScore, score
from greenloop.outline import call_name, parse_module
from greenloop.protocols import Sandbox
from greenloop.quality import measure
from greenloop.trajectory import Trajectory
from greenloop.workspace import Workspace

MUTATION_MAX_MUTANTS = 8
GRADE_SHARE = 0.4  # of the run so far the grade may take (a model run of minutes: every mutant; the last
# mutant may overrun the budget by one test run, so a quick run stays within +50%)


@dataclass(frozen=True)
class Graded:
    quality: dict[str, object]  # the run summary's `quality`
    mutation: MutationScore | None  # None: not measured (no tests, no Python code, or `mutation = "off"`)
    judges: str = "the tests"  # what faced the mutants, for the warning
    restated: int = 0  # the run's tests only call the code as the task's examples do: how many examples (0: not so)

    @property
    def evidence(self) -> Evidence:
        m = self.mutation
        measured = "unmeasured" if m is None else evidence_of(m.score, m.total, m.not_run)
        return "weak" if measured == "strong" and self.restated else measured

    def why(self) -> str:
        """What the evidence rests on, for the end of a run: one clause."""
        m = self.mutation
        only = (f"the tests only restate the task's {self.restated} example{'s' if self.restated > 1 else ''}; "
                if self.restated else "")
        if m is None or m.score is None:
            return f"{only}no mutation score was taken"
        cut = f"; {m.not_run} not run (time budget)" if m.not_run else ""
        return f"{only}{self.judges} killed {m.killed} of {m.total} mutants of the code{cut}"

    def warning(self) -> str | None:
        """One line naming the surviving mutants when the score is low."""
        m = self.mutation
        if m is None or m.score is None or m.score >= STRONG_SCORE:
            return None
        names = "; ".join(f"{s.path}:{s.line} {s.description}" for s in m.survived[:3])
        return (f"{self.judges} killed {m.killed} of {m.total} mutants of the code (mutation score {m.score}); "
                f"they do not notice: {names}{' ...' if len(m.survived) > 3 else ''}")


def _calls_of(source: str, functions: set[str]) -> list[str] | None:
    """Every call of one of `functions` in `source` (as `f(...)` or `module.f(...)`), unparsed as `f(...)`; None
    when the source does not parse or read back."""
    tree = parse_module(source)
    if tree is None:
        return None
    calls = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and (name := call_name(node)) in functions:
            try:
                calls.append(ast.unparse(ast.Call(ast.Name(name), node.args, node.keywords)))
            except RecursionError:  # nested too deep to read back: no restatement of an example
                return None
    return calls


def restated(tests: Mapping[str, str], examples: Sequence[Example]) -> int:
    """The number of the task's own examples when the run's Python tests call the examples' functions only as the
    examples do (same arguments, however written); 0 when a test calls one otherwise (a variable argument counts as
    otherwise: it may be anything), calls none, or there are no tests or no examples."""
    stated = [ex for ex in examples if not ex.derived and ex.function]
    functions = {ex.function for ex in stated}
    expected = {c for ex in stated for c in _calls_of(ex.call, functions) or ()}
    found: list[str] = []
    for source in tests.values():
        calls = _calls_of(source, functions)
        if calls is None:
            return 0
        found += calls
    return len(stated) if found and set(found) <= expected else 0


def default_budget(reading: record.Reading) -> float:
    """Seconds of mutation analysis by default: as long as the run's own test runs took, or 40% of the run's time
    so far if that is more (a model's minutes buy all the mutants, a quick run stays within +50%), at most 20 s."""
    tested = sum(e.seconds for e in reading.of(record.TestRun))
    start = reading.last(record.RunStart)  # a continued run: its own start
    elapsed = time.time() - start.ts if start is not None else 0.0
    return min(AUTO_MUTATION_BUDGET_S, max(tested, GRADE_SHARE * elapsed))


def grade(ledger: Ledger, traj: Trajectory, ws: Workspace, sandbox: Sandbox, python: Path,
          timeout_s: float, budget_s: float | None = None, test_cmd: str | None = None,
          mutate: bool = True, examples: Sequence[Example] = ()) -> Graded:
    """`{"files": {path: metrics}, "mutation": {...}}` for the implementation files the run wrote. The
    mutants face what judged the run: its own tests, else the configured test command; then the task's
    `examples` (Python)."""
    started = time.monotonic()
    written = {p: e.current for p, e in ledger.entries.items() if not e.is_test and not e.protected}
    tests = {p: e.current for p, e in ledger.entries.items() if e.is_test and not e.protected and p.endswith(".py")}
    quality: dict[str, object] = {"files": measure(written, {p: ledger.entries[p].original for p in written})}
    mutation = None
    if mutate and (ledger.tests or test_cmd) and any(p.endswith(".py") for p in written):
        budget = budget_s if budget_s is not None else default_budget(record.read(traj.path))
        mutation = score(ledger, ws, sandbox, python, timeout_s, budget, MUTATION_MAX_MUTANTS, test_cmd, examples)
        quality["mutation"] = mutation.to_json()
    traj.write(record.Grade(ts=0, run_id="", step="grade", quality=quality,
                            seconds=round(time.monotonic() - started, 3)))
    return Graded(quality, mutation, "the tests and the task's examples" if examples else "the tests",
                  restated(tests, examples))
