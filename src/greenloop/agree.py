"""Broken test or broken code, decided by evidence. When the program meets every example of the task (or the
task has none) and breaks nothing, but one of the run's own tests fails, the test may be what is wrong (small
models often write wrong expectations). Instead of "fixing" code that may be right, a second implementation is
sampled from the lean prompt and both are run against every assertion (CodeT's dual agreement, candidates.py):
- the second one meets the examples and more of the tests: it replaces the first;
- both meet every example and neither meets an assertion: two independent implementations that satisfy the
  task disagree with that assertion, so it is dropped from the frozen tests (recorded, shown as a warning) —
  unless one of them raised on it, or before it, instead of returning a value (a crash is no witness);
- a task with no example has no anchor of its own, so the tests must give one: an `assert f(...) == literal` is
  dropped only when both return one and the same other value on it and both meet another `assert f(...) ==
  literal` of the run's tests on the same function (HumanEval/50: right code, two wrong hand-computed expectations
  beside a right one; py_repo_tasks `words`: two wrong implementations agreed against the test's one assert,
  which was right); and a second implementation that is the first one again (but for comments, docstrings,
  layout and names) is no second witness there;
- otherwise nothing is decided and the loop asks for a fix as usual.
An assertion that restates a task example can never be dropped (frozen.TestGuard.dispute)."""

from __future__ import annotations

import ast
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from greenloop.attempt import ReplyOutcome, prepare_reply
from greenloop.candidates import Matrix, choose, cross_check, passed_checks
from greenloop.config import Settings
from greenloop.draft import implement_messages, loosen
from greenloop.edits import AppliedFile
from greenloop.models.meter import MeteredModel
from greenloop.probe import Check
from greenloop.protocols import Sandbox
from greenloop.state import State
from greenloop.trajectory import Trajectory
from greenloop.workspace import Workspace

UNJUDGED = ("format_error", "edit_error", "invalid", "refused", "unchanged")  # replies no test run judged
SAMPLES = 3  # samples asked for until one is a valid program that meets every task example (HumanEval/110 with
# the 1.5B: its two samples missed an example, and right code lost to a wrong test)


@dataclass
class Agreement:
    outcome: ReplyOutcome  # what to record: the second implementation if it won, else nothing
    dropped: list[str] = field(default_factory=list)  # "path: assert ..." dropped by agreement
    text: str = ""  # the sampled reply

    @property
    def decided(self) -> bool:
        return bool(self.outcome.written or self.dropped)


def applies(st: State, examples_missed: int, regressions: int, new_failed: int, signature: str) -> bool:
    """Every task example met, nothing broken, only the run's own tests failing, and not tried yet. A task with
    no example has no anchor of its own: there the model must have come back to the same failure (`signature`,
    testrun.failure_signature) in an earlier attempt of the run, its way of disputing the test (HumanEval/38,
    /50), before a sample is spent on it; a fix that fails otherwise is worked on as usual."""
    repeated = any(a.outcome == "tests_failed" and a.signature == signature for a in st.history)
    return _open(st, examples_missed, regressions, new_failed) and (st.stated or repeated)


def _open(st: State, examples_missed: int, regressions: int, new_failed: int) -> bool:
    """What both ways of disputing a test need: the program meets every task example and breaks no test of the
    project, only the run's own tests fail, and agreement was not tried in this run yet."""
    return (examples_missed == 0 and regressions == 0 and new_failed > 0 and not st.agreement_tried
            and st.guard is not None)


def disputed(st: State, rewrote: Sequence[str]) -> bool:
    """A reply refused for rewriting frozen tests (`rewrote`, path::name), one of which fails on the program as
    judged, disputes that test as plainly as the code sent again (py_repo_tasks chunk with the 1.5B: right code,
    one wrong expectation among 28 asserts, and three fix requests answered with that test rewritten): the same
    agreement as after a repeated failure applies. Only right after a program judged failing (tests_failed): after a
    tampering or vacuous run the verdict is not that of the code the ledger holds."""
    judged = [a for a in st.history if a.outcome not in UNJUDGED]
    verdict = st.verdict
    if verdict is None or verdict.green or not judged or judged[-1].outcome != "tests_failed":
        return False
    failing = [o.id.split("[")[0] for o in verdict.new if o.status in ("failed", "error")]
    hit = any(f == t or f.startswith(f"{t}::") for f in failing for t in rewrote)
    return hit and _open(st, st.missed, len(verdict.broken(st.frozen_ids)), len(failing))


def _current(st: State) -> ReplyOutcome:
    out = ReplyOutcome()
    out.written = {p: AppliedFile(p, e.original, e.current, False) for p, e in st.ledger.entries.items()
                   if not e.is_test}
    return out


def _assert_of(check: Check) -> ast.Assert | None:
    """The check as one assert statement, else None."""
    try:
        tree = ast.parse(check.source.strip())
    except SyntaxError:
        return None
    node = tree.body[0] if len(tree.body) == 1 else None
    return node if isinstance(node, ast.Assert) else None


def _one_line(check: Check) -> str | None:
    node = _assert_of(check)
    return ast.unparse(node) if node is not None else None


def _no_witness(st: State, matrix: Matrix, eligible: list[int], check: Check, anchors: list[Check]) -> str:
    """Why the implementations are no witness against the check, or "" when they are."""
    if _raised(matrix, eligible, check):
        return "an implementation raised on it, or before it so that it never ran: a crash is no witness"
    if st.stated:
        return ""
    callee = _call_to_literal(check)
    if callee is None:
        return ("the task has no example, and it is no `assert call(...) == literal`: what the implementations "
                "returned is not known")
    if not _same_value(matrix, eligible, check):
        return "the task has no example, and the implementations do not return one and the same other value"
    if not any(_call_to_literal(a) == callee for a in anchors if a.source != check.source):
        return (f"the task has no example, and the implementations meet no other `assert {callee}(...) == literal` "
                "of the tests together: nothing anchors them")
    return ""


def _call_to_literal(check: Check) -> str | None:
    """The name of the function an `assert f(literals) == literal` calls, else None. The probe records the left
    side's value, so the call must be there; its arguments must be literals, so that the assert checks one case
    (one in a loop or a helper checks many, and dropping it would drop them all); a literal None is what a stub
    returns."""
    node = _assert_of(check)
    test = node.test if node is not None else None
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq)
            and isinstance(test.left, ast.Call)):
        return None
    try:
        if ast.literal_eval(test.comparators[0]) is None:
            return None
        for arg in [*test.left.args, *(k.value for k in test.left.keywords)]:
            ast.literal_eval(arg)
    except (ValueError, TypeError, RecursionError):  # no literal (an unhashable key, nesting too deep)
        return None
    func = test.left.func
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None


def _same_value(matrix: Matrix, eligible: list[int], check: Check) -> bool:
    """Every implementation gave one and the same value on the check."""
    got = {o.got if (o := matrix[i].get(check.id)) is not None and not o.raised and o.got else None
           for i in eligible}
    return len(got) == 1 and None not in got


def _anchors(matrix: Matrix, eligible: list[int], tests: list[Check], disputed: list[Check]) -> list[Check]:
    """The assertions of the run's tests, not disputed, that every implementation meets."""
    disputed_ids = {c.id for c in disputed}
    ids = [c.id for c in tests if c.id not in disputed_ids]
    met = frozenset.intersection(*(passed_checks(matrix[i], ids) for i in eligible))
    return [c for c in tests if c.id in met]


def _same_program(sample: ReplyOutcome) -> bool:
    """The sample's files are the recorded ones but for comments, docstrings, layout and the names of variables
    and parameters (the 1.5B model resends its own code with a comment changed)."""
    return all(_normal(f.path, f.before) == _normal(f.path, f.after) for f in sample.written.values())


def _normal(path: str, text: str | None) -> str | None:
    if text is None or not path.endswith(".py"):
        return text
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return text
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            node.id = "_"
        elif isinstance(node, ast.arg):
            node.arg = "_"
        body = getattr(node, "body", None)
        if (isinstance(body, list) and body and isinstance(body[0], ast.Expr)
                and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str)):
            node.body = body[1:]  # type: ignore[attr-defined]
    return ast.dump(tree)


def _raised(matrix: Matrix, eligible: list[int], check: Check) -> bool:
    """An implementation raised on the check, or before it (the check never ran), instead of giving a value: it
    is no witness that the expected value is wrong (HumanEval/70 with the 1.5B: both samples raised on an
    odd-length list, and agreement dropped the right assert that showed it)."""
    return any((o := matrix[i].get(check.id)) is None or o.raised for i in eligible)


def _sample(st: State, model: MeteredModel, ws: Workspace, settings: Settings, traj: Trajectory,
            step: str) -> tuple[str, ReplyOutcome, bool]:
    """A second implementation from the lean prompt at retry_temperature, its tests set aside; and whether it
    is the current program again (a second vote for it where the task's examples anchor it, returned as the
    current program)."""
    text = model.complete(implement_messages(st), "generate", settings.retry_temperature).text
    created = frozenset(p for p, e in st.ledger.entries.items() if e.original is None)
    sample = prepare_reply(text, ws, settings, set(st.ledger.written()), traj, step, st.reply_target, st.guard,
                           st.task, created, originals=st.ledger.originals())
    sample.written = {p: f for p, f in sample.written.items() if not f.is_test}
    same = sample.kind == "unchanged"
    return text, _current(st) if same else sample, same


def settle(st: State, model: MeteredModel, sandbox: Sandbox, ws: Workspace, settings: Settings,
           traj: Trajectory, python: Path, step: str) -> Agreement:
    """One more lean implementation, cross-checked with the current one (see the module's doc). The chosen
    one is returned, not written (attempts.py). A sample that is not a program (the 1.5B model once sent
    only a fence around the file's name), or one that misses a task example, is no witness either way: one
    more is asked for (HumanEval/110: the one sample missed an example, and right code then lost to a wrong
    test)."""
    for n in range(SAMPLES):
        if n:  # the recorded program back on disk: the next sample is compared with it, not with the last one
            st.ledger.restore(ws)
        text, sample, same = _sample(st, model, ws, settings, traj, step)
        if not sample.written or sample.errors:
            traj.event(step, "agreement", decided=False, why="the second implementation is not valid",
                       errors=sample.errors)
            continue
        if not st.stated and (same or _same_program(sample)):  # the model stands by its program: no more asked
            traj.event(step, "agreement", decided=False, why="the task has no example, and the second "
                       "implementation is the same program: no second witness")
            return Agreement(ReplyOutcome(), text=text)
        cands = [_current(st), sample]
        matrix, modules, example_module = cross_check(cands, st.examples, ws, sandbox, python,
                                                      settings.test_timeout, st.ledger.tests)
        checks = {i: [c for m in ms for c in m.checks] for i, ms in modules.items()}
        example_ids = [c.id for c in example_module.checks] if example_module else []
        choice = choose(matrix, checks, example_ids)
        if 1 in choice.eligible or n == SAMPLES - 1:
            break
        traj.event(step, "agreement", decided=False, why="the second implementation misses a task example",
                   eligible=choice.eligible)
    else:
        return Agreement(ReplyOutcome(), text=text)
    result = Agreement(ReplyOutcome(), text=text)
    if choice.implementation == 1 and not same:
        result.outcome = sample
    anchors = _anchors(matrix, choice.eligible, checks.get(-1, []), choice.disputed)
    kept = {c.id: why for c in choice.disputed if (why := _no_witness(st, matrix, choice.eligible, c, anchors))}
    disputes = [line for c in choice.disputed if c.id not in kept and (line := _one_line(c))]
    refused = [f"{c.path}: {line} ({kept[c.id]})" for c in choice.disputed if c.id in kept and (line := _one_line(c))]
    if disputes and st.guard is not None:
        notes = st.guard.dispute("\n".join(f"DISPUTE: {d}" for d in disputes), st.examples)
        result.dropped = [f"{path}: `{target}`" for path, target in st.guard.last]
        loosen(st)
        refused += [n.removeprefix("dispute refused: ") for n in notes if n.startswith("dispute refused")]
    traj.event(step, "agreement", decided=result.decided, implementation=choice.implementation,
               eligible=choice.eligible, scores=choice.scores, dropped=result.dropped,
               refused=refused,
               matrix={i: {cid: [o.ok, o.got] for cid, o in row.items()} for i, row in matrix.items()})
    return result
