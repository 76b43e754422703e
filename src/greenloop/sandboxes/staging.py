"""Root path only: staging directories that give every bound path a mount point uid 65534 can traverse.

A staging dir is named `greenloop-stage-<pid>-<random>` after the greenloop process that made it, so a later
run can tell the dirs of a dead greenloop (one that was SIGKILLed and could not clean up) and sweep them.
Their mount points are plain empty entries on the host: the binds lived in the dead run's private mount
namespace.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import tempfile
from pathlib import Path

PREFIX = "greenloop-stage-"
_NAME = re.compile(rf"{PREFIX}(\d+)-[a-z0-9_]+")


def make(points: list[Path]) -> tuple[Path, dict[Path, Path]]:
    """A new staging dir with one mount point per path (a dir for a dir, a file for a file)."""
    stage = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-"))
    os.chmod(stage, 0o755)
    sources: dict[Path, Path] = {}
    for i, dest in enumerate(points):
        point = stage / str(i)
        if dest.is_dir():
            point.mkdir()
        else:
            point.touch()
        sources[dest] = point
    return stage, sources


def remove(stage: Path) -> None:
    shutil.rmtree(stage, ignore_errors=True)


def sweep() -> list[Path]:
    """Remove the staging dirs of greenloop processes that are gone; only real dirs we own, never links."""
    swept: list[Path] = []
    for entry in Path(tempfile.gettempdir()).glob(f"{PREFIX}*"):
        match = _NAME.fullmatch(entry.name)
        if match is None or _alive(int(match.group(1))):
            continue
        try:
            st = entry.lstat()
        except FileNotFoundError:
            continue
        if stat.S_ISDIR(st.st_mode) and st.st_uid == os.geteuid():
            remove(entry)
            swept.append(entry)
    return swept


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
