"""What happens to a green run before its commit: the grade (grade.py); on a weak green, a second opinion
(crosscheck.py) that may replace the program, then the grade again; a program that raises by accident near the
task's examples is asked to handle that input once (crashcheck.py), and graded again if its fix is kept; with
`mutation = "improve"`, stronger tests from the surviving mutants (strengthen.py). A low mutation score is a
warning; the score decides how much the green says (figures.Evidence)."""

from __future__ import annotations

from pathlib import Path

from greenloop import crashcheck
from greenloop.config import Settings
from greenloop.crosscheck import applies, crosscheck
from greenloop.errors import BudgetExceeded
from greenloop.grade import Graded, grade
from greenloop.jsexamples import node_of
from greenloop.models.meter import MeteredModel
from greenloop.protocols import Sandbox
from greenloop.state import State
from greenloop.strengthen import Strengthened, strengthen
from greenloop.trajectory import Trajectory
from greenloop.workspace import Workspace


def confirm(st: State, model: MeteredModel, sandbox: Sandbox, ws: Workspace, settings: Settings, traj: Trajectory,
            python: Path) -> Graded:
    """The grade of the program that will be committed: the run summary's `quality` and `evidence`."""
    examples = st.examples if node_of(st.runner) is None else ()  # a Node project's examples run in node

    def measure() -> Graded:
        return grade(st.ledger, traj, ws, sandbox, python, settings.test_timeout, settings.mutation_budget_s,
                     settings.test_cmd, settings.mutation != "off", examples)
    graded = measure()
    if applies(st, settings, graded.evidence):
        checked = crosscheck(st, model, sandbox, ws, settings, traj, python)
        if checked.warning:
            st.warnings.append(checked.warning)
        graded = measure() if checked.swapped else graded
    if crashcheck.applies(st, settings):  # after the crosscheck: it checks the program that will be committed
        crashed = crashcheck.crash_check(st, model, sandbox, ws, settings, traj, python)
        st.warnings.extend([crashed.warning] if crashed.warning else [])
        graded = measure() if crashed.swapped else graded
    if settings.mutation == "improve" and graded.mutation is not None and graded.mutation.survived:
        try:
            done = strengthen(st, model, sandbox, ws, settings, traj, python, graded.mutation.survived)
        except BudgetExceeded as exc:
            done = Strengthened(False, str(exc))
        graded = measure() if done.kept else graded
        st.warnings.append(f"mutation = improve: {done.why}")
    if (low := graded.warning()) is not None:
        st.warnings.append(low)
    return graded
