"""Several replies, one choice, by execution (CodeT's dual agreement).

With `candidates = N > 1` every attempt samples N replies (tests and implementation at generate
and rewrite, usually the implementation alone at fix). Every implementation is run against every
candidate's assertions, the tests on disk and the task's own examples, one assertion at a time
(probe.py). The implementation is chosen by agreement: among those that pass the most task
examples, implementations that pass the same set of assertions form a group, and the group with
the largest (members x assertions passed) wins. The tests come from the candidate whose assertions
the chosen implementation satisfies most. An assertion of those tests that *no* eligible
implementation satisfies is disputed: it stays (the implementations may share a bug), and if the
tests fail, the fix request says which assertions all candidates disagreed with and what they
returned, so the model can judge the test against the task.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from greenloop.attempt import ReplyOutcome
from greenloop.examples import EXAMPLE_FAILS, ROUND_TRIP_FAILS, Example, examples_module
from greenloop.probe import Check, Module, Outcome, instrument, run_checks
from greenloop.protocols import Sandbox
from greenloop.trajectory import Trajectory
from greenloop.types import Missed
from greenloop.workspace import Workspace

Matrix = dict[int, dict[str, Outcome]]  # candidate -> check id -> outcome


@dataclass
class Choice:
    implementation: int
    tests: int
    disputed: list[Check] = field(default_factory=list)
    scores: dict[int, int] = field(default_factory=dict)
    eligible: list[int] = field(default_factory=list)


def _impl_paths(cands: Sequence[ReplyOutcome]) -> list[str]:
    return list(dict.fromkeys(p for c in cands for p, f in c.written.items() if not f.is_test))


def install(ws: Workspace, cands: Sequence[ReplyOutcome], index: int) -> None:
    """Put candidate `index`'s implementation files on disk; the others' files as they were before."""
    for path in _impl_paths(cands):
        mine = cands[index].written.get(path)
        before = next(c.written[path].before for c in cands if path in c.written)
        if mine is not None:
            ws.write_text(path, mine.after)
        elif before is None:
            ws.remove(path)
        else:
            ws.write_text(path, before)


def candidate_test_modules(cands: Sequence[ReplyOutcome], ws: Workspace,
                           current_tests: Sequence[str]) -> dict[int, list[Module]]:
    """Each candidate's test files (key = its index), and the test files already on disk (key -1)."""
    out: dict[int, list[Module]] = {}
    for i, c in enumerate(cands):
        out[i] = [m for p, f in c.written.items() if f.is_test and (m := instrument(p, f.after, f"{i}:"))]
    on_disk = [(p, text) for p in current_tests if (text := ws.read_text(p)) is not None]
    out[-1] = [m for p, text in on_disk if (m := instrument(p, text, "cur:"))]
    return out


def cross_check(cands: Sequence[ReplyOutcome], examples: Sequence[Example], ws: Workspace, sandbox: Sandbox,
                python: Path, timeout_s: float, current_tests: Sequence[str] = ()
                ) -> tuple[Matrix, dict[int, list[Module]], Module | None]:
    modules = candidate_test_modules(cands, ws, current_tests)
    example_module = examples_module(examples, _impl_paths(cands))
    every = [m for ms in modules.values() for m in ms] + ([example_module] if example_module else [])
    matrix: Matrix = {}
    for i in range(len(cands)):
        install(ws, cands, i)
        matrix[i] = run_checks(sandbox, python, ws.root, every, timeout_s)
    return matrix, modules, example_module


def passed_checks(outcomes: dict[str, Outcome], ids: Sequence[str]) -> frozenset[str]:
    return frozenset(cid for cid in ids if (o := outcomes.get(cid)) is not None and o.ok)


def choose(matrix: Matrix, checks: dict[int, list[Check]], example_ids: Sequence[str]) -> Choice:
    """Dual agreement over the cross-check matrix. Ties go to the earlier candidate (the greedy one).
    `checks[-1]`: the tests already on disk, shared by all candidates (a fix step)."""
    model_ids = [c.id for cs in checks.values() for c in cs]
    best_examples = max(len(passed_checks(matrix[i], example_ids)) for i in matrix)
    eligible = [i for i in sorted(matrix) if len(passed_checks(matrix[i], example_ids)) == best_examples]
    sets = {i: passed_checks(matrix[i], model_ids) for i in eligible}
    scores = {i: sum(1 for j in eligible if sets[j] == sets[i]) * len(sets[i]) for i in eligible}
    implementation = max(eligible, key=lambda i: (scores[i], -i))

    def fit(k: int) -> tuple[int, int, int]:
        own = [c.id for c in checks.get(k, [])]
        passed = len(passed_checks(matrix[implementation], own))
        return passed, -(len(own) - passed), int(k == implementation)
    tests = max(sorted((k for k in checks if checks[k]), reverse=True), key=fit, default=-1)
    disputed = []  # only implementations that meet every task example are witnesses against a test
    if len(eligible) >= 2 and best_examples == len(example_ids):
        disputed = [c for c in checks.get(tests, []) if not any(c.id in sets[i] for i in eligible)]
    return Choice(implementation, tests, disputed, scores, eligible)


def select(cands: Sequence[ReplyOutcome], examples: Sequence[Example], ws: Workspace, sandbox: Sandbox,
           python: Path, timeout_s: float, traj: Trajectory, step: str,
           current_tests: Sequence[str] = ()) -> ReplyOutcome:
    """Cross-check the candidates and leave the chosen files on disk; returns them as one outcome."""
    matrix, modules, example_module = cross_check(cands, examples, ws, sandbox, python, timeout_s, current_tests)
    checks = {i: [c for m in ms for c in m.checks] for i, ms in modules.items()}
    example_ids = [c.id for c in example_module.checks] if example_module else []
    choice = choose(matrix, checks, example_ids)
    install(ws, cands, choice.implementation)
    chosen = ReplyOutcome(warnings=list(cands[choice.implementation].warnings))
    chosen.written = {p: f for p, f in cands[choice.implementation].written.items() if not f.is_test}
    if choice.tests >= 0:
        for path, f in cands[choice.tests].written.items():
            if f.is_test:
                chosen.written[path] = f
                ws.write_text(path, f.after)
    for check in choice.disputed:
        got = sorted({o.got for i in choice.eligible if (o := matrix[i].get(check.id)) is not None and o.got})
        chosen.notes.append(f"None of the {len(choice.eligible)} candidate implementations meets {check.path} line "
                            f"{check.line}: {check.source.splitlines()[0]} (they give {', '.join(got[:3]) or '?'}).")
    traj.event(step, "candidates", count=len(cands), implementation=choice.implementation, tests=choice.tests,
               eligible=choice.eligible, scores=choice.scores, disputed=[c.source for c in choice.disputed],
               matrix={i: {cid: [o.ok, o.got] for cid, o in row.items()} for i, row in matrix.items()})
    return chosen


def example_failures(examples: Sequence[Example], impl_paths: Sequence[str], ws: Workspace, sandbox: Sandbox,
                     python: Path, timeout_s: float) -> list[Missed]:
    """The task's examples that the files now in the worktree do not satisfy."""
    module = examples_module(examples, impl_paths)
    if module is None or not module.checks:
        return []
    outcomes = run_checks(sandbox, python, ws.root, [module], timeout_s)
    failures = []
    told = [ROUND_TRIP_FAILS if ex.derived else EXAMPLE_FAILS for ex in examples]
    for check, prefix in zip(module.checks, told if len(told) == len(module.checks) else [EXAMPLE_FAILS] * len(
            module.checks), strict=True):
        outcome = outcomes.get(check.id)
        if outcome is None or not outcome.ok:
            got = f"; got {outcome.got}" if outcome and outcome.got else "; it did not run"
            returned = outcome.got if outcome and outcome.got and not outcome.raised else None
            failures.append(Missed(f"{prefix}{check.source}{got}", returned))
    return failures
