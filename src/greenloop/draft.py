"""One attempt's reply: the request built from the run's state, one reply (or several, chosen by
execution), its DISPUTE lines, and the files it wrote. Also the commit message."""

from __future__ import annotations

from pathlib import Path

from greenloop import __version__
from greenloop.attempt import ReplyOutcome, apply_reply, prepare_reply, write
from greenloop.candidates import select
from greenloop.config import Settings
from greenloop.context import NAMED_FILE_CHARS, file_view
from greenloop.errors import BudgetExceeded, ModelError
from greenloop.models.meter import MeteredModel
from greenloop.prompts import render
from greenloop.protocols import Sandbox
from greenloop.replies import parse_commit_message
from greenloop.state import State
from greenloop.trajectory import Trajectory
from greenloop.types import Message, Step
from greenloop.workspace import Workspace


def messages_for(step: Step, st: State, ws: Workspace, attempt: int, settings: Settings) -> list[Message]:
    system = render("system", dependencies=st.context.dependencies)
    target = st.target
    if step == "generate":
        user = render("generate", task=st.task, files=st.context.files, named=st.context.named,
                      examples=st.context.examples, target=target, test_path=st.context.suggested_test_path(target),
                      tests_required=settings.require_tests)
    else:
        views = {p: file_view(p, st.ledger.current(p) or "", st.task, NAMED_FILE_CHARS) for p in st.ledger.written()}
        current = [{"path": p, "content": v.text, "whole": v.whole} for p, v in views.items()]
        name = "rewrite" if step == "rewrite" else "fix"
        user = render(name, task=st.task, attempt=attempt - 1, max_attempts=settings.max_iterations,
                      history=st.history, failure=st.failure, current=current, paths=list(views),
                      prefer_whole=settings.fix_format == "whole" or st.edit_failures_in_row >= 2,
                      long_files=[p for p, v in views.items() if not v.whole])
    return [Message("system", system), Message("user", user)]


def commit_message(model: MeteredModel, st: State, diff: str, passed: int, ask_model: bool) -> str:
    files = sorted(st.ledger.changes())
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


def draft(step: Step, st: State, model: MeteredModel, sandbox: Sandbox, ws: Workspace, settings: Settings,
           traj: Trajectory, python: Path, attempt: int) -> tuple[str, ReplyOutcome]:
    """One reply applied; or, with `candidates` > 1, the best of several by execution."""
    messages = messages_for(step, st, ws, attempt, settings)
    first = model.complete(messages, step, settings.retry_temperature if st.stuck else None).text
    count = settings.candidates
    already = set(st.ledger.written())
    created = frozenset(p for p, e in st.ledger.entries.items() if e.original is None)
    if count == 1:
        notes = _disputes(first, st, traj, step)
        outcome = apply_reply(first, ws, settings, already, traj, step, st.target, st.guard, st.task, created)
        outcome.notes.extend(notes)
        return first, outcome
    texts = [first]
    try:
        while len(texts) < count:
            texts.append(model.complete(messages, step, settings.retry_temperature).text)
    except BudgetExceeded:
        pass  # the budget ends the sampling; the candidates so far are still judged
    notes = [n for text in texts for n in _disputes(text, st, traj, step)]
    prepared = [prepare_reply(t, ws, settings, already, traj, step, st.target, st.guard, st.task,
                              created) for t in texts]
    has_tests = not settings.require_tests or bool(st.ledger.tests)
    valid = [o for o in prepared if not o.errors and o.written
             and (has_tests or any(f.is_test for f in o.written.values()))]
    chosen = write((valid or prepared)[0], ws) if len(valid) < 2 else select(
        valid, st.examples, ws, sandbox, python, settings.test_timeout, traj, step, st.ledger.tests)
    chosen.notes.extend(notes)
    return first, chosen


def _disputes(text: str, st: State, traj: Trajectory, step: Step) -> list[str]:
    """A reply's DISPUTE lines. An accepted one drops the assertion from the frozen test, and from the file
    unless the reply sends that file itself. Returns the notes for the next request."""
    if st.guard is None or "DISPUTE" not in text:
        return []
    notes, changed = st.guard.dispute(text, st.examples)
    traj.event(step, "disputes", notes=notes)
    for path in changed:
        st.ledger.entries[path].current = st.guard.frozen[path]
    return notes
