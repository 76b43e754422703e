"""Reading past runs back from their trajectories: `runs`, `show`, `undo`."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path

from greenloop import record
from greenloop.errors import UsageError
from greenloop.figures import Summary, parse
from greenloop.sanitize import for_terminal
from greenloop.trajectory import runs_dir


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
    summary: Summary = field(default_factory=Summary)  # the last run_end's summary, typed (empty: none)
    tokens: int = 0
    seconds: float = 0.0
    ended: bool = False  # a run_end was written (an interrupted or crashed run has none)
    warnings: tuple[str, ...] = ()  # lines of the record that were skipped or kept untyped


def printable_time(ts: float) -> bool:
    """A timestamp of this era (a foreign line may hold NaN or 1e300, which localtime cannot take)."""
    return math.isfinite(ts) and 0 < ts < 253402300800  # before the year 10000


def when(ts: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts)) if printable_time(ts) else "-"


def load(path: Path) -> RunRecord:
    reading = record.read(path)
    start: record.RunStart | None = reading.first(record.RunStart)
    end: record.RunEnd | None = reading.last(record.RunEnd)
    summary, why = parse(Summary, end.summary, "the run summary") if end else (None, [])
    summary = summary or Summary()
    interrupted = bool(reading.of(record.Interrupted))
    status = summary.status or ("interrupted" if interrupted else "incomplete")
    return RunRecord(
        run_id=path.parent.name, path=path, started=start.ts if start else 0.0, task=start.task if start else "",
        model=start.model if start else "", status=status, branch=summary.branch, commit=summary.commit,
        attempts=summary.attempts, undone=bool(reading.of(record.Undo)), summary=summary,
        tokens=sum(e.input_tokens + e.output_tokens for e in reading.of(record.ModelReply)),
        seconds=end.seconds if end else 0.0, ended=end is not None,
        warnings=(*reading.warnings, *why),
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


def _line(e: record.Event) -> list[str]:
    """One event's lines in the story (most kinds say nothing there)."""
    if isinstance(e, record.ModelReply):
        return [f"  [{e.step}] model replied ({e.output_tokens} tokens, {e.seconds}s)"]
    if isinstance(e, record.AttemptEvent):
        detail = e.summary or "; ".join(x.splitlines()[0] for x in e.errors[:2] if x)
        return [f"attempt {e.number} ({e.step}): {e.outcome}" + (f" - {detail}" if detail else "")]
    if isinstance(e, record.Candidates):
        return ([f"  candidates: {e.count} valid; implementation {e.implementation}, tests {e.tests} "
                 f"(scores {e.scores})"] + [f"  disputed: {d}" for d in e.disputed])
    if isinstance(e, record.TaskExamples):
        return [f"  {f}" for f in e.failures]
    if isinstance(e, record.TestRun):
        return [f"  tests: {e.passed} passed, {e.failed} failed, {e.errors} errors (exit {e.exit_code}, {e.seconds}s)"]
    if isinstance(e, record.Grade):
        files = e.quality.get("files", {})
        return [f"grade {path}: complexity max {m['cc_max']} mean {m['cc_mean']}, maintainability "
                f"{m['maintainability']}, {m['sloc']} lines" for path, m in files.items()]
    if isinstance(e, record.Commit):
        return [f"commit {e.sha[:12]} on {e.branch}", "", e.diff]
    if isinstance(e, record.RunEnd):
        return [f"run_end: {e.summary.get('error') or ''}".rstrip(": ")]
    if isinstance(e, (record.Interrupted, record.Undo)):
        return [e.kind]
    return []


def story(rec: RunRecord) -> list[str]:
    """A run's story, line by line: steps, attempts, test results, the grade and the final diff."""
    reading = record.read(rec.path)
    lines = [f"run {rec.run_id}: {rec.status}", f"task: {rec.task}", f"model: {rec.model}"]
    for e in reading.events:
        lines += _line(e)
    lines += [f"warning: {w}" for w in reading.warnings]
    return [for_terminal(line) for line in lines]  # model and test text must not drive the terminal
