"""Fallback where bubblewrap cannot run: limits, a scrubbed environment and a new session, but no
file-system or network isolation. WARNING is what the run summary and the console must say about it
(the loop puts it into every run whose sandbox is not bwrap); it is not a Python warning, which
PYTHONWARNINGS or a filter could silence."""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from greenloop.sandboxes.common import Limits, base_env, run_capped
from greenloop.types import SandboxResult

WARNING = ("greenloop: the 'process' sandbox does NOT isolate the file system or the network; "
           "generated code runs with your permissions. Install bubblewrap for a real jail.")


class ProcessSandbox:
    name = "process"

    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits or Limits()

    def run(self, argv: Sequence[str], workdir: Path, timeout_s: float,
            env: Mapping[str, str] | None = None, binds: Mapping[Path, Path] | None = None) -> SandboxResult:
        """`binds` (dest -> host dir) become links for the run: this sandbox isolates nothing anyway."""
        full_env = base_env(workdir, [Path(sys.executable).parent], env)
        full_env["HOME"] = str(workdir)
        links = [dest for dest, src in (binds or {}).items() if src.is_dir() and _link(dest, src)]
        try:
            return run_capped(argv, cwd=workdir, env=full_env, timeout_s=timeout_s, limits=self.limits,
                              watch=workdir)
        finally:
            for dest in links:
                dest.unlink(missing_ok=True)


def _link(dest: Path, src: Path) -> bool:
    """A link at `dest` (an empty mount-point directory there is replaced); False if something else is there."""
    if dest.is_dir() and not dest.is_symlink() and not any(dest.iterdir()):
        dest.rmdir()
    if dest.exists() or dest.is_symlink():
        return False
    dest.symlink_to(src.resolve(), target_is_directory=True)
    return True


class NoSandbox(ProcessSandbox):
    """`--sandbox none`: only on explicit request; same limits, same warning."""

    name = "none"
