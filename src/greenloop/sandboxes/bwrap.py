"""The default sandbox on Linux: bubblewrap, run as an unprivileged uid, with no network.

The jail sees the host read-only, minus tmpfs masks (homes, the repository's git dir and the user's
checkouts, see view.py), plus read-only binds of what the command needs and the worktree read-write.
Every tmpfs is size-capped, a seccomp filter (seccomp.py) denies syscalls tests never need, and the
worktree's growth is watched (growth.py). As root, bwrap runs as uid 65534 through stage.py and the
worktree is given back to its owner afterwards.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from greenloop.sandboxes import seccomp, staging
from greenloop.sandboxes.common import Limits, base_env, python_prefixes, run_capped
from greenloop.sandboxes.tree import chown_tree
from greenloop.sandboxes.view import git_view, home_masks
from greenloop.types import SandboxResult

SANDBOX_UID = 65534
STAGE_SCRIPT = Path(__file__).with_name("stage.py")
PROBE_TIMEOUT_S = 10
PROBE_ATTEMPTS = 3
PROBE_PAUSE_S = 0.3
MASK_TMPFS_BYTES = 1024**2  # masks only hide (read-only in the end); they hold mount points, not data


@dataclass(frozen=True)
class Layout:
    """The jail, as data: what is bound where. `build_argv` turns it into bwrap arguments."""

    workdir: Path
    ro_paths: tuple[Path, ...]
    masked: tuple[Path, ...]
    env: Mapping[str, str]
    sources: Mapping[Path, Path] = field(default_factory=dict)  # dest -> where bwrap reads it from
    dirs: tuple[Path, ...] = ()  # empty directories to create after the masks
    tmpfs_bytes: int = Limits.tmpfs_bytes
    bind_from: Mapping[Path, Path] = field(default_factory=dict)  # dest -> host path, when they differ

    def src(self, dest: Path) -> str:
        return str(self.sources.get(dest, self.bind_from.get(dest, dest)))


def build_argv(layout: Layout, argv: Sequence[str], bwrap: str, seccomp_fd: int | None = None) -> list[str]:
    scratch = ["--size", str(layout.tmpfs_bytes)]
    args = [bwrap, "--unshare-user", "--disable-userns", "--unshare-ipc", "--unshare-pid",
            "--unshare-net", "--unshare-uts", "--unshare-cgroup-try", "--die-with-parent",
            "--new-session", "--ro-bind", "/", "/", "--dev", "/dev", *scratch, "--tmpfs", "/dev/shm",
            "--remount-ro", "/dev", "--proc", "/proc", *scratch, "--tmpfs", "/tmp",
            "--size", str(MASK_TMPFS_BYTES), "--tmpfs", "/run", "--dir", "/tmp/home"]
    # Parents before children, masks before binds at the same depth: a mask hides what is below it, a
    # later bind shows one path again (an interpreter under a home, the worktree inside the git dir).
    mounts = [(len(p.parts), 0, "--tmpfs", p) for p in layout.masked]
    mounts += [(len(p.parts), 1, "--ro-bind", p) for p in layout.ro_paths]
    mounts += [(len(layout.workdir.parts), 1, "--bind", layout.workdir)]
    mounts += [(len(p.parts), 2, "--dir", p) for p in layout.dirs]
    for _, _, kind, path in sorted(mounts, key=lambda m: (m[0], m[1])):
        if kind == "--tmpfs":
            args += ["--size", str(MASK_TMPFS_BYTES), "--tmpfs", str(path)]
        elif kind == "--dir":
            args += ["--dir", str(path)]
        else:
            args += [kind, layout.src(path), str(path)]
    git_file = layout.workdir / ".git"
    if git_file.is_file():  # a worktree's pointer to its git dir (a .git dir is masked like any git dir)
        args += ["--ro-bind", str(Path(layout.src(layout.workdir)) / ".git"), str(git_file)]
    for path in layout.masked:  # last: the binds below a mask are made; remount-ro is not recursive
        args += ["--remount-ro", str(path)]
    if seccomp_fd is not None:
        args += ["--seccomp", str(seccomp_fd)]
    args += ["--clearenv"]
    for key, value in layout.env.items():
        args += ["--setenv", key, value]
    args += ["--chdir", str(layout.workdir), "--", *argv]
    return args


def _venv_dirs(argv0: str) -> list[Path]:
    """The project's own virtual environment (when the command is its interpreter) and the Python it is
    built on: bound read-only, so the tests run with the project's dependencies."""
    exe = Path(argv0)
    if not exe.is_absolute():
        return []
    venv = exe.parent.parent
    cfg = venv / "pyvenv.cfg"
    if not cfg.is_file():
        return []
    dirs = [venv.resolve()]
    for line in cfg.read_text(encoding="utf-8", errors="replace").splitlines():
        key, _, value = line.partition("=")
        if key.strip() == "home" and value.strip():
            dirs.append(Path(value.strip()).resolve().parent)  # home is the base's bin/; bind its prefix
    return dirs


class _ProbeFailed(Exception):
    pass


def bwrap_problem() -> str | None:
    """None if an unprivileged bwrap jail can be built here, else the reason it cannot. A failure is tried
    again a few times (a transient error must not weaken the whole process) and never remembered; a success
    is remembered per bwrap executable."""
    exe = shutil.which("bwrap")
    if exe is None:
        return "bubblewrap is not installed (apt-get install bubblewrap)"
    problem = ""
    for attempt in range(PROBE_ATTEMPTS):
        if attempt:
            time.sleep(PROBE_PAUSE_S)
        try:
            _verified(exe)
            return None
        except _ProbeFailed as exc:
            problem = str(exc)
    return f"{problem} (tried {PROBE_ATTEMPTS} times)"


@functools.cache
def _verified(exe: str) -> str:
    """Raises _ProbeFailed (never cached: functools.cache keeps only returned values)."""
    try:
        with tempfile.TemporaryDirectory() as tmp:
            result = BwrapSandbox(bwrap=exe).run(["/bin/true"], Path(tmp), timeout_s=PROBE_TIMEOUT_S)
    except OSError as exc:
        raise _ProbeFailed(f"bwrap could not start: {exc}") from exc
    if result.exit_code != 0:
        raise _ProbeFailed(f"bwrap cannot create a user namespace here: {result.stderr.strip()[:200]}")
    return exe


class BwrapSandbox:
    name = "bwrap"

    def __init__(self, limits: Limits | None = None, bwrap: str | None = None,
                 extra_ro: Sequence[Path] = ()) -> None:
        self.limits = limits or Limits()
        self.bwrap = bwrap or shutil.which("bwrap") or "bwrap"
        self.extra_ro = tuple(extra_ro)

    def layout(self, workdir: Path, env: Mapping[str, str] | None, argv0: str = "",
               binds: Mapping[Path, Path] | None = None) -> Layout:
        workdir = workdir.resolve()
        git = git_view(workdir)
        ro = [p for p in (*python_prefixes(), *_venv_dirs(argv0), *self.extra_ro) if p.exists()]
        bin_dirs = [Path(sys.executable).parent, *(p / "bin" for p in ro)]
        bound = {dest: src.resolve() for dest, src in (binds or {}).items() if src.is_dir()}
        return Layout(workdir=workdir, ro_paths=tuple(dict.fromkeys([*ro, *git.ro_binds, *bound])), bind_from=bound,
                      masked=tuple(m for m in dict.fromkeys([*home_masks(), *git.masks]) if m != workdir),
                      dirs=git.dirs,
                      env=base_env(workdir, bin_dirs, env), tmpfs_bytes=self.limits.tmpfs_bytes)

    def run(self, argv: Sequence[str], workdir: Path, timeout_s: float,
            env: Mapping[str, str] | None = None, binds: Mapping[Path, Path] | None = None) -> SandboxResult:
        """`binds`: host directories shown read-only at another path (a destination inside the worktree
        must exist there as a directory: it is the mount point)."""
        layout = self.layout(workdir, env, argv[0] if argv else "", binds)
        filter_fd = seccomp.filter_fd()
        fds = () if filter_fd is None else (filter_fd,)
        try:
            if os.geteuid() != 0:
                return run_capped(build_argv(layout, argv, self.bwrap, filter_fd), cwd=None, env={},
                                  timeout_s=timeout_s, limits=self.limits, watch=layout.workdir, pass_fds=fds)
            return self._run_as_root(layout, argv, timeout_s, filter_fd)
        finally:
            if filter_fd is not None:
                os.close(filter_fd)

    def _run_as_root(self, layout: Layout, argv: Sequence[str], timeout_s: float,
                     filter_fd: int | None) -> SandboxResult:
        """unshare (a private mount namespace) -> stage.py (binds into a staging dir, drops to uid 65534)
        -> bwrap. The worktree is the sandbox user's during the run and its owner's again after it."""
        staging.sweep()
        git_file = layout.workdir / ".git"  # never chowned: its owner is the worktree's, even after a crash
        owner = os.lstat(git_file if git_file.exists() else layout.workdir)
        stage, sources = staging.make([layout.workdir, *layout.ro_paths])
        staged = Layout(workdir=layout.workdir, ro_paths=layout.ro_paths, masked=layout.masked, env=layout.env,
                        sources=sources, dirs=layout.dirs, tmpfs_bytes=layout.tmpfs_bytes, bind_from=layout.bind_from)
        skip_git = frozenset({".git"})  # the worktree's .git file stays the owner's, bound read-only
        try:
            chown_tree(layout.workdir, SANDBOX_UID, SANDBOX_UID, skip_top=skip_git)
            spec = {"uid": SANDBOX_UID, "gid": SANDBOX_UID, "parent": os.getpid(),
                    "mounts": [[str(layout.bind_from.get(d, d)), str(s)] for d, s in staged.sources.items()],
                    "argv": build_argv(staged, argv, self.bwrap, filter_fd)}
            outer = ["unshare", "--mount", "--propagation", "private", "--",
                     sys.executable, "-I", "-S", str(STAGE_SCRIPT), json.dumps(spec)]
            return run_capped(outer, cwd=None, env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"},
                              timeout_s=timeout_s, limits=self.limits, watch=layout.workdir,
                              pass_fds=() if filter_fd is None else (filter_fd,))
        finally:
            chown_tree(layout.workdir, owner.st_uid, owner.st_gid, skip_top=skip_git)
            staging.remove(stage)
