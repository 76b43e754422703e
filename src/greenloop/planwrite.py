"""A large plan, written file by file: the first draft of a task whose plan (planstep.py, or the repository's
own references, context.py) orders FILE_BY_FILE or more files is one generate call per file, in the plan's order
(dependencies first), each seeing the files written before it whole; the last one also sends the tests, unless they
come from the test-design call (test_design), which goes first. A small model writes one file well where it would
cut several short or drift between them in one reply."""

from __future__ import annotations

from greenloop.attempt import ReplyOutcome, prepare_reply
from greenloop.config import Settings
from greenloop.draft import design_tests, designs, lean, messages_for, with_tests
from greenloop.models.meter import MeteredModel
from greenloop.state import State
from greenloop.trajectory import Trajectory
from greenloop.workspace import Workspace

FILE_BY_FILE = 3  # a plan of this many files or more is written one file a call


def applies(st: State, settings: Settings) -> bool:
    """The first draft (nothing written yet) of a plan of FILE_BY_FILE files or more, one reply a call; not for a
    lean first draft that comes without its tests (they are not required), which is one reply."""
    return (len(st.context.plan) >= FILE_BY_FILE and not st.ledger.written() and settings.candidates == 1
            and (not lean(settings) or designs(st, settings)))


def write_planned(st: State, model: MeteredModel, ws: Workspace, settings: Settings, traj: Trajectory,
                  attempt: int) -> tuple[str, ReplyOutcome]:
    """One call per planned file; the replies' files together, or the first reply that failed validation
    (nothing after it is asked for: the attempt fails as one generate reply would)."""
    plan = st.context.plan
    designed = design_tests(st, model, ws, settings, traj) if designs(st, settings) else None
    if designed is not None and designed.errors:
        return "", designed
    merged = ReplyOutcome()
    texts: list[str] = []
    created = frozenset(p for p, e in st.ledger.entries.items() if e.original is None)
    for index, path in enumerate(plan):
        done = [{"path": p, "content": f.after} for p, f in merged.written.items() if not f.is_test]
        base = messages_for("generate", st, ws, attempt, settings, only=path, done=done,
                            last=index == len(plan) - 1 and designed is None)
        text = model.complete(base, "generate").text
        texts.append(f"{path}:\n{text}")
        out = prepare_reply(text, ws, settings, set(merged.written), traj, "generate", path, st.guard, st.task,
                            created, {p: f.after for p, f in merged.written.items()}, st.ledger.originals())
        traj.event("generate", "plan_file", path=path, index=index + 1, of=len(plan), written=sorted(out.written),
                   errors=out.errors)
        if out.errors:
            return "\n\n".join(texts), out
        merged.written.update(out.written)
        merged.refused += out.refused
        merged.warnings += [w for w in out.warnings if w not in merged.warnings]
        merged.notes += out.notes
    return "\n\n".join(texts), with_tests(designed, merged)

