"""Shared fixtures: real git repositories in tmp dirs, scripts for the scripted model, the real CLI."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

GOOD_TEST = ('from textkit.slug import slugify\n\n\ndef test_basic():\n    assert slugify("Hello World") == "hello-world"\n'
             '\n\ndef test_punct():\n    assert slugify("  A, b!  ") == "a-b"\n')
BAD_IMPL = 'def slugify(text):\n    return text.lower().replace(" ", "-")\n'
GOOD_IMPL = ('import re\n\n\ndef slugify(text: str) -> str:\n'
             '    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")\n')
TASK = "Add a slugify(text) helper in textkit/slug.py"


def whole(test: str | None = GOOD_TEST, impl: str | None = GOOD_IMPL, **extra: str) -> str:
    obj: dict = {}
    if test is not None:
        obj["testFile"] = {"path": "tests/test_slug.py", "content": test}
    obj["sourceFiles"] = ([{"path": "textkit/slug.py", "content": impl}] if impl is not None else []) + [
        {"path": p, "content": c} for p, c in extra.items()]
    return json.dumps(obj)


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True,
                          timeout=60).stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / "textkit").mkdir(parents=True)
    (root / "textkit" / "__init__.py").write_text("")
    (root / "README.md").write_text("# textkit\n")
    return init_repo(root)


def init_repo(root: Path) -> Path:
    """`root` as a git repository on `main` with everything in it committed."""
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.email", "dev@example.com")
    git(root, "config", "user.name", "Dev")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "init")
    return root


def write_script(path: Path, replies: list) -> Path:
    path.write_text(json.dumps({"replies": replies}))
    return path


def snapshot(repo: Path) -> dict[str, str]:
    """Everything the user could notice: files in the working tree, index, HEAD, branches, stash, worktrees."""
    state: dict[str, str] = {}
    for p in sorted(repo.rglob("*")):
        rel = p.relative_to(repo)
        if rel.parts and rel.parts[0] == ".git":
            continue
        if p.is_file() or p.is_symlink():
            state[str(rel)] = hashlib.sha256(p.read_bytes() if p.is_file() else os.readlink(p).encode()).hexdigest()
    state["index"] = hashlib.sha256((repo / ".git" / "index").read_bytes()).hexdigest() \
        if (repo / ".git" / "index").exists() else ""
    state["HEAD"] = (repo / ".git" / "HEAD").read_text()
    state["status"] = git(repo, "status", "--porcelain=v2", "--branch", "--untracked-files=all")
    state["stash"] = git(repo, "stash", "list")
    state["worktrees"] = git(repo, "worktree", "list", "--porcelain")
    return state


def cli(*args: str, cwd: Path | None = None, env: dict | None = None, timeout: float = 300,
        input: str | None = None) -> subprocess.CompletedProcess:
    """The real console script, as a user runs it. A variable given as None is removed from the environment;
    `input` is piped to stdin."""
    full_env = {k: v for k, v in {**os.environ, **(env or {})}.items() if v is not None}
    return subprocess.run([sys.executable, "-m", "greenloop", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env=full_env, input=input)


def summary(proc: subprocess.CompletedProcess) -> dict:
    return json.loads(proc.stdout.strip().splitlines()[-1])


def scripted_run(repo: Path, tmp_path: Path, task: str, replies: list[dict], env: dict[str, str],
                 test_cmd: str = "python -m pytest -q -p no:cacheprovider tests") -> dict:
    """One `greenloop run --json` of `task` with the scripted model replying `replies`: its summary."""
    script = write_script(tmp_path / "s.json", replies)
    proc = cli("run", task, "--repo", str(repo), "--model", f"scripted:{script}", "--json", "--test-cmd", test_cmd,
               env=env)
    assert proc.stdout.strip(), proc.stderr
    return summary(proc)


def requested_steps(s: dict) -> list[str]:
    """The step of each model request the run made, in order."""
    return [e["step"] for e in events(s["trajectory"]) if e["kind"] == "model_request"]


def wait_until_testing(repo: Path, timeout: float = 60) -> None:
    """Block until a run in `repo` has passed validation, so that it is inside its test run."""
    runs = repo / ".git" / "greenloop" / "runs"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        trajs = list(runs.glob("*/trajectory.jsonl")) if runs.exists() else []
        if trajs and '"validation"' in trajs[0].read_text():
            time.sleep(0.5)  # the sandbox is starting the tests now
            return
        time.sleep(0.1)
    raise AssertionError("the run never reached its test run")


def events(path: str | Path) -> list[dict]:
    return [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]


def on_a_terminal(argv: list[str], env: dict[str, str], columns: int = 80, prompt: bytes = b"", answer: str = "",
                  timeout: float = 240) -> tuple[int, str]:
    """argv on a new pseudo-terminal `columns` wide, as a user at a shell runs it; `answer` is typed once
    `prompt` shows. (exit code, everything the terminal showed)."""
    import fcntl
    import pty
    import select
    import struct
    import termios

    pid, fd = pty.fork()
    if pid == 0:  # the child: a terminal of its own
        os.execve(argv[0], argv, env)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    shown, answered, deadline = b"", not prompt, time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if not select.select([fd], [], [], 0.2)[0]:
                continue
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            shown += chunk
            if not answered and prompt in shown:
                os.write(fd, answer.encode() + b"\r")
                answered = True
        else:
            os.kill(pid, 9)
    finally:
        os.close(fd)
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]), shown.decode(errors="replace")
