"""The plan step (`X-Greenloop-Step: plan`). A task that names several source files, some of them new, gets one
call for `{"files": [{"path", "purpose", "dependsOn": [paths]}]}`; its order (graphlib, plan.py) goes into the
generate prompt. A plan with a cycle or an unknown file goes back once with the problem named; one that still
cannot be ordered is dropped with a warning, and the run goes on without an order. A single-file task, or one
whose files all exist (the repository's own references order them, context.py), makes no call."""

from __future__ import annotations

from greenloop.context import ProjectContext
from greenloop.models.meter import MeteredModel
from greenloop.plan import Plan, PlanError, parse_plan
from greenloop.prompts import render
from greenloop.trajectory import Trajectory
from greenloop.types import Message

ROUNDS = 2  # the plan, and one correction


def needs_plan(context: ProjectContext) -> bool:
    sources = context.named_sources
    return len(sources) >= 2 and any(not f.exists for f in sources)


def plan_files(task: str, context: ProjectContext, model: MeteredModel, traj: Trajectory) -> Plan | None:
    """The model's plan for the task's files, ordered; None when it cannot be ordered after a correction."""
    messages = [Message("system", render("system", dependencies=context.dependencies, js=None)),
                Message("user", render("plan", task=task, named=context.named, repo_map=context.repo_map))]
    for round_ in range(1, ROUNDS + 1):
        text = model.complete(messages, "plan").text
        try:
            plan = parse_plan(text)
        except PlanError as exc:
            traj.event("plan", "plan_error", round=round_, error=str(exc))
            messages += [Message("assistant", text), Message("user", str(exc))]
            continue
        traj.event("plan", "plan", order=list(plan.order),
                   files=[{"path": f.path, "purpose": f.purpose, "dependsOn": list(f.depends_on)} for f in plan.files])
        return plan
    return None
