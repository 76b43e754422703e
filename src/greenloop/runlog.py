"""Reading past runs back from their trajectories: `runs`, `show`, `undo`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from greenloop.errors import UsageError
from greenloop.sanitize import for_terminal
from greenloop.trajectory import read_events, runs_dir


@dataclass(frozen=True)
class RunRecord:
    run_id: str
    path: Path
    started: float
    task: str
    model: str
    status: str
    branch: str | None
    commit: str | None
    attempts: int
    undone: bool


def load(path: Path) -> RunRecord:
    events = list(read_events(path))
    start = next((e for e in events if e.get("kind") == "run_start"), {})
    end: dict[str, Any] = next((e for e in reversed(events) if e.get("kind") == "run_end"), {})
    summary = end.get("summary", {})
    interrupted = any(e.get("kind") == "interrupted" for e in events)
    status = summary.get("status") or ("interrupted" if interrupted else "incomplete")
    return RunRecord(
        run_id=path.parent.name, path=path, started=float(start.get("ts", 0)), task=start.get("task", ""),
        model=start.get("model", ""), status=status, branch=summary.get("branch"),
        commit=summary.get("commit"), attempts=int(summary.get("attempts", 0)),
        undone=any(e.get("kind") == "undo" for e in events),
    )


def all_runs(common_dir: Path) -> list[RunRecord]:
    root = runs_dir(common_dir)
    paths = sorted(root.glob("*/trajectory.jsonl")) if root.is_dir() else []
    return [load(p) for p in paths]


def find(common_dir: Path, run_id: str | None) -> RunRecord:
    runs = all_runs(common_dir)
    if run_id is None:
        done = [r for r in runs if r.status == "success" and not r.undone]
        if not done:
            raise UsageError("no successful run to undo; see `greenloop runs`")
        return done[-1]
    exact = [r for r in runs if r.run_id == run_id]
    matches = exact or [r for r in runs if run_id and (r.run_id.startswith(run_id) or r.run_id.endswith(run_id))]
    if len(matches) > 1:
        raise UsageError(f"run '{run_id}' is ambiguous ({', '.join(r.run_id for r in matches[:5])}); "
                         "give more of the id")
    if not matches:
        raise UsageError(f"run '{run_id}' not found; see `greenloop runs`")
    return matches[0]


def story(record: RunRecord) -> list[str]:
    """A run's story, line by line: steps, attempts, test results and the final diff."""
    lines = [f"run {record.run_id}: {record.status}", f"task: {record.task}", f"model: {record.model}"]
    for e in read_events(record.path):
        kind = e.get("kind")
        if kind == "model_reply":
            lines.append(f"  [{e['step']}] model replied ({e.get('output_tokens', 0)} tokens, {e.get('seconds')}s)")
        elif kind == "attempt":
            detail = e.get("summary") or "; ".join(x.splitlines()[0] for x in e.get("errors", [])[:2])
            lines.append(f"attempt {e['number']} ({e['step']}): {e['outcome']}" + (f" - {detail}" if detail else ""))
        elif kind == "candidates":
            lines.append(f"  candidates: {e['count']} valid; implementation {e['implementation']}, tests {e['tests']}"
                         f" (scores {e['scores']})")
            lines += [f"  disputed: {d}" for d in e.get("disputed", [])]
        elif kind == "task_examples":
            lines += [f"  {f}" for f in e.get("failures", [])]
        elif kind == "test_run":
            lines.append(f"  tests: {e['passed']} passed, {e['failed']} failed, {e['errors']} errors "
                         f"(exit {e['exit_code']}, {e['seconds']}s)")
        elif kind == "commit":
            lines += [f"commit {e['sha'][:12]} on {e['branch']}", "", e.get("diff", "")]
        elif kind in ("run_end", "interrupted", "undo"):
            lines.append(f"{kind}: {e.get('summary', {}).get('error') or ''}".rstrip(": "))
    return [for_terminal(line) for line in lines]  # model and test text must not drive the terminal
