"""An attempt's reply: the request built from the run's state, one reply (or several, chosen by execution),
its DISPUTE lines, and the files it would write (attempts.py owns the attempt). Also the commit message."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Literal

from greenloop import __version__, roundtrip
from greenloop.attempt import ReplyOutcome, prepare_reply
from greenloop.candidates import select
from greenloop.config import Settings
from greenloop.context import NAMED_FILE_CHARS, SourceFile, file_view
from greenloop.cutoff import salvage
from greenloop.errors import BudgetExceeded, ModelError
from greenloop.examples import module_name
from greenloop.exampletests import example_tests
from greenloop.frozen import test_functions
from greenloop.ledger import is_project_test_file
from greenloop.maptags import is_js
from greenloop.models.meter import MeteredModel
from greenloop.outline import parse_module
from greenloop.prompts import render
from greenloop.protocols import Sandbox
from greenloop.replies import parse_commit_message
from greenloop.runners.project import Project
from greenloop.state import State
from greenloop.trajectory import Trajectory
from greenloop.types import Message, Step
from greenloop.validate import unwritten
from greenloop.workspace import Workspace

# A designed test file is a copy of a project test file it was shown when at least MIN_COPIED of its distinct lines
# (of over 3 characters), and COPIED_SHARE of them, are lines of that file. The 0.5B's copies of HumanEval's doctest
# runner: 26-31 such lines, 45-100%; the 1.5B's 82 HumanEval designs: at most 1; its py_repo_tasks designs at most
# 4 of 13 (the project's imports and fixtures: its style, not a copy). A file with a test the project's lacks is
# never a copy (it extends the project's tests, or reuses their fixtures).
MIN_COPIED = 12
COPIED_SHARE = 0.4


def messages_for(step: Step, st: State, ws: Workspace, attempt: int, settings: Settings, only: str | None = None,
                 done: Sequence[Mapping[str, str]] = (), last: bool = True, nth: int = 0) -> list[Message]:
    """The request of `step`. `only`, `done`, `last`: a plan written file by file (planwrite.py) asks for the
    file `only`, shows the files written before it, and asks for the tests with the `last` one. `nth`: the
    how-manieth first draft of this attempt (each takes the next framing)."""
    target = st.named_source  # the prompt names the file in any language (st.target: the Python one)
    if first_draft(step, settings) and only is None:
        order = framings(st)
        return first_draft_messages(st, order[(st.drafts + nth) % len(order)])
    system = render("system", dependencies=st.context.dependencies, js=js_facts(st))
    if step == "generate":
        user = render("generate", task=st.task, files=st.context.files, named=st.context.named,
                      examples=st.context.examples, repo_map=st.context.repo_map,
                      plan=st.context.plan, style=st.context.style, target=target,
                      test_path=st.test_path,
                      tests_required=settings.require_tests, only=only, done=done, last=last)
    else:
        written = st.ledger.written()
        views = {f.path: file_view(f.path, f.content, st.task, NAMED_FILE_CHARS) for f in st.context.named_sources
                 if step == "fix" and f.exists and f.path not in written}  # named, not written yet: as it is
        views.update({p: file_view(p, st.ledger.current(p) or "", st.task, NAMED_FILE_CHARS) for p in written})
        current = [{"path": p, "content": v.text, "whole": v.whole} for p, v in views.items()]
        name = "rewrite" if step == "rewrite" else "fix"
        user = render(name, task=st.task, attempt=attempt - 1, max_attempts=settings.max_iterations,
                      history=st.history, failure=st.failure, current=current, paths=list(views),
                      read_only=[p for p in st.ledger.protected() if p in st.failure or p in st.task],
                      own_tests=[p for p, is_test in st.ledger.written().items() if is_test],
                      tests_wanted=tests_owed(st, settings),
                      prefer_whole=settings.fix_format == "whole" or st.edit_failures_in_row >= 2,
                      long_files=[p for p, v in views.items() if not v.whole])
    return [Message("system", system), Message("user", user)]


def js_facts(st: State) -> dict[str, object] | None:
    """What the JS prompt partial names (_lang_js.j2); None for a Python project."""
    if st.runner is None or st.runner.language == "python":
        return None
    project = getattr(st.runner, "project", None)  # the JS runners keep the facts they were detected from
    project = project if isinstance(project, Project) else None
    return {"language": "TypeScript" if st.runner.language == "typescript" else "JavaScript",
            "framework": st.runner.name, "module_system": project.module_system if project else "commonjs",
            "dependencies": sorted(project.dependencies) if project else []}


def tests_owed(st: State, settings: Settings) -> str | None:
    """Where the run's tests are asked for while it must write tests and has none yet; else None."""
    return st.test_path if settings.require_tests and not st.ledger.tests else None


def designs(st: State, settings: Settings) -> bool:
    """The run's tests come from the test-design call (it owes them, and test_design is on)."""
    return settings.test_design and tests_owed(st, settings) is not None


def no_tests(owed: str) -> str:
    """The error of a reply that sends no test file while the run owes its tests."""
    return f"The reply has no test file. Write the tests first, in a new {owed}."


def first_draft(step: Step, settings: Settings) -> bool:
    """A request for a first draft (one of the framings), not a fix of the run's files."""
    return step in ("redraft", "resample") or (step == "generate" and lean(settings))


def lean(settings: Settings) -> bool:
    """The first implementation comes from a first-draft framing (close to what the model does best alone) unless
    the one generate call must also write the tests."""
    return settings.lean_first and (settings.test_design or not settings.require_tests)


Framing = Literal["function", "lean", "complete"]


def framings(st: State) -> list[Framing]:
    """The framings of a first draft, in the order they are tried. For a task about one existing Python file
    with a function the task names and the file leaves unwritten (a docstring, pass, ...): the task, then the
    file as the function to complete, the way models are asked for code alone; then the lean request. For
    another task about one existing Python file: the lean request, then the file as code to complete, the task
    after it. Else the lean request alone. A redraft after a wrong first draft takes the next one; the order is
    measured (benchmarks/first_reply.py: 20 of 43 HumanEval tasks with the 1.5B, the one-shot prompt 19,
    the file first 16, lean 14)."""
    named = next((f for f in st.context.named_sources if f.path == st.target), None)
    if named is None or not (named.exists and named.whole and named.content.strip()):
        return ["lean"]
    if any(re.search(rf"\b{re.escape(name)}\b", st.task) for name in unwritten(named.content)):
        return ["function", "lean"]
    return ["lean", "complete"]


def first_draft_messages(st: State, framing: Framing) -> list[Message]:
    if framing == "lean":
        return implement_messages(st)
    target = st.target or ""
    named = next(f for f in st.context.named_sources if f.path == target)
    facts = {"language": "Python", "path": target, "content": named.content, "task": st.task}
    return [Message("system", render(f"{framing}_system", **facts).rstrip("\n")),
            Message("user", render(framing, **facts).rstrip("\n"))]


def _others(st: State, shown: set[str]) -> bool:
    """The repository has source files besides `shown` (not the project's tests): code the task may use."""
    return any((p.endswith(".py") or is_js(p)) and p not in shown and not is_project_test_file(p)
               for p in st.context.files)


def implement_messages(st: State) -> list[Message]:
    """The lean request: the task and the source files it names (no tests: what the model does best alone is
    write the code from the task), and the repository map when the repository has source files the task does not
    name (the code it may use); the implementation only."""
    named = [f for f in st.context.named if not is_project_test_file(f.path)]
    js = js_facts(st)
    others = _others(st, {f.path for f in named})
    return [Message("system", render("implement_system", dependencies=st.context.dependencies, js=js)),
            Message("user", render("implement", task=st.task, named=named, target=st.reply_target,
                                   plan=st.context.plan, js=js, repo_map=st.context.repo_map if others else ""))]


def test_design_messages(st: State) -> list[Message]:
    """Tests from the task and the files as they were before the run; the implementation is not shown. In a
    repository with source files the task does not name, also the map and one of the project's own tests: the
    code the tests must build their inputs with, and how the project tests it (py_repo_tasks.py `summary`: the
    1.5B called summary_line(invoice) with three made-up arguments, never having seen Invoice)."""
    target = st.reply_target
    test_path = st.context.suggested_test_path(target)
    js = js_facts(st)
    module = (module_name(target) if target.endswith(".py") else target) if target else None
    others = _others(st, {f.path for f in st.context.named})
    project_test = _project_test(st)
    return [Message("system", render("system", dependencies=st.context.dependencies, js=js)),
            Message("user", render("test_design", task=st.task, named=st.context.named, test_path=test_path,
                                   module=module, js=js, repo_map=st.context.repo_map if others else "",
                                   project_test=project_test))]


def _project_test(st: State) -> SourceFile | None:
    """The project test the test designer is shown beside the task's files, if any (see test_design_messages)."""
    if not _others(st, {f.path for f in st.context.named}):
        return None
    return next((f for f in st.context.examples if is_project_test_file(f.path)), None)


def _copied(outcome: ReplyOutcome, st: State) -> str | None:
    """Why the designed tests are no tests of the task: a file of them copies a project test file the designer
    was shown (the 0.5B model sent HumanEval's doctest runner back as its tests in 67 of 164 tasks at c147c96,
    often with its examples list broken: 82, 88, 90 were lost so at 6901ab1); None when none does."""
    shown = [f for f in [*st.context.named, _project_test(st)] if f is not None and is_project_test_file(f.path)]
    for path, f in outcome.written.items():
        lines = {line.strip() for line in f.after.splitlines() if len(line.strip()) > 3}
        for test in shown:
            copied = lines & {line.strip() for line in test.content.splitlines()}
            if (len(copied) >= MIN_COPIED and len(copied) >= COPIED_SHARE * len(lines)
                    and _test_names(f.after) <= _test_names(test.content)):
                return f"{path}: a copy of the project's {test.path}, not tests of the task"
    return None


def _test_names(source: str) -> set[str]:
    """The tests of a Python file, by qualified name (a file that does not parse: none)."""
    tree = parse_module(source)
    return {name for name, _ in test_functions(tree)} if tree is not None else set()


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
          traj: Trajectory, python: Path, attempt: int, stuck: bool = False) -> tuple[str, ReplyOutcome, int]:
    """One reply, prepared, not written; or, with `candidates` > 1, the best of several by execution. Also
    returns how many first drafts it asked for. `stuck`: the last reply changed nothing, sample this one."""
    designed = None
    if step == "generate" and designs(st, settings):
        designed = design_tests(st, model, ws, settings, traj)
        if designed.errors:
            return "", designed, 0
        roundtrip.derive(st, designed, ws, sandbox, python, settings.test_timeout, traj)
    # a resample: `resample` first drafts at retry_temperature, the framings in turn, chosen by execution (the
    # task's examples first, candidates.py)
    sampled = step == "resample"
    count = max(st.resample, 1) if sampled else settings.candidates
    messages = messages_for(step, st, ws, attempt, settings)
    texts = [model.complete(messages, step, settings.retry_temperature if stuck or sampled else None).text]
    already = set(st.ledger.written())
    created = frozenset(p for p, e in st.ledger.entries.items() if e.original is None)
    try:
        while len(texts) < count:
            if sampled:
                messages = messages_for(step, st, ws, attempt, settings, nth=len(texts))
            texts.append(model.complete(messages, step, settings.retry_temperature).text)
    except BudgetExceeded:
        pass  # the budget ends the sampling; the candidates so far are still judged
    drafts = (len(texts) if sampled else 1) if first_draft(step, settings) else 0
    notes = [n for text in texts for n in _disputes(text, st, traj, step)]
    tests_to = tests_owed(st, settings)
    prepared = [prepare_reply(t, ws, settings, already, traj, step, st.reply_target, st.guard, st.task,
                              created, originals=st.ledger.originals(), tests_to=tests_to) for t in texts]
    has_tests = tests_to is None
    valid = [o for o in prepared if not o.errors and o.written
             and (has_tests or any(f.is_test for f in o.written.values()))]
    checked = [*st.ledger.tests, *_broken_project_tests(st)]
    chosen = (valid or prepared)[0] if len(valid) < 2 else select(
        valid, st.examples, ws, sandbox, python, settings.test_timeout, traj, step, checked)
    chosen.notes.extend(notes)
    return texts[0], with_tests(designed, chosen), drafts


def _broken_project_tests(st: State) -> list[str]:
    """The project's test files with a test the last program broke: candidates are checked against them too."""
    ids = st.verdict.regressions if st.verdict is not None else ()
    return sorted({i.split("::")[0] for i in ids if "::" in i and i.split("::")[0].endswith(".py")})


def design_tests(st: State, model: MeteredModel, ws: Workspace, settings: Settings,
                 traj: Trajectory) -> ReplyOutcome:
    """The test-design call: its test files are kept; anything else it sends is ignored. A reply cut off at the
    token cap keeps its complete tests, three checks each (cutoff.py)."""
    def prepare(text: str) -> ReplyOutcome:
        outcome = prepare_reply(text, ws, settings, set(), traj, "test_design", None, st.guard, st.task,
                                tests_to=st.test_path, sources=[st.target] if st.target else [])
        outcome.written = {p: f for p, f in outcome.written.items() if f.is_test}
        if not outcome.errors and not outcome.written:
            outcome.errors, outcome.kind = [no_tests(st.test_path)], "invalid"
        return outcome
    text = model.complete(test_design_messages(st), "test_design").text
    outcome = prepare(text)
    if outcome.kind == "format_error" and (salvaged := salvage(text)) is not None:
        traj.event("test_design", "salvaged", why=outcome.errors[0], kept=salvaged)
        outcome = prepare(salvaged)
    if not outcome.errors and (copied := _copied(outcome, st)) is not None:
        outcome.errors, outcome.kind, outcome.written = [copied], "invalid", {}
    if (outcome.errors and st.runner is None and st.test_path.endswith(".py")
            and (content := example_tests(st.examples, st.target)) is not None):
        # unusable tests: the task's examples are the run's tests, and the attempt goes on to the code
        traj.event("test_design", "example_tests", why=outcome.errors[0], examples=len(st.examples))
        fallback = prepare(f"{st.test_path}\n```python\n{content}```\n")
        if not fallback.errors and {p: f.after for p, f in fallback.written.items()} == {st.test_path: content}:
            fallback.warnings.append(f"the model's tests were not usable ({outcome.errors[0].splitlines()[0]}); "
                                     f"the run's tests are the task's {len(st.examples)} example(s), "
                                     "written by greenloop")
            return fallback
    return outcome


def with_tests(designed: ReplyOutcome | None, outcome: ReplyOutcome) -> ReplyOutcome:
    """The implementation reply joined with the designed tests (which win over any test it sent)."""
    if designed is None:
        return outcome
    for path, f in designed.written.items():
        if path in outcome.written and outcome.written[path].after != f.after:
            ws_note = f"{path}: the implementation reply's version was ignored; the designed tests stand"
            outcome.warnings.append(ws_note)
        outcome.written[path] = f
    outcome.warnings = designed.warnings + outcome.warnings
    return outcome


def _disputes(text: str, st: State, traj: Trajectory, step: Step) -> list[str]:
    """A reply's DISPUTE lines. An accepted one drops the assertion from the frozen test, and from the file
    unless the reply sends that file itself. Returns the notes for the next request."""
    if st.guard is None or "DISPUTE" not in text:
        return []
    notes = st.guard.dispute(text, st.examples)
    traj.event(step, "disputes", notes=notes)
    loosen(st)
    return notes


def loosen(st: State) -> None:
    """The frozen tests lost a disputed assertion: the files follow (frozen.TestGuard.follow). They went red
    already, with it; the `pass` left in its place is not a new test to check for vacuity."""
    if st.guard is not None:
        st.guard.follow(st.red_checked)
