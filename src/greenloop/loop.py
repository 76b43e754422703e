"""The run: the state machine generate -> validate -> write -> test -> fix/rewrite -> commit."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from greenloop import PROMPT_VERSION, __version__, gitops
from greenloop.attempt import ReplyOutcome, apply_reply, prepare_reply, write
from greenloop.candidates import example_failures, select
from greenloop.config import Settings, redacted
from greenloop.context import ProjectContext, gather
from greenloop.errors import BudgetExceeded, GreenloopError, ModelError
from greenloop.examples import Example, extract
from greenloop.models.meter import MeteredModel
from greenloop.prompts import render
from greenloop.protocols import Model, Sandbox
from greenloop.replies import is_test_path, parse_commit_message
from greenloop.testrun import failure_signature, failure_summary, for_prompt, run_tests, test_argv, test_interpreter
from greenloop.trajectory import Trajectory, runs_dir
from greenloop.types import Attempt, Message, RunResult, Step, TestReport
from greenloop.workspace import Workspace

Progress = Callable[..., None]


@dataclass
class State:
    task: str
    context: ProjectContext
    history: list[Attempt] = field(default_factory=list)
    files: dict[str, bool] = field(default_factory=dict)  # path -> is_test
    warnings: list[str] = field(default_factory=list)
    last_report: TestReport | None = None
    failure: str = ""
    edit_failures_in_row: int = 0
    last_reply: str = ""
    stuck: bool = False  # the last reply changed nothing or repeated the one before: sample the next
    examples: list[Example] = field(default_factory=list)  # the task's own examples, checked on every green

    @property
    def target(self) -> str | None:
        """The one implementation file the task names, if it names exactly one."""
        named = [f.path for f in self.context.named if f.path.endswith(".py") and not is_test_path(f.path)]
        return named[0] if len(named) == 1 else None


def _messages(step: Step, st: State, ws: Workspace, attempt: int, settings: Settings) -> list[Message]:
    system = render("system", dependencies=st.context.dependencies)
    target = st.target
    if step == "generate":
        user = render("generate", task=st.task, files=st.context.files, named=st.context.named,
                      examples=st.context.examples, target=target, test_path=st.context.suggested_test_path(target),
                      tests_required=settings.require_tests)
    else:
        current = [{"path": p, "content": ws.read_text(p) or ""} for p in st.files]
        name = "rewrite" if step == "rewrite" else "fix"
        user = render(name, task=st.task, attempt=attempt - 1, max_attempts=settings.max_iterations,
                      history=st.history, failure=st.failure, current=current, paths=list(st.files),
                      prefer_whole=settings.fix_format == "whole" or st.edit_failures_in_row >= 2)
    return [Message("system", system), Message("user", user)]


def _next_step(st: State) -> Step:
    sigs = [a.signature for a in st.history]
    if len(sigs) >= 3 and sigs[-1] and sigs[-1] == sigs[-3]:
        return "rewrite"
    return "fix"


def _commit_message(model: MeteredModel, st: State, diff: str, passed: int, ask_model: bool) -> str:
    files = sorted(st.files)
    body = "Files:\n" + "\n".join(f"- {f}" for f in files) + f"\n\nTests: {passed} passed."
    text = ""
    if ask_model:
        try:
            prompt = render("commit_message", task=st.task, files=files, passed=passed, diff=diff[:6000])
            text = model.complete([Message("user", prompt)], "commit_message").text
        except (BudgetExceeded, ModelError):
            pass  # the template below is the documented fallback
    message = parse_commit_message(text)
    if message is None:
        subject = f"feat: {st.task.strip().splitlines()[0]}"
        message = subject if len(subject) <= 72 else subject[:69].rstrip() + "..."
    if "Files:" not in message:
        message += "\n\n" + body
    return f"{message}\n\nGenerated-by: greenloop {__version__} ({model.name})\n"


def _draft(step: Step, st: State, model: MeteredModel, sandbox: Sandbox, ws: Workspace, settings: Settings,
           traj: Trajectory, python: Path, attempt: int) -> tuple[str, ReplyOutcome]:
    """One reply applied; or, with `candidates` > 1, the best of several by execution."""
    messages = _messages(step, st, ws, attempt, settings)
    first = model.complete(messages, step, settings.retry_temperature if st.stuck else None).text
    count = settings.candidates
    if count == 1:
        return first, apply_reply(first, ws, settings, set(st.files), traj, step, st.target)
    texts = [first]
    try:
        while len(texts) < count:
            texts.append(model.complete(messages, step, settings.retry_temperature).text)
    except BudgetExceeded:
        pass  # the budget ends the sampling; the candidates so far are still judged
    prepared = [prepare_reply(t, ws, settings, set(st.files), traj, step, st.target) for t in texts]
    has_tests = not settings.require_tests or any(st.files.values())
    valid = [o for o in prepared if not o.errors and o.written
             and (has_tests or any(f.is_test for f in o.written.values()))]
    if len(valid) < 2:
        return first, write((valid or prepared)[0], ws)
    return first, select(valid, st.examples, ws, sandbox, python, settings.test_timeout, traj, step,
                         [p for p, is_test in st.files.items() if is_test])


def _example_failures(st: State, sandbox: Sandbox, ws: Workspace, python: Path, timeout_s: float) -> list[str]:
    impl = [p for p, is_test in st.files.items() if not is_test]
    return example_failures(st.examples, impl, ws, sandbox, python, timeout_s) if st.examples else []


def _iterate(st: State, model: MeteredModel, sandbox: Sandbox, ws: Workspace, settings: Settings,
             traj: Trajectory, python: Path, progress: Progress) -> bool:
    step: Step = "generate"
    for attempt in range(1, settings.max_iterations + 1):
        progress(step=step, attempt=attempt)
        text, outcome = _draft(step, st, model, sandbox, ws, settings, traj, python, attempt)
        progress(tokens=model.usage.input_tokens + model.usage.output_tokens)
        st.stuck = text == st.last_reply or outcome.kind == "unchanged"
        st.last_reply = text
        st.warnings.extend(w for w in outcome.warnings + outcome.refused if w not in st.warnings)
        st.files.update({p: f.is_test or st.files.get(p, False) for p, f in outcome.written.items()})
        tests = [p for p, is_test in st.files.items() if is_test]
        if outcome.errors or (not tests and settings.require_tests):
            errors = outcome.errors or ["The reply has no test file. Write the tests first, in tests/test_*.py."]
            st.edit_failures_in_row = st.edit_failures_in_row + 1 if outcome.kind == "edit_error" else 0
            st.failure = "\n".join(errors)
            kind = outcome.kind if outcome.kind != "ok" else "invalid"
            st.history.append(Attempt(attempt, step, kind, errors[0].splitlines()[0][:200],  # type: ignore[arg-type]
                                      failure_signature(st.failure)))
            traj.event(step, "attempt", number=attempt, outcome=kind, errors=errors)
            step = _next_step(st)
            continue
        st.edit_failures_in_row = 0
        progress(step="test", attempt=attempt)
        argv = test_argv(settings.test_cmd, tests, python)
        report = run_tests(sandbox, argv, ws.root, settings.test_timeout)
        st.last_report = report
        traj.event("test", "test_run", command=list(report.command), exit_code=report.exit_code,
                   passed=report.passed, failed=report.failed, errors=report.errors,
                   timed_out=report.timed_out, seconds=round(report.duration_s, 3), output=report.output)
        progress(passed=report.passed, failed=report.failed + report.errors)
        missed = _example_failures(st, sandbox, ws, python, settings.test_timeout) if report.green else []
        if missed:
            traj.event("test", "task_examples", failures=missed)
        if report.green and not missed:
            st.history.append(Attempt(attempt, step, "passed", f"{report.passed} passed"))
            traj.event(step, "attempt", number=attempt, outcome="passed")
            return True
        extra = "".join("\n" + line for line in outcome.refused + outcome.notes)
        st.failure = "\n".join(missed) if missed else for_prompt(report.output) + extra
        st.history.append(Attempt(attempt, step, "tests_failed", missed[0] if missed else failure_summary(report),
                                  failure_signature(st.failure)))
        traj.event(step, "attempt", number=attempt, outcome="tests_failed", summary=st.history[-1].summary)
        step = _next_step(st)
    return False


def run(task: str, repo_path: Path, settings: Settings, model: Model, sandbox: Sandbox,
        sandbox_reason: str = "", progress: Progress | None = None, notices: Sequence[str] = ()) -> RunResult:
    """One greenloop run. Bad input raises UsageError before anything is written. `notices`: warnings
    found before the run (ignored repository settings, a weakened sandbox) that the summary must carry."""
    progress = progress or (lambda **_: None)
    repo = gitops.open_repo(repo_path)
    gitops.ensure_writable(repo)
    gitops.prune_stale(repo)
    model.preflight()
    run_id = gitops.new_run_id()
    traj_path = runs_dir(repo.common_dir) / run_id / "trajectory.jsonl"
    traj = Trajectory(traj_path, run_id)
    traj.event("start", "run_start", greenloop_version=__version__, prompt_version=PROMPT_VERSION,
               config=redacted(settings), task=task, model=model.name, sandbox=sandbox.name,
               sandbox_reason=sandbox_reason, repo=str(repo.root))
    metered = MeteredModel(model, traj, settings.max_calls, settings.max_tokens)
    wt = gitops.create_worktree(repo, run_id, task, settings.from_ref)
    traj.event("start", "worktree", path=str(wt.path), branch=wt.branch, base=wt.base_commit)
    status, error, commit, green, interrupted = "failed", None, None, False, False
    st = State(task=task, context=ProjectContext.empty(), warnings=list(dict.fromkeys(notices)))
    started = time.monotonic()
    try:
        st.context = gather(wt.path, task)  # inside the try: a failure here still removes the worktree
        named = [ex for f in st.context.named if f.exists and f.path.endswith(".py")
                 for ex in extract(f.content, f.path)]
        st.examples = list(dict.fromkeys(extract(task) + named))  # the task's, then its files' doctests
        traj.event("context", "context", files=len(st.context.files), named=[f.path for f in st.context.named],
                   examples=[f.path for f in st.context.examples], test_dir=st.context.test_dir,
                   task_examples=[e.assertion for e in st.examples])
        try:
            green = _iterate(st, metered, sandbox, Workspace(wt.path), settings, traj,
                             test_interpreter(repo.root), progress)
        except BudgetExceeded as exc:
            error = str(exc)
        if green:
            progress(step="commit_message")
            diff = gitops.diff_of(wt, sorted(st.files))
            message = _commit_message(metered, st, diff, st.last_report.passed if st.last_report else 0,
                                      settings.commit_message == "model")
            commit = gitops.commit(wt, sorted(st.files), message, verify=settings.verify,
                                   committer=(settings.committer_name, settings.committer_email))
            traj.event("commit", "commit", sha=commit, branch=wt.branch, message=message, diff=diff)
            status = "success"
        elif error is None:
            error = f"tests still failing after {len(st.history)} attempt(s)"
    except GreenloopError as exc:
        status, error = "error", str(exc)
    except KeyboardInterrupt:
        interrupted = True
        traj.event("end", "interrupted")
        raise
    finally:
        keep = not interrupted and status != "success" and settings.keep_failed
        if keep:
            gitops.mark_kept(repo, run_id)
        else:
            gitops.remove_worktree(repo, wt, delete_branch=status != "success")
        if interrupted:
            traj.close()
    report = st.last_report
    result = RunResult(
        status=status, run_id=run_id, branch=wt.branch if status == "success" or keep else None,  # type: ignore[arg-type]
        commit=commit, attempts=len(st.history), files=tuple(sorted(st.files)),
        tests_passed=report.passed if report else 0, tests_failed=(report.failed + report.errors) if report else 0,
        warnings=tuple(st.warnings), calls=metered.usage.calls, input_tokens=metered.usage.input_tokens,
        output_tokens=metered.usage.output_tokens, trajectory=str(traj_path), error=error)
    traj.event("end", "run_end", seconds=round(time.monotonic() - started, 3), summary=result.summary())
    traj.close()
    return result
