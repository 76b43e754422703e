"""Choosing the sandbox: bwrap where it works, else the process fallback; `none` only when asked."""

from __future__ import annotations

from greenloop.config import Settings
from greenloop.errors import ConfigError
from greenloop.protocols import Sandbox
from greenloop.sandboxes.common import Limits


def choose(kind: str, limits: Limits) -> tuple[Sandbox, str]:
    """The sandbox and a one-line reason (shown by `greenloop doctor` and recorded in the trajectory)."""
    from greenloop.sandboxes.bwrap import BwrapSandbox, bwrap_problem
    from greenloop.sandboxes.process import NoSandbox, ProcessSandbox

    if kind in ("auto", "bwrap"):
        problem = bwrap_problem()
        if problem is None:
            return BwrapSandbox(limits), "bubblewrap works here: unprivileged uid, no network, read-only host"
        if kind == "bwrap":
            raise ConfigError(f"--sandbox bwrap: {problem}")
        return ProcessSandbox(limits), f"fallback to 'process' because {problem}"
    if kind == "process":
        return ProcessSandbox(limits), "'process' requested"
    if kind == "none":
        return NoSandbox(limits), "'none' requested explicitly"
    raise ConfigError(f"--sandbox {kind}: unknown; use auto, bwrap, process or none")


def limits_of(settings: Settings) -> Limits:
    """The sandbox limits a run's settings ask for."""
    mib = 1024**2
    return Limits(memory_bytes=settings.memory_limit_mb * mib, file_size_bytes=settings.file_size_limit_mb * mib,
                  processes=settings.max_processes, cpu_seconds=settings.cpu_seconds,
                  output_bytes=settings.output_limit_bytes, tmpfs_bytes=settings.tmpfs_limit_mb * mib,
                  worktree_growth_bytes=settings.worktree_growth_limit_mb * mib)
