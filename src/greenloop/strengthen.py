"""Stronger tests from surviving mutants (MuTAP), with `mutation = "improve"`: once, after a green run was graded,
the mutants its tests did not kill go back to the test designer (`X-Greenloop-Step: test_design`), which adds tests
that fail on each mutant and pass on the code. The new test file must keep every frozen test (the guard) and the
whole verdict must be green again; only then is it kept, and the mutation score measured again. Otherwise the
earlier tests stand and a warning says why. The implementation is never changed here."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from greenloop.attempt import prepare_reply
from greenloop.config import Settings
from greenloop.models.meter import MeteredModel
from greenloop.mutants import Mutant
from greenloop.prompts import render
from greenloop.protocols import Sandbox
from greenloop.state import State
from greenloop.trajectory import Trajectory
from greenloop.trial import try_files
from greenloop.types import Message
from greenloop.workspace import Workspace


@dataclass(frozen=True)
class Strengthened:
    kept: bool
    why: str  # one line: what was added, or why nothing was kept


def _code_line(source: str, line: int) -> str:
    lines = source.splitlines()
    return lines[line - 1].strip()[:100] if 0 < line <= len(lines) else ""


def strengthen(st: State, model: MeteredModel, sandbox: Sandbox, ws: Workspace, settings: Settings,
               traj: Trajectory, python: Path, survived: list[Mutant]) -> Strengthened:
    test_path = next((p for p in st.ledger.tests if p.endswith(".py")), None)
    if test_path is None or not survived:
        return Strengthened(False, "no Python test file of the run's own, or no surviving mutant")
    before = st.ledger.current(test_path) or ""
    sources = [{"path": p, "content": st.ledger.current(p) or ""} for p in st.ledger.sources]
    mutants = [{"path": m.path, "line": m.line, "description": m.description,
                "code": _code_line(st.ledger.current(m.path) or "", m.line)} for m in survived[:8]]
    user = render("strengthen", task=st.task, sources=sources, test_path=test_path, test=before, mutants=mutants)
    messages = [Message("system", render("system", dependencies=st.context.dependencies, js=None)),
                Message("user", user)]
    text = model.complete(messages, "test_design").text
    out = prepare_reply(text, ws, settings, set(st.ledger.written()), traj, "test_design", test_path, st.guard,
                        st.task)
    changed = out.written.get(test_path)
    if out.errors or changed is None or set(out.written) != {test_path}:
        return _done(traj, Strengthened(False, "the reply was not one valid test file for " + test_path + ": "
                                        + "; ".join((out.errors or out.refused or ["other files"])[:2])))
    trial = try_files(st, sandbox, ws, settings, python, out.written)  # else the earlier tests stand
    verdict = trial.verdict
    if trial.kept:
        added = len(verdict.new) - sum(1 for o in verdict.new if o.id in st.frozen_ids)
        return _done(traj, Strengthened(True, f"{added} test(s) added for {len(survived)} surviving mutant(s)"))
    why = "the test run changed checked files" if trial.drifted else "the stronger tests failed on the code: " + (
        verdict.failure.splitlines()[0][:200] if verdict.failure else "red")
    return _done(traj, Strengthened(False, why))


def _done(traj: Trajectory, result: Strengthened) -> Strengthened:
    traj.event("test_design", "strengthen", kept=result.kept, why=result.why)
    return result
