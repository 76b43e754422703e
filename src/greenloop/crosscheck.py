"""A second opinion on a green whose evidence is not strong (figures.Evidence: more than one mutant in five
survived the tests and the task's examples, or no score was taken). Such a green says little: a small model's code
often meets the few examples of a task and is wrong elsewhere. So another implementation is drafted from another
framing (draft.framings: the function to complete, the lean request, or the file as code to complete) and both run on
the task's examples and on inputs varied from the calls the task's file writes out (probes.py):
- the others that meet every task example agree with it on every input: the green stands;
- they disagree: more are sampled until two others meet the examples, and among those that do, the one that
  agrees with the others on the most inputs is kept (MBR-exec, AlphaCode's clustering); the green one wins ties.
A program that replaces the green one must pass the whole verdict again (the project's tests, the run's own
frozen tests), else the green one stands. A disagreement left unresolved is a summary warning naming the input.
At most three extra model calls; only for a task about one existing Python file that writes out calls to probe."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from greenloop.attempt import prepare_reply
from greenloop.config import Settings
from greenloop.draft import Framing, first_draft_messages, framings
from greenloop.edits import AppliedFile
from greenloop.errors import BudgetExceeded, ModelError
from greenloop.examples import module_name
from greenloop.figures import Evidence
from greenloop.models.meter import MeteredModel
from greenloop.probes import Call, Row, probe_calls, run_probes
from greenloop.protocols import Sandbox
from greenloop.state import State
from greenloop.trajectory import Trajectory
from greenloop.trial import try_files
from greenloop.workspace import Workspace


@dataclass(frozen=True)
class CrossChecked:
    swapped: bool  # the committed program is another implementation than the green one
    warning: str | None  # for the run summary: a disagreement the crosscheck could not settle, or the swap


def applies(st: State, settings: Settings, evidence: Evidence) -> bool:
    return (settings.crosscheck and evidence != "strong" and st.target is not None and len(framings(st)) > 1
            and module_name(st.target) is not None and any(target_calls(st)))


def target_calls(st: State) -> list[Call]:
    """The probe calls of the task's target: its examples' and those its file wrote before the run, varied."""
    entry = st.ledger.entries.get(st.target or "")
    return probe_calls(st.examples, entry.original or "" if entry else "")


def _opinions(st: State, sampled: float) -> list[tuple[Framing, float | None]]:
    """The framing the green did not come from, greedy first (a green after a redraft came from the second
    framing, any other from the first), then both framings sampled."""
    first, second = framings(st)[:2]
    green_step = st.history[-1].step if st.history else "generate"
    other = first if green_step == "redraft" else second
    return [(other, None), (second, sampled), (first, sampled)]


def agreement(rows: dict[int, Row]) -> dict[int, int]:
    """For each program: over every other program and every probe, how many outputs they share."""
    return {i: sum(a == b for j, other in rows.items() if j != i
                   for a, b in zip(row.outputs, other.outputs, strict=True)) for i, row in rows.items()}


def _differ(calls: list[Call], a: Row, b: Row) -> list[str]:
    return [f"{c.show()}: {x} vs {y}" for c, x, y in zip(calls, a.outputs, b.outputs, strict=True) if x != y]


def crosscheck(st: State, model: MeteredModel, sandbox: Sandbox, ws: Workspace, settings: Settings,
               traj: Trajectory, python: Path) -> CrossChecked:
    target = st.target or ""
    calls = target_calls(st)
    programs = [st.ledger.current(target) or ""]
    framed: list[str] = ["green"]
    rows: dict[int, Row] = {}
    stopped = ""  # why sampling stopped early (the budget, the model)
    st.ledger.reset(ws)  # the probes import the run's other files as checked
    for framing, temperature in _opinions(st, settings.retry_temperature):
        try:
            text = model.complete(first_draft_messages(st, framing), "crosscheck", temperature).text
        except (BudgetExceeded, ModelError) as exc:  # decide with the opinions so far
            stopped = str(exc)
            break
        out = prepare_reply(text, ws, settings, set(st.ledger.written()), traj, "crosscheck", target, st.guard,
                            st.task, originals=st.ledger.originals())
        mine = out.written.get(target)
        if out.errors or mine is None:
            continue
        programs.append(mine.after)
        framed.append(framing)
        found = run_probes(programs, target, module_name(target) or "", st.examples, calls, sandbox, python,
                           ws.root, settings.test_timeout)
        st.ledger.reset(ws)  # nothing the probed programs wrote stays
        rows = {i: r for i, r in enumerate(found) if r is not None and r.meets_examples}
        if 0 not in rows:  # the green program itself did not run here: no basis for a judgement
            return _done(traj, calls, programs, framed, rows, 0, False, None)
        if len(rows) >= 2 and all(r.outputs == rows[0].outputs for r in rows.values()):
            return _done(traj, calls, programs, framed, rows, 0, False, None)
        if len(rows) >= 3:  # two others that meet the examples, and a disagreement: enough to vote
            break
    if len(rows) < 2:
        return _done(traj, calls, programs, framed, rows, 0, False, None, stopped)
    scores = agreement(rows)
    chosen = max(rows, key=lambda i: (scores[i], i == 0, -i))
    other = next(i for i in rows if i != chosen)
    differ = _differ(calls, rows[0], rows[other if chosen == 0 else chosen])
    if chosen == 0:
        why = (f"{len(rows)} implementations that meet the task's examples disagree on {len(differ)} input(s), "
               f"e.g. {differ[0]} (the first is the committed one's); no majority against it: check that case")
        return _done(traj, calls, programs, framed, rows, 0, False, why, stopped)
    entry = st.ledger.entries[target]
    if not try_files(st, sandbox, ws, settings, python,
                     {target: AppliedFile(target, entry.original, programs[chosen], False)}).kept:
        why = (f"a majority of {len(rows)} implementations disagrees with the green one on {len(differ)} input(s), "
               f"e.g. {differ[0]}, but theirs failed the tests: the green one is committed; check that case")
        return _done(traj, calls, programs, framed, rows, 0, False, why, stopped)
    why = (f"the green implementation was replaced: {scores[chosen]} agreements against {scores[0]} among "
           f"{len(rows)} implementations that meet the task's examples, e.g. {differ[0]} (the green one's first)")
    return _done(traj, calls, programs, framed, rows, chosen, True, why, stopped)


def _done(traj: Trajectory, calls: list[Call], programs: list[str], framed: list[str], rows: dict[int, Row],
          chosen: int, swapped: bool, why: str | None, stopped: str = "") -> CrossChecked:
    traj.event("crosscheck", "crosscheck", framings=framed, programs=programs, eligible=sorted(rows), chosen=chosen,
               swapped=swapped,
               scores={str(i): s for i, s in agreement(rows).items()}, calls=[c.show() for c in calls],
               outputs={str(i): list(r.outputs) for i, r in rows.items()}, why=why or "",
               stopped=stopped)
    return CrossChecked(swapped, why)
