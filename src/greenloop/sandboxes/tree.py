"""Walking a worktree the jail wrote to: iteratively (no recursion limit), never following a symlink."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

MIN_ENTRY_BYTES = 4096  # an empty file or a link still costs an inode and a block: many of them are growth too


class Unmeasurable(OSError):
    """A directory in the tree cannot be listed (the program chmod-ed it): its size is unknown."""


def entries(root: Path, *, skip_top: frozenset[str] = frozenset()) -> Iterator[tuple[str, os.stat_result]]:
    """(path, lstat) of root and everything below it; a directory that cannot be listed raises Unmeasurable.
    Entries that vanish while walking are skipped (the program may still be running)."""
    yield str(root), os.lstat(root)
    stack = [str(root)]
    while stack:
        top = stack.pop()
        try:
            with os.scandir(top) as it:
                children = list(it)
        except FileNotFoundError:
            continue
        except PermissionError as exc:
            raise Unmeasurable(exc.errno, f"cannot list {top}") from exc
        for entry in children:
            if top == str(root) and entry.name in skip_top:
                continue
            try:
                st = entry.stat(follow_symlinks=False)
            except FileNotFoundError:
                continue
            yield entry.path, st
            if stat.S_ISDIR(st.st_mode):
                stack.append(entry.path)


def disk_usage(root: Path) -> int:
    """Bytes the tree takes on disk (allocated blocks, at least MIN_ENTRY_BYTES an entry; hard links once)."""
    total, seen = 0, set()
    for _, st in entries(root):
        if st.st_nlink > 1 and not stat.S_ISDIR(st.st_mode):
            if (st.st_dev, st.st_ino) in seen:
                continue
            seen.add((st.st_dev, st.st_ino))
        total += max(st.st_blocks * 512, MIN_ENTRY_BYTES)
    return total


def chown_tree(root: Path, uid: int, gid: int, *, skip_top: frozenset[str] = frozenset()) -> None:
    """Root only: give the tree to uid:gid without following links, and clear set-id bits, so nothing the
    sandbox user made becomes a set-uid file of the worktree's owner. Directories the program locked
    (mode 0) are listed anyway: root reads them."""
    for path, st in entries(root, skip_top=skip_top):
        if (st.st_uid, st.st_gid) != (uid, gid):
            os.chown(path, uid, gid, follow_symlinks=False)
        if stat.S_ISREG(st.st_mode) and st.st_mode & (stat.S_ISUID | stat.S_ISGID):
            os.chmod(path, stat.S_IMODE(st.st_mode) & ~(stat.S_ISUID | stat.S_ISGID))
