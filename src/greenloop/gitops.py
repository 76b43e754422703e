"""Git: each run in its own worktree and branch; the user's checkout, index and stash are never touched."""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from greenloop.errors import GitError, UsageError
from greenloop.workspace import Workspace, remove_tree

GIT_TIMEOUT_S = 120
# Applied to every git command greenloop runs: no hooks, no fsmonitor, and the run's worktree (which the
# sandbox may own as another uid) is trusted.
_SAFE = ("-c", "core.hooksPath=/dev/null", "-c", "core.fsmonitor=false", "-c", "safe.directory=*")


def git(*args: str, cwd: Path, hooks: bool = False, env: dict[str, str] | None = None,
        check: bool = True) -> subprocess.CompletedProcess[str]:
    safe = _SAFE[2:] if hooks else _SAFE
    full_env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C", **(env or {})}
    try:
        proc = subprocess.run(["git", *safe, *args], cwd=cwd, capture_output=True, text=True,
                              timeout=GIT_TIMEOUT_S, env=full_env)
    except FileNotFoundError as exc:
        raise UsageError("git is not installed; install git (apt-get install git)") from exc
    if check and proc.returncode != 0:
        msg = (proc.stderr or proc.stdout).strip().splitlines()
        raise GitError(f"git {args[0]} failed: {msg[-1] if msg else proc.returncode}")
    return proc


@dataclass(frozen=True)
class Repo:
    root: Path
    common_dir: Path

    @property
    def greenloop_dir(self) -> Path:
        return self.common_dir / "greenloop"


def open_repo(path: Path) -> Repo:
    """The repository at `path`, or a one-line UsageError naming the fix."""
    if not path.is_dir():
        raise UsageError(f"--repo {path}: no such directory")
    proc = git("rev-parse", "--is-bare-repository", "--git-common-dir", cwd=path, check=False)
    if proc.returncode != 0:
        raise UsageError(f"{path} is not a git repository; run `git init` there or pass --repo DIR")
    bare, common_text = proc.stdout.splitlines()[:2]
    top = git("rev-parse", "--show-toplevel", cwd=path, check=False)
    if bare == "true" or top.returncode != 0:
        raise UsageError(f"{path} is a bare repository; run greenloop in a clone with a working tree")
    root = Path(top.stdout.strip()).resolve()
    common = Path(common_text)
    common = (common if common.is_absolute() else (path / common)).resolve()
    if git("rev-parse", "--verify", "-q", "HEAD", cwd=root, check=False).returncode != 0:
        raise UsageError(f"{root} has no commits yet; make a first commit, then run greenloop")
    return Repo(root=root, common_dir=common)


def ensure_writable(repo: Repo) -> None:
    try:
        repo.greenloop_dir.mkdir(exist_ok=True)
        probe = repo.greenloop_dir / f".probe-{os.getpid()}"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise UsageError(f"cannot write to {repo.greenloop_dir} ({exc.strerror}); "
                         "run greenloop on a writable clone of the repository") from exc


def new_run_id() -> str:
    return time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(3)


def slugify_task(task: str, limit: int = 40) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", task.lower()).strip("-")
    return slug[:limit].rstrip("-") or "task"


@dataclass(frozen=True)
class Worktree:
    path: Path
    branch: str
    base_commit: str
    run_id: str


def _active_record(repo: Repo, run_id: str) -> Path:
    return repo.greenloop_dir / "active" / f"{run_id}.json"


def create_worktree(repo: Repo, run_id: str, task: str, from_ref: str = "HEAD") -> Worktree:
    proc = git("rev-parse", "--verify", "-q", f"{from_ref}^{{commit}}", cwd=repo.root, check=False)
    if proc.returncode != 0:
        raise UsageError(f"--from {from_ref}: not a commit in {repo.root}; name a branch, tag or commit")
    base = proc.stdout.strip()
    branch = f"greenloop/{slugify_task(task)}-{run_id[-6:]}"
    if git("rev-parse", "--verify", "-q", f"refs/heads/{branch}", cwd=repo.root, check=False).returncode == 0:
        branch = f"{branch}-{secrets.token_hex(2)}"
    path = repo.greenloop_dir / "worktrees" / run_id
    record = _active_record(repo, run_id)
    record.parent.mkdir(parents=True, exist_ok=True)
    # The record is written before the worktree exists, so a kill at any point is found by prune_stale.
    record.write_text(json.dumps({"pid": os.getpid(), "path": str(path), "branch": branch, "base": base}))
    git("worktree", "add", "--quiet", "-b", branch, str(path), base, cwd=repo.root)
    return Worktree(path=path, branch=branch, base_commit=base, run_id=run_id)


def _git_bytes(*args: str, cwd: Path, data: bytes, env: dict[str, str]) -> str:
    proc = subprocess.run(["git", *_SAFE, *args], cwd=cwd, input=data, capture_output=True,
                          timeout=GIT_TIMEOUT_S, env={**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C", **env})
    if proc.returncode != 0:
        raise GitError(f"git {args[0]} failed: {proc.stderr.decode(errors='replace').strip()[-300:]}")
    return proc.stdout.decode().strip()


def _tree_of(wt: Worktree, files: Mapping[str, str]) -> str:
    """A tree object: the base commit's tree with `files` (path -> content) as regular, non-executable
    files. Paths are taken literally (no pathspec, no glob); nothing is read from the disk."""
    with tempfile.TemporaryDirectory(prefix="greenloop-index-") as tmp:
        env = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
        git("read-tree", wt.base_commit, cwd=wt.path, env=env)
        for path, content in files.items():
            sha = _git_bytes("hash-object", "-w", "--no-filters", "--stdin", cwd=wt.path,
                             data=content.encode("utf-8"), env={})
            git("update-index", "--add", "--cacheinfo", f"100644,{sha},{path}", cwd=wt.path, env=env)
        return git("write-tree", cwd=wt.path, env=env).stdout.strip()


def commit(wt: Worktree, files: Mapping[str, str], message: str, *, verify: bool,
           committer: tuple[str, str]) -> str:
    """Commit exactly `files` (path -> the checked content) on the run's branch, on top of its base: built
    from the record, so whatever the tests left on disk (new files, links, changed bytes) is not in it.
    With `verify` the repository's commit hooks run (on the host; a trusted setting only) and must leave
    the commit as it was built."""
    tree = _tree_of(wt, files)
    env = {"GIT_COMMITTER_NAME": committer[0], "GIT_COMMITTER_EMAIL": committer[1]}
    if not git("config", "user.name", cwd=wt.path, check=False).stdout.strip():
        env |= {"GIT_AUTHOR_NAME": committer[0], "GIT_AUTHOR_EMAIL": committer[1]}
    if verify:
        return _commit_with_hooks(wt, files, message, env, tree)
    sha = _git_bytes("commit-tree", tree, "-p", wt.base_commit, "-F", "-", cwd=wt.path,
                     data=message.encode("utf-8"), env=env)
    git("update-ref", f"refs/heads/{wt.branch}", sha, wt.base_commit, cwd=wt.path)
    return sha


def _commit_with_hooks(wt: Worktree, files: Mapping[str, str], message: str, env: dict[str, str],
                       tree: str) -> str:
    ws = Workspace(wt.path)
    for path, content in files.items():
        ws.write_text(path, content)
    git("add", "--", *(f":(literal){p}" for p in files), cwd=wt.path)
    proc = subprocess.run(["git", *_SAFE[2:], "commit", "--quiet", "-F", "-"], cwd=wt.path, input=message,
                          capture_output=True, text=True, timeout=GIT_TIMEOUT_S,
                          env={**os.environ, "GIT_TERMINAL_PROMPT": "0", **env})
    if proc.returncode != 0:
        raise GitError(f"git commit failed: {(proc.stderr or proc.stdout).strip()[-300:]}")
    sha = git("rev-parse", "HEAD", cwd=wt.path).stdout.strip()
    if git("rev-parse", f"{sha}^{{tree}}", cwd=wt.path).stdout.strip() != tree:
        git("update-ref", f"refs/heads/{wt.branch}", wt.base_commit, cwd=wt.path)
        raise GitError("the repository's commit hooks changed what was committed; the run's files were checked, "
                       "the hooks' changes were not. Run without --verify")
    return sha


def reset_worktree(path: Path) -> None:
    """The worktree back to its base commit: tracked files as committed, everything else (what a test run
    created: a conftest.py, links, caches, a tree of any depth) removed, links never followed. The run's own
    files are written again from its record afterwards."""
    ws = Workspace(path)
    untracked = git("ls-files", "-z", "--others", "--directory", cwd=path).stdout  # ignored files too
    for name in dict.fromkeys(p.rstrip("/") for p in untracked.split("\0") if p):
        ws.clear(name)
    git("reset", "--hard", "--quiet", cwd=path)


def tracked_files(wt: Worktree) -> list[str]:
    return [p for p in git("ls-files", "-z", cwd=wt.path).stdout.split("\0") if p]


def dirty_paths(path: Path) -> list[str]:
    """Files in the worktree that differ from the base commit or are new (ignored files aside)."""
    out = git("status", "--porcelain=v1", "-z", "--untracked-files=all", cwd=path, check=False).stdout
    paths, entries = [], out.split("\0")
    i = 0
    while i < len(entries):
        entry = entries[i]
        if len(entry) > 3:
            paths.append(entry[3:])
            if entry[0] in "RC":  # a rename is followed by its source path
                i += 1
        i += 1
    return sorted(set(paths))


def remove_worktree(repo: Repo, wt: Worktree, *, delete_branch: bool) -> None:
    """Remove the run's worktree (and branch if asked). Safe to call twice. greenloop removes the directory
    itself, iteratively and without following links, whatever the jail left in it (any depth, other owners,
    directories without permissions); only a directory directly under greenloop's worktrees dir is removed.
    GitError (and the run's record kept, so the next start retries) if it cannot be removed."""
    if _is_run_worktree(repo, wt.path):
        try:
            remove_tree(wt.path)
        except OSError as exc:
            raise GitError(f"could not remove the run's worktree {wt.path} ({exc.strerror or exc}); "
                           "remove it by hand, then run `git worktree prune`") from exc
    git("worktree", "prune", cwd=repo.root, check=False)
    if delete_branch:
        git("branch", "-D", "--quiet", wt.branch, cwd=repo.root, check=False)
    _active_record(repo, wt.run_id).unlink(missing_ok=True)


def _pid_alive(pid: int, since: float | None = None) -> bool:
    """Whether the run that wrote its record at time `since` still runs as `pid`. Not: a pid that is not
    positive (os.kill would signal a group), a pid that is gone, or one that belongs to a process started
    after the record was written (the pid was reused, e.g. after a reboot)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # alive, another user's
    started = _process_start(pid)
    return started is None or since is None or started <= since + _START_SLACK_S


def prune_stale(repo: Repo) -> list[str]:
    """Clean up after runs that were killed: their worktree, and their branch unless it got a commit. A record
    greenloop cannot read is dropped (no path in it is trusted); a worktree that cannot be removed stays
    recorded for the next start, and this start goes on."""
    pruned: list[str] = []
    active = repo.greenloop_dir / "active"
    for record in sorted(active.glob("*.json")) if active.is_dir() else []:
        run = _read_active(record)
        if run is None:
            record.unlink(missing_ok=True)
            continue
        if run.pid != os.getpid() and _pid_alive(run.pid, record.stat().st_mtime):
            continue
        wt = Worktree(run.path, run.branch, run.base, record.stem)
        tip = git("rev-parse", "--verify", "-q", f"refs/heads/{wt.branch}", cwd=repo.root, check=False)
        unmoved = tip.returncode != 0 or tip.stdout.strip() == wt.base_commit
        try:
            remove_worktree(repo, wt, delete_branch=unmoved and not run.keep)
        except GitError:
            continue
        pruned.append(record.stem)
    git("worktree", "prune", cwd=repo.root, check=False)
    return pruned


def mark_kept(repo: Repo, run_id: str) -> None:
    """A failed run kept by --keep-failed: its worktree stays, and prune_stale leaves its branch."""
    record = _active_record(repo, run_id)
    run = _read_active(record) if record.exists() else None
    if run is not None:
        (repo.greenloop_dir / "kept").mkdir(exist_ok=True)
        (repo.greenloop_dir / "kept" / record.name).write_text(json.dumps(
            {"pid": run.pid, "path": str(run.path), "branch": run.branch, "base": run.base, "keep": True}))
    record.unlink(missing_ok=True)


def undo(repo: Repo, branch: str, commit_sha: str) -> None:
    """Delete a run's branch, only if it still points at the run's commit and nothing else contains it."""
    tip = git("rev-parse", "--verify", "-q", f"refs/heads/{branch}", cwd=repo.root, check=False)
    if tip.returncode != 0:
        raise UsageError(f"branch {branch} no longer exists; nothing to undo")
    if tip.stdout.strip() != commit_sha:
        raise UsageError(f"branch {branch} has moved since the run (someone committed on it); "
                         f"delete it yourself with `git branch -D {branch}` if you mean it")
    others = [b.strip().lstrip("*+ ").strip() for b in git(
        "branch", "--contains", commit_sha, "--format=%(refname:short)", cwd=repo.root).stdout.splitlines()]
    others = [b for b in others if b and b != branch]
    if others:
        raise UsageError(f"the run's commit is already merged into {', '.join(others)}; refusing to undo")
    current = git("symbolic-ref", "-q", "--short", "HEAD", cwd=repo.root, check=False).stdout.strip()
    if current == branch:
        raise UsageError(f"{branch} is checked out in your working tree; switch branches first")
    git("branch", "-D", "--quiet", branch, cwd=repo.root)


_START_SLACK_S = 2.0  # /proc/stat's boot time has a resolution of one second


@dataclass(frozen=True)
class _ActiveRun:
    """A run's record in <greenloop dir>/active (written by create_worktree)."""

    pid: int
    path: Path
    branch: str
    base: str
    keep: bool = False


def _read_active(record: Path) -> _ActiveRun | None:
    """The record, or None if it is not one greenloop wrote (unreadable, not JSON, wrong fields)."""
    try:
        info = json.loads(record.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    if not isinstance(info, dict):
        return None
    pid, path, branch, base = info.get("pid"), info.get("path"), info.get("branch"), info.get("base")
    if not (isinstance(pid, int) and isinstance(path, str) and isinstance(branch, str) and isinstance(base, str)):
        return None
    return _ActiveRun(pid, Path(path), branch, base, info.get("keep") is True)


def _is_run_worktree(repo: Repo, path: Path) -> bool:
    """Only a directory directly under <greenloop dir>/worktrees is ever removed, whatever a record says."""
    own = (repo.greenloop_dir / "worktrees").resolve()
    return path.parent.resolve() == own and path.name not in ("", ".", "..")


def _process_start(pid: int) -> float | None:
    """When `pid` started (seconds since the epoch), from /proc; None where /proc cannot tell."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        boot = next(float(line.split()[1]) for line in Path("/proc/stat").read_text().splitlines()
                    if line.startswith("btime "))
    except (OSError, IndexError, StopIteration, ValueError):
        return None
    return boot + int(fields[19]) / os.sysconf("SC_CLK_TCK")
