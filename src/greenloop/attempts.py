"""One attempt, one owner: a frozen request in (the attempt's number, its step, how to sample), a frozen result
out (the reply, the files it would write, why it cannot be tested, and how many first drafts it asked for).

Which reply an attempt makes is decided here: a second implementation that settles a disputed test (agree.py),
a large plan file by file (planwrite.py), or a draft, fix or rewrite, sampled once or several times and chosen
by execution (draft.py, candidates.py). Nothing here writes the run's files: the loop records the result in the
ledger, and the ledger alone puts them on disk (ledger.restore, ledger.reset). Candidates probed side by side
are installed one after another for their checks and put back the same way before anything is judged."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from greenloop import planwrite
from greenloop.agree import settle
from greenloop.attempt import ReplyOutcome
from greenloop.config import Settings
from greenloop.draft import draft
from greenloop.edits import AppliedFile
from greenloop.models.meter import MeteredModel
from greenloop.protocols import Sandbox
from greenloop.state import State
from greenloop.trajectory import Trajectory
from greenloop.types import Step
from greenloop.workspace import Workspace


@dataclass(frozen=True)
class Tools:
    """What every attempt of a run works with."""
    model: MeteredModel
    sandbox: Sandbox
    ws: Workspace
    settings: Settings
    traj: Trajectory
    python: Path


@dataclass(frozen=True)
class Request:
    number: int
    step: Step
    settle: bool = False  # sample a second implementation to settle a test the program contradicts (agree.py)
    stuck: bool = False  # the last reply changed nothing or repeated the one before: sample this one


@dataclass(frozen=True)
class Result:
    text: str  # the reply (a planned draft: its replies, one per file)
    kind: str  # ok | format_error | edit_error | invalid | refused | unchanged (attempt.ReplyOutcome)
    files: Mapping[str, AppliedFile]  # what the reply writes, valid, not yet on disk
    errors: tuple[str, ...] = ()  # why nothing of it can be tested: they go back to the model
    refused: tuple[str, ...] = ()  # files refused; the rest proceeded
    warnings: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()  # for the next request if the tests fail
    drafts: int = 0  # first drafts this attempt asked for (generate, redraft): the next takes the next framing
    settled: bool = False  # a second implementation was sampled to settle a disputed test
    rewrote: tuple[str, ...] = ()  # frozen tests (path::name) the reply tried to change: refused

    @classmethod
    def of(cls, text: str, out: ReplyOutcome, drafts: int = 0, settled: bool = False) -> Result:
        return cls(text, out.kind, MappingProxyType(dict(out.written)), tuple(out.errors), tuple(out.refused),
                   tuple(out.warnings), tuple(out.notes), drafts, settled, tuple(out.rewrote))


def run_attempt(req: Request, st: State, tools: Tools) -> Result:
    """The reply of one attempt (see the module's doc). `st` is read, except for the frozen tests: a dispute
    the guard accepts drops an assertion from them at once (draft.loosen)."""
    m, s = tools.model, tools.settings
    if req.settle:
        agreed = settle(st, m, tools.sandbox, tools.ws, s, tools.traj, tools.python, req.step)
        if agreed.decided:
            return Result.of(agreed.text, agreed.outcome, settled=True)
        st.ledger.restore(tools.ws)  # the files as recorded again, not the second implementation probed
    if req.step == "generate" and planwrite.applies(st, s):
        text, out = planwrite.write_planned(st, m, tools.ws, s, tools.traj, req.number)
        return Result.of(text, out, settled=req.settle)
    text, out, drafts = draft(req.step, st, m, tools.sandbox, tools.ws, s, tools.traj, tools.python, req.number,
                              req.stuck)
    return Result.of(text, out, drafts, settled=req.settle)
