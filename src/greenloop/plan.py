"""Multi-file plans in dependency order (graphlib.TopologicalSorter): from a model's plan reply
`{"files": [{"path", "purpose", "dependsOn": [paths]}]}`, or from the repository's own references between the
files a task names. A cycle or an unknown dependency is an error whose text names it, to send back."""

from __future__ import annotations

import json
from dataclasses import dataclass
from graphlib import CycleError, TopologicalSorter

from greenloop.repomap import Tags


@dataclass(frozen=True)
class PlannedFile:
    path: str
    purpose: str
    depends_on: tuple[str, ...]


@dataclass(frozen=True)
class Plan:
    files: tuple[PlannedFile, ...]
    order: tuple[str, ...]  # dependencies first


class PlanError(ValueError):
    """A plan that cannot be ordered; the message is written for the model."""


def ordered(files: list[PlannedFile]) -> Plan:
    known = {f.path for f in files}
    for f in files:
        unknown = [d for d in f.depends_on if d not in known]
        if unknown:
            raise PlanError(f"{f.path} depends on {', '.join(unknown)}, which the plan does not list; add "
                            "it to the plan or drop the dependency.")
    try:
        order = tuple(TopologicalSorter({f.path: f.depends_on for f in files}).static_order())
    except CycleError as exc:
        cycle = " -> ".join(exc.args[1])
        raise PlanError(f"The plan has a dependency cycle: {cycle}. Break it (move the shared part into a "
                        "module of its own) and send the plan again.") from exc
    return Plan(tuple(files), order)


def parse_plan(text: str) -> Plan:
    """A `plan` reply (bare JSON or inside a fence) -> an ordered Plan, or PlanError naming what is wrong."""
    start, end = text.find("{"), text.rfind("}")
    try:
        data = json.loads(text[start:end + 1]) if start >= 0 else None
    except json.JSONDecodeError as exc:
        raise PlanError(f"The plan is not valid JSON ({exc.msg}); reply with "
                        '{"files": [{"path", "purpose", "dependsOn": [paths]}]}.') from exc
    entries = data.get("files") if isinstance(data, dict) else None
    if not isinstance(entries, list) or not all(isinstance(e, dict) and isinstance(e.get("path"), str)
                                                for e in entries):
        raise PlanError('The plan must be {"files": [{"path", "purpose", "dependsOn": [paths]}]}.')
    files = [PlannedFile(e["path"], str(e.get("purpose", "")),
                         tuple(d for d in e.get("dependsOn") or [] if isinstance(d, str))) for e in entries]
    return ordered(files)


def plan_from_tags(paths: list[str], tags: dict[str, Tags]) -> Plan | None:
    """The files a task names, ordered by the repository's references among them (a file that uses a
    definition of another comes after it); None for fewer than two indexed files. A reference cycle is
    broken by leaving the files in the task's order."""
    known = [p for p in dict.fromkeys(paths) if p in tags]
    if len(known) < 2:
        return None
    defined = {p: {d[1] for d in tags[p].defs} for p in known}
    files = [PlannedFile(p, "", tuple(q for q in known if q != p and defined[q] & tags[p].refs.keys()))
             for p in known]
    try:
        return ordered(files)
    except PlanError:
        return Plan(tuple(files), tuple(known))
