"""What the repository-task benchmarks share: a project made in a temporary git repository, one `greenloop run`
of a task on it as a user would type it, and the task's hidden test run on the run's branch in the jail.

Imported by js_repo_tasks.py and py_repo_tasks.py (run as scripts from the repository root, so this directory is on
sys.path). A green run counts as solved only when the hidden test, which the run never saw, passes on its branch.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEV = ("-c", "user.email=dev@example.com", "-c", "user.name=Dev")


@dataclass(frozen=True)
class Hidden:
    """The check a run never sees: `files` written into a clone of its branch, then `argv` run there in the jail."""
    files: dict[str, str]
    argv: tuple[str, ...]
    memory_limit_mb: int = 2048


@dataclass(frozen=True)
class Outcome:
    status: str  # success (green and the hidden check passed), false_green, or the run's own status
    green: bool
    hidden_passed: bool
    attempts: int | None
    calls: int | None
    tokens: int | None
    tests: object
    seconds: float
    error: str | None
    stderr_tail: str
    trajectory: str | None = None


@dataclass(frozen=True)
class Task:
    text: str  # what the user types
    hidden: Hidden
    reference: dict[str, str] = field(default_factory=dict)  # a right solution: `--check` proves the hidden check
    env: dict[str, str] = field(default_factory=dict)


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True, timeout=60).stdout


def make_project(root: Path, files: dict[str, str], modules: Path | None = None) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    if modules is not None:
        shutil.copytree(modules, root / "node_modules", symlinks=True)
    git(root, "init", "-q", "-b", "main")
    git(root, *DEV, "add", "-A")
    git(root, *DEV, "commit", "-qm", "init")
    return root


def hidden_check(project: Path, branch: str | None, hidden: Hidden, tmp: Path,
                 extra: dict[str, str] | None = None) -> bool:
    """`hidden` on a clone of `branch` (None: the project as it is, with `extra` files written over it), in the
    jail, never on the host."""
    from greenloop.config import Settings
    from greenloop.sandboxes.select import choose, limits_of

    clone = tmp / f"hidden-{time.monotonic_ns()}"
    subprocess.run(["git", "clone", "-q", *(["-b", branch] if branch else []), str(project), str(clone)], check=True,
                   capture_output=True, timeout=60)
    if (project / "node_modules").is_dir():
        shutil.copytree(project / "node_modules", clone / "node_modules", symlinks=True)
    for rel, text in {**(extra or {}), **hidden.files}.items():
        (clone / rel).parent.mkdir(parents=True, exist_ok=True)
        (clone / rel).write_text(text)
    sandbox, _ = choose(Settings().sandbox, limits_of(Settings(memory_limit_mb=hidden.memory_limit_mb)))
    return sandbox.run(list(hidden.argv), clone, timeout_s=120).exit_code == 0


def run_task(project: Path, task: Task, tmp: Path, model: str, keep: Path | None, name: str,
             env: dict[str, str] | None = None) -> Outcome:
    """One `greenloop run TASK --json` on `project`, as a user would start it; its trajectory is copied to `keep`."""
    full_env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), **task.env, **(env or {})}
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "greenloop", "run", task.text, "--repo", str(project),
                           "--model", model, "--json"], capture_output=True, text=True, env=full_env, timeout=3600)
    seconds = time.perf_counter() - start
    lines = proc.stdout.strip().splitlines()
    summary = json.loads(lines[-1]) if lines else {"status": "crash"}
    green = summary.get("status") == "success"
    passed = green and hidden_check(project, str(summary["branch"]), task.hidden, tmp)
    kept = None
    if keep is not None and summary.get("trajectory") and Path(summary["trajectory"]).is_file():
        keep.mkdir(parents=True, exist_ok=True)  # the project is deleted with the temporary directory; this stays
        kept = keep / f"{name}.jsonl"
        shutil.copyfile(summary["trajectory"], kept)
    usage = summary.get("usage") or {}
    return Outcome(status="success" if passed else ("false_green" if green else str(summary.get("status"))),
                   green=green, hidden_passed=passed, attempts=summary.get("attempts"), calls=usage.get("calls"),
                   tokens=(usage.get("input_tokens") or 0) + (usage.get("output_tokens") or 0),
                   tests=summary.get("tests"), seconds=round(seconds, 2), error=summary.get("error"),
                   stderr_tail=proc.stderr[-300:], trajectory=kept.name if kept else None)


def short_commit() -> str:
    return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                          timeout=30).stdout.strip()


def model_label(model: str) -> str:
    return Path(model.split(":", 1)[-1]).stem.split("-instruct")[0]
