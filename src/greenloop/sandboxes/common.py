"""What every sandbox shares: the environment allowlist, rlimits, output caps and process-tree kill."""

from __future__ import annotations

import ctypes
import os
import resource
import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from greenloop.sandboxes.growth import GrowthWatch
from greenloop.types import SandboxResult

TRUNCATION_MARKER = "\n[greenloop: output truncated: {omitted} bytes omitted here; the head and the tail are kept]\n"
SANDBOX_HOME = "/tmp/home"
DRAIN_AFTER_EXIT_S = 1.0


@dataclass(frozen=True)
class Limits:
    memory_bytes: int = 2 * 1024**3
    file_size_bytes: int = 100 * 1024**2
    processes: int = 256
    cpu_seconds: int = 600
    output_bytes: int = 1024 * 1024
    tmpfs_bytes: int = 256 * 1024**2  # each scratch tmpfs in the jail (/tmp, /dev/shm)
    worktree_growth_bytes: int = 512 * 1024**2  # how much a run may add to the worktree on disk


def python_prefixes() -> list[Path]:
    """Directories the interpreter that runs the tests needs (venv and its base), deduplicated."""
    seen: list[Path] = []
    for p in (sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix):
        rp = Path(p).resolve()
        if rp not in seen and rp != Path("/") and not any(rp.is_relative_to(s) for s in seen):
            seen.append(rp)
    return seen


def base_env(workdir: Path, bin_dirs: Sequence[Path], extra: Mapping[str, str] | None) -> dict[str, str]:
    """Built from an allowlist, never by deleting a denylist: nothing of the host's env leaks."""
    path = ":".join([*(str(b) for b in bin_dirs), "/usr/local/bin", "/usr/bin", "/bin"])
    env = {
        "PATH": path,
        "HOME": SANDBOX_HOME,
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "TMPDIR": "/tmp",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONNOUSERSITE": "1",
        "PYTHONHASHSEED": "0",
        "PYTHONUNBUFFERED": "1",
        "PYTHONPATH": os.pathsep.join(str(p) for p in (workdir / "src", workdir) if p.is_dir()),
    }
    env.update(extra or {})
    return env


PR_SET_PDEATHSIG = 1


def rlimit_setter(limits: Limits) -> Callable[[], None]:
    """A preexec function: rlimits are inherited by everything the command starts, and the command
    is killed if greenloop dies (even by SIGKILL), so a jail never outlives its run."""
    libc = ctypes.CDLL(None, use_errno=True)

    def apply() -> None:
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
        resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_size_bytes, limits.file_size_bytes))
        resource.setrlimit(resource.RLIMIT_NPROC, (limits.processes, limits.processes))
        resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds + 5))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    return apply


class _Capped:
    """Keeps the first half and the last half of `limit` bytes: a test runner's summary comes at the end."""

    def __init__(self, limit: int) -> None:
        self.head_limit = limit // 2
        self.tail_limit = limit - self.head_limit
        self.head = bytearray()
        self.tail = bytearray()
        self.omitted = 0

    def add(self, data: bytes) -> None:
        room = self.head_limit - len(self.head)
        if room > 0:
            self.head += data[:room]
            data = data[room:]
        self.tail += data
        excess = len(self.tail) - self.tail_limit
        if excess > 0:
            del self.tail[:excess]  # bytearray drops from the front in O(1)
            self.omitted += excess

    def text(self) -> str:
        head = self.head.decode("utf-8", errors="replace")
        if not self.omitted:
            return head + self.tail.decode("utf-8", errors="replace")
        return head + TRUNCATION_MARKER.format(omitted=self.omitted) + self.tail.decode("utf-8", errors="replace")


def run_capped(argv: Sequence[str], *, cwd: Path | None, env: Mapping[str, str], timeout_s: float,
               limits: Limits, watch: Path | None = None, pass_fds: Sequence[int] = ()) -> SandboxResult:
    """Run argv in a new session under `limits` (rlimits, a cgroup leaf where one can be made); cap
    output; stop it if the `watch` directory grows past `limits.worktree_growth_bytes`; at the end kill
    the whole process group, then anything left in the cgroup. `pass_fds` stay open in the command."""
    growth = GrowthWatch(watch, limits.worktree_growth_bytes) if watch is not None else None
    cgroup = CgroupKiller(f"run-{os.getpid()}-{os.urandom(3).hex()}")
    set_limits = rlimit_setter(limits)

    def preexec() -> None:
        cgroup.enter()
        set_limits()

    start = time.monotonic()
    proc = subprocess.Popen(list(argv), cwd=cwd, env=dict(env), stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
                            preexec_fn=preexec, close_fds=True, pass_fds=tuple(pass_fds))
    if growth is not None:
        growth.start()
    outs = {proc.stdout.fileno(): _Capped(limits.output_bytes),  # type: ignore[union-attr]
            proc.stderr.fileno(): _Capped(limits.output_bytes)}  # type: ignore[union-attr]
    sel = selectors.DefaultSelector()
    for fd in outs:
        os.set_blocking(fd, False)
        sel.register(fd, selectors.EVENT_READ)
    deadline = start + timeout_s
    timed_out = False
    exited_at: float | None = None
    try:
        while sel.get_map():
            now = time.monotonic()
            if now >= deadline:
                timed_out = proc.poll() is None
                break
            if growth is not None and growth.tripped.is_set():
                break
            if exited_at is None and proc.poll() is not None:
                exited_at = now
            if exited_at is not None and now - exited_at > DRAIN_AFTER_EXIT_S:
                break  # a descendant still holds the pipe open; it is killed below
            for key, _ in sel.select(timeout=min(0.05, deadline - now)):
                try:
                    data = os.read(key.fd, 65536)
                except BlockingIOError:
                    continue
                if data:
                    outs[key.fd].add(data)
                else:
                    sel.unregister(key.fd)
    finally:
        sel.close()
        _kill_tree(proc)
        code = proc.wait(timeout=10)  # reap first: a zombie still counts in the cgroup
        cgroup.kill()
        proc.stdout.close()  # type: ignore[union-attr]
        proc.stderr.close()  # type: ignore[union-attr]
        if growth is not None:
            growth.stop()
    out, err = (c for c in outs.values())
    stopped = ""
    if growth is not None and (growth.tripped.is_set() or growth.check()):  # also what it wrote in its last moment
        stopped = "\n" + growth.reason + "\n"
        code = code if code != 0 else 1
    return SandboxResult(
        exit_code=code if code >= 0 else 128 - code,
        stdout=out.text(), stderr=err.text() + stopped,
        duration_s=time.monotonic() - start, timed_out=timed_out,
        truncated=bool(out.omitted or err.omitted),
        killed_by_signal=-code if code < 0 else None,
    )


def _kill_tree(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


class CgroupKiller:
    """Best effort: a cgroup v2 leaf for the command, so `cgroup.kill` ends even escaped descendants."""

    def __init__(self, name: str) -> None:
        self.path: Path | None = None
        root = _cgroup2_root()
        if root is None:
            return
        candidate = root / "greenloop" / name
        try:
            candidate.mkdir(parents=True)
        except OSError:
            return
        if (candidate / "cgroup.kill").exists():
            self.path = candidate
        else:
            candidate.rmdir()

    def enter(self) -> None:
        """Called in the child before exec."""
        if self.path is not None:
            with open(self.path / "cgroup.procs", "w") as fh:
                fh.write("0")

    def kill(self) -> None:
        if self.path is None:
            return
        try:
            (self.path / "cgroup.kill").write_text("1")
            for _ in range(50):
                if not (self.path / "cgroup.procs").read_text().strip():
                    break
                time.sleep(0.01)
            self.path.rmdir()
        except OSError:
            pass


def _cgroup2_root() -> Path | None:
    try:
        own = Path("/proc/self/cgroup").read_text().splitlines()
        mounts = Path("/proc/self/mountinfo").read_text().splitlines()
    except OSError:
        return None
    rel = next((line.split("::", 1)[1] for line in own if line.startswith("0::")), None)
    mount = next((line.split()[4] for line in mounts if " - cgroup2 " in line), None)
    if rel is None or mount is None:
        return None
    root = Path(mount) / rel.lstrip("/")
    return root if os.access(root, os.W_OK) else None
