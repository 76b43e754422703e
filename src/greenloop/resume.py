"""Continue or discard a failed run kept by --keep-failed.

A kept run is its worktree (the base commit plus the files the run had checked, as the last test run saw
them), its branch and its trajectory. `greenloop run --continue RUN_ID` goes on in that worktree with the
same run id: the run's files become the ledger again, its test files that already ran are frozen again
(a continued run may not weaken them), its attempts are the history and the last failure is what the next
fix request shows. The events are appended to the same trajectory. `greenloop discard RUN_ID` removes the
worktree, and the branch if nobody committed on it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from greenloop import gitops
from greenloop.errors import GuardrailViolation, UsageError
from greenloop.ledger import Entry
from greenloop.replies import is_test_path
from greenloop.runlog import RunRecord
from greenloop.state import State
from greenloop.testrun import failure_signature
from greenloop.trajectory import read_events
from greenloop.types import Attempt, Missed
from greenloop.workspace import Workspace

STEPS = ("generate", "redraft", "resample", "fix", "rewrite")


@dataclass(frozen=True)
class KeptRun:
    """What a kept failed run left: where it lives and what it had done."""

    run_id: str
    task: str
    worktree: gitops.Worktree
    trajectory: Path
    history: tuple[Attempt, ...]
    failure: str  # the last attempt's failure text: what the next fix request shows
    ran_tests: tuple[str, ...]  # test ids the run's tests had in the last test run (frozen again)
    missed: int = 0  # the task's examples the last judged program missed (State.missed)


def kept_record(repo: gitops.Repo, run_id: str) -> Path:
    return repo.greenloop_dir / "kept" / f"{run_id}.json"


def is_kept(repo: gitops.Repo, run_id: str) -> bool:
    return kept_record(repo, run_id).is_file()


def load_kept(repo: gitops.Repo, rec: RunRecord) -> KeptRun:
    """The kept run `rec`, or a one-line UsageError naming what to do instead."""
    record = kept_record(repo, rec.run_id)
    if rec.status == "success":
        raise UsageError(f"run {rec.run_id} succeeded (commit on {rec.branch}); there is nothing to continue")
    try:
        info = json.loads(record.read_text(encoding="utf-8"))
        path, branch, base = Path(info["path"]), str(info["branch"]), str(info["base"])
    except FileNotFoundError:
        raise UsageError(f"run {rec.run_id} was not kept (status {rec.status}); only a failed run started with "
                         "--keep-failed can be continued") from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise UsageError(f"{record}: unreadable record of a kept run; discard it with "
                         f"`greenloop discard {rec.run_id}`") from exc
    own = (repo.greenloop_dir / "worktrees").resolve()
    if path.parent.resolve() != own or path.name != rec.run_id or not path.is_dir():
        raise UsageError(f"the worktree of run {rec.run_id} is gone ({path}); discard it with "
                         f"`greenloop discard {rec.run_id}`")
    events = list(read_events(rec.path))
    attempts = [e for e in events if e.get("kind") == "attempt"]
    history = tuple(Attempt(int(e["number"]), e["step"] if e.get("step") in STEPS else "fix", e["outcome"],
                            str(e.get("summary") or "")[:200], failure_signature(str(e.get("failure") or "")),
                            _missed(e.get("first_missed")))
                    for e in attempts)
    judged = [e for e in attempts if e.get("outcome") == "tests_failed"]
    missed = judged[-1].get("missed") if judged else 0
    failure = next((str(e.get("failure") or e.get("summary") or "") for e in reversed(attempts)
                    if e.get("outcome") != "passed"), "")
    last_run = next((e for e in reversed(events) if e.get("kind") == "test_run"), {})
    ran = tuple(str(i) for i, _status in last_run.get("new", []) if not str(i).endswith("::<collection>"))
    return KeptRun(rec.run_id, rec.task, gitops.Worktree(path, branch, base, rec.run_id), rec.path,
                   history, failure, ran, missed if isinstance(missed, int) and missed >= 0 else 0)


def _missed(recorded: object) -> Missed | None:
    """The first task example an attempt's program missed, as its event recorded it (None: none, or not read)."""
    if not isinstance(recorded, dict) or not isinstance(recorded.get("line"), str):
        return None
    returned = recorded.get("returned")
    return Missed(recorded["line"], returned if isinstance(returned, str) else None)


def seed(st: State, ws: Workspace, kept: KeptRun) -> list[str]:
    """The kept worktree's files become the run's record again; the tests that had run are frozen. Returns the
    paths taken over. Every read goes through the path gate: a link or special file is refused, not followed."""
    taken = []
    for path in gitops.dirty_paths(ws.root):
        if st.ledger.is_protected(path):
            continue  # the project's own tests: reset_worktree puts them back as committed
        try:
            current = ws.read_text(path)
        except GuardrailViolation as exc:
            raise UsageError(f"run {kept.run_id}: {exc}; discard the run with `greenloop discard {kept.run_id}`") \
                from exc
        if current is None:
            continue
        shown = gitops.git("show", f"{kept.worktree.base_commit}:{path}", cwd=ws.root, check=False)
        original = shown.stdout if shown.returncode == 0 else None
        st.ledger.entries[path] = Entry(path, is_test_path(path), original, current)
        taken.append(path)
    ran_files = {i.split("::", 1)[0] for i in kept.ran_tests}
    frozen = [p for p in st.ledger.tests if p in ran_files]
    if st.guard is not None:
        st.guard.freeze(frozen)
    st.frozen_ids |= {i for i in kept.ran_tests if i.split("::", 1)[0] in frozen}
    st.red_checked.update({p: st.ledger.current(p) or "" for p in frozen})
    st.history.extend(kept.history)
    st.failure = kept.failure
    st.missed = kept.missed
    return taken


def discard(repo: gitops.Repo, rec: RunRecord) -> str:
    """Remove a kept run's worktree, and its branch unless someone committed on it. Returns what was done."""
    record = kept_record(repo, rec.run_id)
    if not record.is_file():
        raise UsageError(f"run {rec.run_id} is not a kept run (status {rec.status}); "
                         "`greenloop undo` removes the branch of a successful run")
    try:
        info = json.loads(record.read_text(encoding="utf-8"))
        wt = gitops.Worktree(Path(info["path"]), str(info["branch"]), str(info["base"]), rec.run_id)
    except (OSError, ValueError, KeyError, TypeError):
        record.unlink()
        return f"dropped the unreadable record of run {rec.run_id}"
    tip = gitops.git("rev-parse", "--verify", "-q", f"refs/heads/{wt.branch}", cwd=repo.root, check=False)
    unmoved = tip.returncode != 0 or tip.stdout.strip() == wt.base_commit
    gitops.remove_worktree(repo, wt, delete_branch=unmoved)
    record.unlink()
    return f"removed the worktree of run {rec.run_id}" + (
        f" and branch {wt.branch}" if unmoved else f"; kept branch {wt.branch} (it has commits)")
