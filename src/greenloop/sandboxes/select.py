"""Choosing the sandbox: bwrap where it works, else the process fallback; `none` only when asked."""

from __future__ import annotations

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
