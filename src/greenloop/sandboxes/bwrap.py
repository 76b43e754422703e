"""The default sandbox on Linux: bubblewrap, run as an unprivileged uid, with no network."""

from __future__ import annotations

import functools
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from greenloop.sandboxes.common import (
    Limits,
    base_env,
    python_prefixes,
    run_capped,
)
from greenloop.types import SandboxResult

SANDBOX_UID = 65534
STAGE_SCRIPT = Path(__file__).with_name("stage.py")
PROBE_TIMEOUT_S = 10


@dataclass(frozen=True)
class Layout:
    """The jail, as data: what is bound where. `build_argv` turns it into bwrap arguments."""

    workdir: Path
    ro_paths: tuple[Path, ...]
    masked: tuple[Path, ...]
    env: Mapping[str, str]
    sources: Mapping[Path, Path] = field(default_factory=dict)  # dest -> where bwrap reads it from

    def src(self, dest: Path) -> str:
        return str(self.sources.get(dest, dest))


def build_argv(layout: Layout, argv: Sequence[str], bwrap: str) -> list[str]:
    args = [bwrap, "--unshare-user", "--disable-userns", "--unshare-ipc", "--unshare-pid",
            "--unshare-net", "--unshare-uts", "--unshare-cgroup-try", "--die-with-parent",
            "--new-session", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
            "--tmpfs", "/tmp", "--tmpfs", "/run", "--dir", "/tmp/home"]
    for masked in layout.masked:  # home directories and other places where secrets live
        args += ["--tmpfs", str(masked)]
    for path in layout.ro_paths:  # after the tmpfs masks, so an interpreter under $HOME stays visible
        args += ["--ro-bind", layout.src(path), str(path)]
    args += ["--bind", layout.src(layout.workdir), str(layout.workdir)]
    git_file = layout.workdir / ".git"
    if git_file.exists():
        args += ["--ro-bind", str(Path(layout.src(layout.workdir)) / ".git"), str(git_file)]
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


def _git_dirs(workdir: Path) -> list[Path]:
    """A worktree's own git dir and the repository's common git dir (hooks, config): bound read-only,
    so a program can neither plant hooks nor set core.fsmonitor/core.hooksPath for later host runs."""
    dot_git = workdir / ".git"
    if dot_git.is_dir():
        return [dot_git.resolve()]
    try:
        text = dot_git.read_text(encoding="utf-8")
    except OSError:
        return []
    if not text.startswith("gitdir:"):
        return []
    own = (workdir / text.split(":", 1)[1].strip()).resolve()
    try:
        common = (own / (own / "commondir").read_text(encoding="utf-8").strip()).resolve()
    except OSError:
        return [own]
    return [common, own]


def _masked_dirs() -> tuple[Path, ...]:
    homes = {Path.home(), Path("/root")}
    if os.environ.get("HOME"):
        homes.add(Path(os.environ["HOME"]))
    return tuple(sorted(h for h in homes if h.is_dir() and h != Path("/")))


@functools.cache
def bwrap_problem() -> str | None:
    """None if an unprivileged bwrap jail can be built here, else the reason it cannot."""
    exe = shutil.which("bwrap")
    if exe is None:
        return "bubblewrap is not installed (apt-get install bubblewrap)"
    try:
        with tempfile.TemporaryDirectory() as tmp:
            sandbox = BwrapSandbox(bwrap=exe)
            result = sandbox.run(["/bin/true"], Path(tmp), timeout_s=PROBE_TIMEOUT_S)
    except OSError as exc:
        return f"bwrap could not start: {exc}"
    if result.exit_code != 0:
        return f"bwrap cannot create a user namespace here: {result.stderr.strip()[:200]}"
    return None


class BwrapSandbox:
    name = "bwrap"

    def __init__(self, limits: Limits | None = None, bwrap: str | None = None,
                 extra_ro: Sequence[Path] = ()) -> None:
        self.limits = limits or Limits()
        self.bwrap = bwrap or shutil.which("bwrap") or "bwrap"
        self.extra_ro = tuple(extra_ro)

    def layout(self, workdir: Path, env: Mapping[str, str] | None, argv0: str = "") -> Layout:
        ro = [p for p in (*python_prefixes(), *_venv_dirs(argv0), *self.extra_ro, *_git_dirs(workdir)) if p.exists()]
        bin_dirs = [Path(sys.executable).parent, *(p / "bin" for p in ro)]
        return Layout(workdir=workdir.resolve(), ro_paths=tuple(dict.fromkeys(ro)),
                      masked=_masked_dirs(), env=base_env(workdir.resolve(), bin_dirs, env))

    def run(self, argv: Sequence[str], workdir: Path, timeout_s: float,
            env: Mapping[str, str] | None = None) -> SandboxResult:
        layout = self.layout(workdir, env, argv[0] if argv else "")
        if os.geteuid() != 0:
            return run_capped(build_argv(layout, argv, self.bwrap), cwd=None, env={}, timeout_s=timeout_s,
                              limits=self.limits)
        with tempfile.TemporaryDirectory(prefix="greenloop-stage-") as stage:
            os.chmod(stage, 0o755)
            staged = _stage(layout, Path(stage))
            _chown_tree(layout.workdir, SANDBOX_UID)
            spec = {"uid": SANDBOX_UID, "gid": SANDBOX_UID, "parent": os.getpid(),
                    "mounts": [[str(d), str(s)] for d, s in staged.sources.items()],
                    "argv": build_argv(staged, argv, self.bwrap)}
            outer = ["unshare", "--mount", "--propagation", "private", "--",
                     sys.executable, "-I", "-S", str(STAGE_SCRIPT), json.dumps(spec)]
            return run_capped(outer, cwd=None, env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"},
                              timeout_s=timeout_s, limits=self.limits)


def _stage(layout: Layout, stage: Path) -> Layout:
    """Give every bound path a mount point in a traversable staging dir (root path only)."""
    sources: dict[Path, Path] = {}
    for i, dest in enumerate((layout.workdir, *layout.ro_paths)):
        point = stage / str(i)
        point.mkdir()
        sources[dest] = point
    return Layout(workdir=layout.workdir, ro_paths=layout.ro_paths, masked=layout.masked,
                  env=layout.env, sources=sources)


def _chown_tree(root: Path, uid: int) -> None:
    """Root path only: the unprivileged sandbox user must be able to write the run's worktree."""
    os.chown(root, uid, uid)
    for dirpath, dirnames, filenames in os.walk(root):
        for name in (*dirnames, *filenames):
            path = os.path.join(dirpath, name)
            if name == ".git" and dirpath == str(root):
                continue
            os.chown(path, uid, uid, follow_symlinks=False)

