"""The run: the state machine generate -> validate -> record -> test -> redraft/fix/rewrite -> commit. What an
attempt replies is attempts.py's; this module decides the next step from the results."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from greenloop import PROMPT_VERSION, __version__, gitops, runners, typecheck
from greenloop.agree import disputed
from greenloop.attempts import Request, Tools, run_attempt
from greenloop.check import check, reset
from greenloop.config import Settings, redacted
from greenloop.confirm import confirm
from greenloop.context import ProjectContext, gather
from greenloop.draft import commit_message, framings, no_tests, tests_owed
from greenloop.errors import BudgetExceeded, GreenloopError, UsageError
from greenloop.examples import contested, extract, one_parameter_functions
from greenloop.frozen import TestGuard
from greenloop.grade import Graded
from greenloop.jsexamples import node_of
from greenloop.judge import take_baseline
from greenloop.ledger import is_project_test_file
from greenloop.models.meter import MeteredModel
from greenloop.planstep import needs_plan, plan_files
from greenloop.protocols import Model, Sandbox
from greenloop.record import RECORD_VERSION
from greenloop.resume import KeptRun, kept_record, seed
from greenloop.state import State
from greenloop.testrun import failure_signature, test_interpreter
from greenloop.trajectory import Trajectory, runs_dir
from greenloop.types import Attempt, Missed, RunResult, Step
from greenloop.workspace import Workspace

Progress = Callable[..., None]


# outcomes of a first draft that a fresh draft may beat
FAILED_DRAFT = ("tests_failed", "invalid", "format_error", "type_error", "unchanged")


def _next_step(st: State) -> Step:
    last = st.history[-1] if st.history else None
    if last is not None and last.outcome in FAILED_DRAFT and not st.settle:
        if last.step == "generate" and st.drafts == 0 and st.tests_alone and not st.ledger.sources:
            # the one request for tests and code brought the tests alone (the 1.5B model's usual first reply
            # under require_tests): the code comes from a first draft, in the first framing, tests kept
            return "redraft"
        if last.step in ("generate", "redraft") and 0 < st.drafts < len(framings(st)):
            return "redraft"  # a wrong first draft: small models redraft better than they repair (first_reply.py)
        if st.resample and st.missed and (st.drafts or last.step != "generate"):
            # the greedy drafts (or a first fix) still miss the task's own examples: fresh samples chosen by
            # them (draft.py); a fix of such a program was never green in the 1.5B HumanEval run (0 of 12)
            return "resample"
        if st.resample and last.outcome == "unchanged" and not _resampled(st) and (not st.stated or _regressed(st)):
            # the model resends the code its test fails, and no example weighs that dispute (or the code meets the
            # examples and breaks a test of the project): fresh first drafts, chosen by the examples and the tests
            # (a fix asked again rarely changes anything: py_repo_tasks slug, words, negative)
            return "resample"
    sigs = [a.signature for a in st.history]
    if len(sigs) >= 3 and sigs[-1] and sigs[-1] == sigs[-3]:
        return "rewrite"
    return "fix"


def _resampled(st: State) -> bool:
    return any(a.step == "resample" for a in st.history)


def _regressed(st: State) -> bool:
    """The last program judged met the task's examples and broke a test of the project."""
    return st.missed == 0 and st.verdict is not None and bool(st.verdict.regressions)


def _lacking(st: State, settings: Settings) -> list[str]:
    """What the run's files still lack after a valid reply: its tests (when required), or the one new file the
    task names (a small model often sends the tests alone; running them would only say the module is missing)."""
    if (owed := tests_owed(st, settings)) is not None:
        return [no_tests(owed)]
    new = next((f.path for f in st.context.named_sources if f.path == st.named_source and not f.exists), None)
    if new is not None and new not in st.ledger.written():
        return [f"The reply has no implementation: {new} does not exist yet. Send {new} whole, with the code the "
                "task asks for; your tests are kept."]
    return []


def _failed(st: State, traj: Trajectory, attempt: int, step: Step, outcome: str, failure: str,
            summary: str, missed: Missed | None = None, **record: object) -> Step:
    if outcome == "tests_failed":
        st.test_failure = failure
    elif outcome == "unchanged" and st.test_failure:  # the code is the code that failed: show how it failed
        failure += "\n\nThe code still fails as before:\n" + st.test_failure
    st.failure = failure
    st.history.append(Attempt(attempt, step, outcome, summary[:200], failure_signature(failure), missed))  # type: ignore[arg-type]
    if outcome == "tests_failed":  # what a continued run needs to weigh the task's examples as this one did
        record = {**record, "missed": st.missed, "first_missed": None if missed is None else
                  {"line": missed.line, "returned": missed.returned}}
    traj.event(step, "attempt", number=attempt, outcome=outcome, summary=summary, failure=failure, **record)
    return _next_step(st)


def _iterate(st: State, model: MeteredModel, sandbox: Sandbox, ws: Workspace, settings: Settings,
             traj: Trajectory, python: Path, progress: Progress) -> bool:
    tools = Tools(model, sandbox, ws, settings, traj, python)
    step: Step = _next_step(st) if st.history else "generate"  # a continued run goes on from its history
    first = st.history[-1].number + 1 if st.history else 1
    for attempt in range(first, first + settings.max_iterations):
        if st.best.stale >= settings.patience:
            traj.event(step, "early_stop", attempt=attempt, best_attempt=st.best.attempt, patience=settings.patience)
            st.stopped_early = True
            break
        progress(step=step, attempt=attempt)
        outcome = run_attempt(Request(attempt, step, st.settle, st.stuck), st, tools)
        st.settle = False  # once per judged verdict, and agreement_tried makes it once per run
        st.agreement_tried |= outcome.settled
        st.drafts += outcome.drafts
        progress(tokens=model.usage.input_tokens + model.usage.output_tokens)
        st.stuck = outcome.text == st.last_reply or outcome.kind == "unchanged"
        st.last_reply = outcome.text
        st.tests_alone = not outcome.errors and bool(outcome.files) and all(f.is_test for f in outcome.files.values())
        st.warnings.extend(w for w in outcome.warnings + outcome.refused if w not in st.warnings)
        st.ledger.record(outcome.files)
        st.ledger.restore(ws)  # the ledger is the one writer of the run's files
        errors = list(outcome.errors) or _lacking(st, settings)
        if errors:
            st.edit_failures_in_row = st.edit_failures_in_row + 1 if outcome.kind == "edit_error" else 0
            # a reply that rewrites the failing frozen test instead of the code disputes it (agree.disputed)
            st.settle = settings.agreement and settings.candidates == 1 and disputed(st, outcome.rewrote)
            kind = outcome.kind if outcome.kind != "ok" else "invalid"
            step = _failed(st, traj, attempt, step, kind, "\n".join(errors), errors[0].splitlines()[0], errors=errors)
            continue
        st.edit_failures_in_row = 0
        progress(step="test", attempt=attempt)
        extra = "".join("\n" + line for line in outcome.refused + outcome.notes)
        checked = check(st, tools, attempt, step, extra)
        if checked.outcome == "passed":
            st.history.append(Attempt(attempt, step, "passed", checked.summary))
            traj.event(step, "attempt", number=attempt, outcome="passed")
            next_step: Step | None = None
        else:
            record = {"errors": list(checked.errors)} if checked.errors else {}
            next_step = _failed(st, traj, attempt, step, checked.outcome, checked.failure, checked.summary,
                                checked.missed, **record)
        if checked.outcome != "type_error":  # a test run ran (tsc alone writes nothing)
            reset(st, ws, traj)  # the next reply is applied to base + record, never to what the tests left
        if st.verdict is not None:
            counts = st.verdict.counts(st.baseline_or_absent)
            progress(passed=counts["passed"], failed=counts["failed"])
        if next_step is None:
            return True
        step = next_step
    return False


def run(task: str, repo_path: Path, settings: Settings, model: Model, sandbox: Sandbox,
        sandbox_reason: str = "", progress: Progress | None = None, notices: Sequence[str] = (),
        kept: KeptRun | None = None) -> RunResult:
    """One greenloop run. Bad input raises UsageError before anything is written. `notices`: warnings
    found before the run (ignored repository settings, a weakened sandbox) that the summary must carry.
    `kept`: a failed run kept by --keep-failed to go on with (resume.py), in its worktree and trajectory."""
    progress = progress or (lambda **_: None)
    repo = gitops.open_repo(repo_path)
    gitops.ensure_writable(repo)
    gitops.prune_stale(repo)
    model.preflight()
    run_id = gitops.new_run_id() if kept is None else kept.run_id
    traj_path = runs_dir(repo.common_dir) / run_id / "trajectory.jsonl"
    traj = Trajectory(traj_path, run_id)
    start = dict(greenloop_version=__version__, prompt_version=PROMPT_VERSION, config=redacted(settings), task=task,
                 model=model.name, sandbox=sandbox.name, sandbox_reason=sandbox_reason, repo=str(repo.root),
                 record_version=RECORD_VERSION)
    if kept is None:
        traj.event("start", "run_start", **start)
    else:
        traj.event("start", "run_continue", **start)
    metered = MeteredModel(model, traj, settings.max_calls, settings.max_tokens, settings.max_cost,
                           on_text=lambda piece: progress(piece=piece))
    wt = gitops.create_worktree(repo, run_id, task, settings.from_ref) if kept is None else kept.worktree
    traj.event("start", "worktree", path=str(wt.path), branch=wt.branch, base=wt.base_commit)
    status, error, commit, green, interrupted = "failed", None, None, False, False
    graded: Graded | None = None
    usage_error: UsageError | None = None
    st = State(task=task, context=ProjectContext.empty(), warnings=list(dict.fromkeys(notices)),
               resample=settings.resample)
    if sandbox.name != "bwrap":
        st.warnings.append(f"the tests ran in the '{sandbox.name}' sandbox, which does not isolate the file system "
                           f"or the network ({sandbox_reason or 'requested'}); install bubblewrap for a real jail")
    started = time.monotonic()
    ws = Workspace(wt.path)
    python = test_interpreter(repo.root)
    try:
        st.context = gather(wt.path, task, settings.map_tokens)  # inside the try: a failure still removes the worktree
        runner, project = runners.detect(wt.path, repo.root, settings.test_cmd)  # JS: node_modules bound read-only
        st.runner = runner if runner.language != "python" else None
        if st.runner is not None:  # a Python project that carries a package.json needs no node_modules
            sandbox = runners.with_project_modules(sandbox, project, repo.root)
        named = [ex for f in st.context.named if f.exists and f.path.endswith(".py")
                 for ex in extract(f.content, f.path)]
        functions = [n for f in st.context.named if f.exists and f.path.endswith(".py")
                     for n in sorted(one_parameter_functions(f.content))]
        # the task's examples (of a function it may name without parentheses), then its files' doctests
        st.examples = list(dict.fromkeys(extract(task, functions=functions) + named))
        traj.event("context", "context", files=len(st.context.files), named=[f.path for f in st.context.named],
                   examples=[f.path for f in st.context.examples], test_dir=st.context.test_dir,
                   task_examples=[e.assertion for e in st.examples], plan=st.context.plan)
        st.ledger.protect(ws, [p for p in gitops.tracked_files(wt) if is_project_test_file(p)])
        st.guard = TestGuard(st.ledger)
        if kept is not None:
            traj.event("start", "continued", files=seed(st, ws, kept), attempts=len(st.history))
            gitops.reset_worktree(wt.path)  # the baseline is the project's suite at the base commit
        progress(step="baseline", attempt=0)
        st.baseline = take_baseline(sandbox, wt.path, python, settings.test_cmd, settings.test_timeout,
                                    st.runner).named_by(task)
        st.types, notice = typecheck.prepare(project if st.runner else None, node_of(st.runner), sandbox, wt.path,
                                             settings.test_timeout, traj)  # the base commit's tsc errors
        st.warnings.extend([notice] if notice else [])
        if kept is not None:
            reset(st, ws, traj)
        traj.event("baseline", "baseline", status=st.baseline.status, detail=st.baseline.detail,
                   passed=sorted(st.baseline.passed), files=list(st.baseline.files),
                   output=st.baseline.report.output if st.baseline.report else "")
        try:
            if kept is None and needs_plan(st.context):
                progress(step="plan", attempt=0)
                planned = plan_files(task, st.context, metered, traj)
                if planned is None:
                    st.warnings.append("the model's plan could not be ordered (a cycle or an unknown file, twice); "
                                       "the files were written without a plan")
                else:
                    st.context = dataclasses.replace(st.context, plan=list(planned.order))
            green = _iterate(st, metered, sandbox, ws, settings, traj, python, progress)
        except BudgetExceeded as exc:
            error = str(exc)
        if green:
            graded = confirm(st, metered, sandbox, ws, settings, traj, python)
            progress(step="commit_message")
            st.ledger.restore(ws)
            diff = st.ledger.diff()
            message = commit_message(metered, st, diff, st.verdict.report.passed if st.verdict else 0,
                                      settings.commit_message == "model")
            commit = gitops.commit(wt, st.ledger.changes(), message, verify=settings.verify,
                                   committer=(settings.committer_name, settings.committer_email))
            traj.event("commit", "commit", sha=commit, branch=wt.branch, message=message, diff=diff,
                       discarded=st.discarded)
            status = "success"
        else:
            if (doubt := contested(st.history)) is not None:
                st.warnings.append(doubt)
            error = error or f"tests still failing after {len(st.history)} attempt(s)" + (
                f"; stopped early: {settings.patience} attempt(s) in a row did not improve on attempt "
                f"{st.best.attempt}" if st.stopped_early else "") + (
                f"; last failure: {st.history[-1].summary}" if st.history and st.history[-1].summary else "")
    except UsageError as exc:
        status, error, usage_error = "error", str(exc), exc
    except GreenloopError as exc:
        status, error = "error", str(exc)
    except KeyboardInterrupt:
        interrupted = True
        traj.event("end", "interrupted")
        raise
    finally:
        keep = status != "success" and (kept is not None or (not interrupted and settings.keep_failed))
        if keep:  # what is kept is the base commit plus the checked files, nothing a test run left
            st.ledger.reset(ws)
            if kept is None:
                gitops.mark_kept(repo, run_id)
        else:
            gitops.remove_worktree(repo, wt, delete_branch=status != "success")
            if kept is not None:
                kept_record(repo, run_id).unlink(missing_ok=True)
        if interrupted:
            traj.close()
    baseline = st.baseline_or_absent
    counts = st.verdict.counts(baseline) if st.verdict else {
        "passed": 0, "failed": 0, "new_passed": 0, "new_failed": 0, "baseline_passed": len(baseline.passed),
        "regressions": 0}
    if st.discarded:
        st.warnings.append("not committed (created or changed by the test runs, not by the checked reply): "
                           + ", ".join(st.discarded[:20]))
    if st.guard is not None:
        st.warnings.extend(f"disputed assertion dropped: {d}" for d in st.guard.accepted)
    result = RunResult(
        status=status, run_id=run_id, branch=wt.branch if status == "success" or keep else None,  # type: ignore[arg-type]
        commit=commit, attempts=len(st.history), files=tuple(st.ledger.changes() or st.ledger.written()),
        tests=counts, warnings=tuple(dict.fromkeys(st.warnings)), calls=metered.usage.calls,
        input_tokens=metered.usage.input_tokens, output_tokens=metered.usage.output_tokens,
        trajectory=str(traj_path), error=error, sandbox=sandbox.name,
        baseline=f"{baseline.status}: {baseline.detail}",
        regressed=st.verdict.regressions if st.verdict else (), discarded=tuple(st.discarded),
        cost_usd=metered.usage.cost_usd if metered.usage.calls else None,
        quality=graded.quality if graded else {}, evidence=graded.evidence if graded and status == "success" else None,
        evidence_why=graded.why() if graded and status == "success" else "")
    traj.event("end", "run_end", seconds=round(time.monotonic() - started, 3), summary=result.summary())
    traj.close()
    if usage_error is not None:
        raise usage_error
    return result
