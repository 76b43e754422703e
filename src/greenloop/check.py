"""One attempt's check: the run's recorded files, put on disk by the ledger, judged in the jail: tsc for a
TypeScript project, the red run of tests not yet frozen, the project's command, the task's own examples, and
tampering. A test failing in its own code is released from the freeze and named (blame.py); a program worse than
the best so far is undone (best.py). The result says what happened; the loop decides what comes next."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from greenloop import gitops, typecheck
from greenloop.agree import applies
from greenloop.attempts import Tools
from greenloop.best import Score, score
from greenloop.blame import broken_tests, broken_text
from greenloop.candidates import example_failures
from greenloop.jsexamples import js_example_failures, node_of
from greenloop.judge import Verdict, judge, red_run
from greenloop.outline import top_level_names
from greenloop.protocols import Sandbox
from greenloop.roundtrip import refute
from greenloop.state import State
from greenloop.testrun import failure_signature, failure_summary
from greenloop.trajectory import Trajectory
from greenloop.types import Missed, Step
from greenloop.workspace import Workspace


@dataclass(frozen=True)
class Checked:
    outcome: str  # passed | tests_failed | vacuous_tests | tampered | type_error
    failure: str = ""  # what goes back to the model
    summary: str = ""  # one line for the history
    errors: tuple[str, ...] = ()
    missed: Missed | None = None  # the first task example the program missed


def _example_failures(st: State, sandbox: Sandbox, ws: Workspace, python: Path, timeout_s: float) -> list[Missed]:
    impl = st.ledger.sources
    if st.examples and (node := node_of(st.runner)) is not None:  # a Node project: the examples run in node
        return js_example_failures(st.examples, impl, ws, sandbox, node, timeout_s)
    return example_failures(st.examples, impl, ws, sandbox, python, timeout_s) if st.examples else []


def reset(st: State, ws: Workspace, traj: Trajectory) -> None:
    """Before every test run: the worktree is its base commit plus the run's recorded files, nothing else
    (a conftest.py or link that an earlier test run planted is gone)."""
    traj.event("test", "reset", restored=st.ledger.reset(ws))


def check(st: State, tools: Tools, attempt: int, step: Step, extra: str) -> Checked:
    """The recorded files checked: tsc (a TypeScript project), the red run of tests not yet frozen, the verdict,
    the task's examples, tampering. `extra`: lines the failure carries back (refused files, notes)."""
    sandbox, ws, settings, traj, python = tools.sandbox, tools.ws, tools.settings, tools.traj, tools.python
    if (typed := _type_check(st, tools, step)):
        return Checked("type_error", typed.failure() + extra, typed.errors[0].splitlines()[0], tuple(typed.errors))
    reset(st, ws, traj)
    fresh = [p for p in st.ledger.tests if st.red_checked.get(p) != st.ledger.current(p)]
    if fresh:
        red = red_run(sandbox, ws, python, st.ledger, fresh, settings.test_timeout, st.runner)
        reset(st, ws, traj)
        traj.event("test", "red_run", tests=fresh, vacuous=list(red.vacuous),
                   output=red.report.output if red.report else "")
        if red.vacuous:
            failure = ("These tests check nothing: replace them with tests that fail without your implementation "
                       "and pass with it.\n" + "\n".join(f"- {v}" for v in red.vacuous))
            return Checked("vacuous_tests", failure, red.vacuous[0])
        st.red_checked.update({p: st.ledger.current(p) or "" for p in fresh})
    verdict = judge(sandbox, ws.root, python, settings.test_cmd, settings.test_timeout, st.baseline_or_absent,
                    st.ledger.tests, st.frozen_ids, st.runner)
    st.verdict = verdict
    report = verdict.report
    if st.guard is not None:  # a test file is frozen once it ran: collected, not a module that failed to import
        ran = [p for p in st.ledger.tests if p not in st.guard.frozen and any(
            o.file == p and not o.id.endswith("::<collection>") for o in verdict.new)]
        st.guard.freeze(ran)
        st.frozen_ids |= {o.id for o in verdict.new if o.file in ran and not o.id.endswith("::<collection>")}
    traj.event("test", "test_run", command=list(report.command), exit_code=report.exit_code,
               passed=report.passed, failed=report.failed, errors=report.errors, timed_out=report.timed_out,
               seconds=round(report.duration_s, 3), output=report.output, regressions=list(verdict.regressions),
               new=[[o.id, o.status] for o in verdict.new])
    st.discarded = [p for p in gitops.dirty_paths(ws.root) if p not in st.ledger.changes()]
    missed: list[Missed] = []
    tampered = st.ledger.drifted(ws)
    if st.examples and not tampered:
        reset(st, ws, traj)
        missed = _example_failures(st, sandbox, ws, python, settings.test_timeout)
        tampered = st.ledger.drifted(ws)
        if not (missed or tampered or verdict.green) and refute(st, ws, sandbox, python, settings.test_timeout, traj):
            return check(st, tools, attempt, step, extra)  # a model assert the round trips refute is gone: again
    if tampered:
        reset(st, ws, traj)
        failure = ("The test run changed files that judge the work or that were checked: "
                   f"{', '.join(tampered)}. Tests must not write to the project's files; that run does not count.")
        return Checked("tampered", failure, failure)
    st.missed = len(missed)
    lines = [m.line for m in missed]
    if missed:
        traj.event("test", "task_examples", failures=lines)
    if verdict.green and not missed:
        return Checked("passed", summary=f"{report.passed} passed")
    failure = "\n\n".join(["\n".join(lines)] * bool(missed) + [verdict.failure] * (not verdict.green)) + extra
    broken = verdict.broken(st.frozen_ids)
    broke = len(broken)
    summary = lines[0] if missed else (f"broke {broke} existing test(s): {', '.join(broken[:3])}" if broken
                                        else failure_summary(report))
    failure = _blame(st, verdict, traj) + failure
    signature = failure_signature(failure)  # how this attempt's program failed, even if it is undone below
    failure = _keep_best(st, traj, attempt, score(verdict, len(st.examples), len(missed), broke), failure)
    counts = verdict.counts(st.baseline_or_absent)
    # with candidates, every attempt already cross-checks several implementations (candidates.py)
    st.settle = settings.agreement and settings.candidates == 1 and applies(st, len(missed), broke,
                                                                             counts["new_failed"], signature)
    return Checked("tests_failed", failure, summary, missed=missed[0] if missed else None)


def _blame(st: State, verdict: Verdict, traj: Trajectory) -> str:
    """Tests that fail in their own code are released from the freeze and named as broken (blame.py)."""
    api = [name for path in st.ledger.sources if path.endswith(".py")
           for name in top_level_names(st.ledger.entries[path].current) or ()]
    broken = broken_tests(verdict.new, st.ledger.tests, api)
    if not broken or st.guard is None:
        return ""
    for path in {b.file for b in broken}:
        st.guard.release(path, [b.id.split("::")[1].split("[")[0] for b in broken if b.file == path])
    st.frozen_ids -= {b.id for b in broken}
    traj.event("test", "broken_tests", tests=[b.id for b in broken], where=[b.where for b in broken])
    return broken_text(broken) + "\n\n"


def _keep_best(st: State, traj: Trajectory, attempt: int, new: Score, failure: str) -> str:
    """An attempt worse than the best so far is undone: the next request starts from the best version."""
    if st.best.consider(attempt, new, st.ledger, failure):
        st.best.verdict = st.verdict
        return failure
    undone = st.best.restore_into(st.ledger)
    st.verdict = st.best.verdict
    n = len(st.examples)
    best = st.best.score
    traj.event("test", "undone", attempt=attempt, best_attempt=st.best.attempt, paths=undone,
               score=vars(new), best=vars(best) if best else None)
    return (f"Attempt {attempt} made things worse ({new.describe(n)}, against {best.describe(n) if best else '?'} "
            f"for attempt {st.best.attempt}), so its changes to {', '.join(undone) or 'the code'} were undone. The "
            f"files are attempt {st.best.attempt}'s version again, which failed with:\n{st.best.failure}")


def _type_check(st: State, tools: Tools, step: Step) -> typecheck.Checked | None:
    """tsc on base + the run's files (typecheck.py); its notice joins the run's warnings once."""
    if st.types is None:
        return None
    reset(st, tools.ws, tools.traj)
    checked = st.types.check(tools.sandbox, tools.ws.root, st.ledger.written(), tools.settings.test_timeout,
                             tools.traj, step)
    if checked.notice and checked.notice not in st.warnings:
        st.warnings.append(checked.notice)
    return checked if checked.errors else None


