"""The only door to the file system for model-written content and for greenloop's own reads of the worktree.

Every path is walked from the worktree root one component at a time with O_NOFOLLOW (os.open(...,
dir_fd=...)), so a link anywhere on the way -- in the middle or at the end -- is refused, not followed.
Reads take only regular files (checked with lstat before the open and fstat after it, so a FIFO, device or
socket is never opened, and never blocks), and only up to `max_bytes`: a bigger file is refused with a
GuardrailViolation naming its size (callers that show files can say "N bytes, not shown"). Writes create
missing directories the same way and put the new bytes in place with a rename, so they never write through a
link, a hard link or a special file left at the path. `remove_tree` deletes a directory of any depth
iteratively, never following a link, making unwritable directories writable first."""

from __future__ import annotations

import errno
import os
import secrets
import stat
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path, PurePosixPath

from greenloop.errors import GuardrailViolation

MAX_READ_BYTES = 1024 * 1024  # default per-file cap for reads (context, current file contents, reports)
MAX_WALK_FILES = 100_000

_ROOT_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC
_DIR_FLAGS = _ROOT_FLAGS | os.O_NOFOLLOW
_LEAF_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC  # NONBLOCK: a swapped-in FIFO
# Errors that say the path has a hostile or impossible shape (not that the disk failed): they are refusals.
_SHAPE_ERRORS = {errno.ELOOP: "a link is on the way", errno.ENOTDIR: "a part of the path is not a directory",
                 errno.ENAMETOOLONG: "the name is too long", errno.EISDIR: "it is a directory",
                 errno.ENXIO: "not a regular file", errno.EMLINK: "a link is on the way"}


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISLNK, "a symlink"), (stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO"),
                       (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a device"), (stat.S_ISBLK, "a device")):
        if test(mode):
            return name
    return "a special file"


def _refusal(name: str, exc: OSError) -> GuardrailViolation | OSError:
    why = _SHAPE_ERRORS.get(exc.errno or 0)
    return GuardrailViolation(f"{name}: refused ({why}); greenloop does not follow links or open special files") \
        if why else exc


class Workspace:
    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def relative(self, name: str) -> PurePosixPath:
        """A repository-relative path, or GuardrailViolation for absolute paths and `..`."""
        cleaned = name.strip().replace("\\", "/")
        if not cleaned:
            raise GuardrailViolation("empty path")
        if "\0" in cleaned:
            raise GuardrailViolation(f"{name!r}: a NUL byte in a path is refused")
        pure = PurePosixPath(cleaned)
        if pure.is_absolute() or cleaned.startswith("~"):
            raise GuardrailViolation(f"{name}: absolute paths are refused; use a path relative to the repository")
        if ".." in pure.parts:
            raise GuardrailViolation(f"{name}: '..' is refused; stay inside the repository")
        parts = [p for p in pure.parts if p not in (".", "")]
        if not parts:
            raise GuardrailViolation(f"{name}: not a file path")
        return PurePosixPath(*parts)

    def resolve(self, name: str) -> Path:
        """The absolute path inside the worktree, if no existing component of it is a link (or, in the middle,
        a non-directory). A check for messages; the reads and writes below re-check with descriptors."""
        rel = self.relative(name)
        current = self.root
        for i, part in enumerate(rel.parts):
            current = current / part
            try:
                mode = os.lstat(current).st_mode
            except FileNotFoundError:
                break
            except OSError as exc:
                raise _refusal(name, exc) from exc
            if stat.S_ISLNK(mode):
                where = "is a symlink" if i == len(rel.parts) - 1 else f"goes through the symlink '{part}'"
                raise GuardrailViolation(f"{name}: {where}; greenloop does not write or read through links")
            if i < len(rel.parts) - 1 and not stat.S_ISDIR(mode):
                raise GuardrailViolation(f"{name}: '{part}' is not a directory")
        return self.root.joinpath(*rel.parts)

    def _open_dir(self, name: str, parts: tuple[str, ...], *, create: bool) -> int | None:
        """A descriptor of root/parts, opened one component at a time without following a link; None if a
        directory on the way is absent (and not `create`). The caller closes it."""
        fd = os.open(self.root, _ROOT_FLAGS)
        try:
            for part in parts:
                try:
                    nxt = os.open(part, _DIR_FLAGS, dir_fd=fd)
                except FileNotFoundError:
                    if not create:
                        os.close(fd)
                        return None
                    with suppress(FileExistsError):
                        os.mkdir(part, 0o755, dir_fd=fd)
                    nxt = os.open(part, _DIR_FLAGS, dir_fd=fd)
                os.close(fd)
                fd = nxt
        except OSError as exc:
            os.close(fd)
            raise _refusal(name, exc) from exc
        return fd

    def _stat_leaf(self, name: str) -> tuple[int, os.stat_result] | None:
        """(parent descriptor, lstat of the leaf), or None if absent. The caller closes the descriptor."""
        rel = self.relative(name)
        dfd = self._open_dir(name, rel.parts[:-1], create=False)
        if dfd is None:
            return None
        try:
            return dfd, os.stat(rel.name, dir_fd=dfd, follow_symlinks=False)
        except FileNotFoundError:
            os.close(dfd)
            return None
        except OSError as exc:
            os.close(dfd)
            raise _refusal(name, exc) from exc

    def is_regular(self, name: str) -> bool:
        """True if `name` is a regular file reached without a link on the way."""
        try:
            found = self._stat_leaf(name)
        except GuardrailViolation:
            return False
        if found is None:
            return False
        os.close(found[0])
        return stat.S_ISREG(found[1].st_mode)

    def read_bytes(self, name: str, max_bytes: int = MAX_READ_BYTES) -> bytes | None:
        """Bytes of an existing regular file, None if absent. GuardrailViolation for a link on the way, a
        directory, FIFO, device or socket, or a file over `max_bytes` (nothing past the cap is read)."""
        found = self._stat_leaf(name)
        if found is None:
            return None
        dfd, st = found
        try:
            if not stat.S_ISREG(st.st_mode):
                raise GuardrailViolation(f"{name}: is {_kind(st.st_mode)}, not a regular file; greenloop does "
                                         "not read it")
            if st.st_size > max_bytes:
                raise GuardrailViolation(f"{name}: {st.st_size} bytes, over the {max_bytes}-byte read limit; "
                                         "not read")
            try:
                fd = os.open(self.relative(name).name, _LEAF_FLAGS, dir_fd=dfd)
            except FileNotFoundError:
                return None
            except OSError as exc:
                raise _refusal(name, exc) from exc
        finally:
            os.close(dfd)
        with os.fdopen(fd, "rb") as fh:
            now = os.fstat(fh.fileno())
            if (now.st_dev, now.st_ino) != (st.st_dev, st.st_ino) or not stat.S_ISREG(now.st_mode):
                raise GuardrailViolation(f"{name}: changed while greenloop opened it; not read")
            data = fh.read(max_bytes + 1)
        if len(data) > max_bytes:
            raise GuardrailViolation(f"{name}: over the {max_bytes}-byte read limit (it grew); not read")
        return data

    def read_text(self, name: str, max_bytes: int = MAX_READ_BYTES) -> str | None:
        """Contents of an existing regular file (UTF-8, undecodable bytes replaced), None if absent; the
        refusals of `read_bytes`."""
        data = self.read_bytes(name, max_bytes)
        return None if data is None else data.decode("utf-8", errors="replace")

    def write_bytes(self, name: str, content: bytes) -> Path:
        """Write `content` at `name`: missing directories are created without following links, and the bytes
        go to a new file renamed over whatever stood there (a link, hard link or special file is replaced,
        never written through). An executable file stays executable."""
        rel = self.relative(name)
        dfd = self._open_dir(name, rel.parts[:-1], create=True)
        assert dfd is not None  # create=True
        tmp = f".greenloop-tmp-{secrets.token_hex(8)}"
        try:
            try:
                old = os.stat(rel.name, dir_fd=dfd, follow_symlinks=False).st_mode
            except FileNotFoundError:
                old = 0
            except OSError as exc:
                raise _refusal(name, exc) from exc
            if stat.S_ISDIR(old):
                raise GuardrailViolation(f"{name}: is a directory; greenloop writes files only")
            mode = 0o755 if stat.S_ISREG(old) and old & 0o111 else 0o644
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, mode, dir_fd=dfd)
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(content)
                os.replace(tmp, rel.name, src_dir_fd=dfd, dst_dir_fd=dfd)
            except OSError as exc:
                with suppress(FileNotFoundError):
                    os.unlink(tmp, dir_fd=dfd)
                raise _refusal(name, exc) from exc
        finally:
            os.close(dfd)
        return self.root.joinpath(*rel.parts)

    def write_text(self, name: str, content: str) -> Path:
        return self.write_bytes(name, content.encode("utf-8"))

    def remove(self, name: str) -> None:
        """Delete a file greenloop wrote (a candidate that was not chosen); absent is fine. A link at the path
        is removed itself; a link on the way or a directory is refused."""
        rel = self.relative(name)
        dfd = self._open_dir(name, rel.parts[:-1], create=False)
        if dfd is None:
            return
        try:
            os.unlink(rel.name, dir_fd=dfd)
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise _refusal(name, exc) from exc
        finally:
            os.close(dfd)

    def clear(self, name: str) -> None:
        """Remove whatever stands at `name` (file, link, special file or a directory tree of any depth),
        never following a link; absent is fine. A link on the way is refused."""
        rel = self.relative(name)
        dfd = self._open_dir(name, rel.parts[:-1], create=False)
        if dfd is None:
            return
        try:
            _remove_entry(dfd, rel.name)
        finally:
            os.close(dfd)

    def walk(self, under: str = "", skip: frozenset[str] = frozenset({".git"}),
             limit: int = MAX_WALK_FILES) -> Iterator[PurePosixPath]:
        """Relative paths of the regular files under `under` (the root by default), depth first and sorted,
        without recursion and without following links; directories named in `skip` are not entered, and at
        most `limit` paths are yielded."""
        start = self.relative(under).parts if under else ()
        pending: list[tuple[str, ...]] = [start]
        count = 0
        while pending:
            parts = pending.pop()
            try:
                fd = self._open_dir("/".join(parts) or ".", parts, create=False)
            except GuardrailViolation:
                continue  # replaced by a link since it was listed: not entered
            if fd is None:
                continue
            try:
                with os.scandir(fd) as it:
                    entries = sorted((e.name, e.is_dir(follow_symlinks=False), e.is_file(follow_symlinks=False))
                                     for e in it)
            finally:
                os.close(fd)
            pending.extend((*parts, n) for n, is_dir, _ in reversed(entries) if is_dir and n not in skip)
            for n, _, is_file in entries:
                if is_file:
                    if count >= limit:
                        return
                    count += 1
                    yield PurePosixPath(*parts, n)


def remove_tree(path: Path) -> None:
    """Delete `path` and everything under it; absent is fine. Iterative (any depth, a constant number of open
    descriptors), never follows a link, and makes directories without write or search permission usable
    first. `path` itself is taken as given (its parent is trusted); nothing under it is."""
    try:
        parent = os.open(path.parent, _ROOT_FLAGS)
    except FileNotFoundError:
        return
    try:
        _remove_entry(parent, path.name)
    finally:
        os.close(parent)


def _open_owned_dir(parent: int, name: str) -> int:
    """Open the directory `name` under `parent` without following a link, granting ourselves rwx on it."""
    try:
        fd = os.open(name, _DIR_FLAGS, dir_fd=parent)
    except PermissionError:  # not root, and the directory has no read/search permission: it is ours to fix
        if not stat.S_ISDIR(os.stat(name, dir_fd=parent, follow_symlinks=False).st_mode):
            raise
        os.chmod(name, 0o700, dir_fd=parent)
        fd = os.open(name, _DIR_FLAGS, dir_fd=parent)
    if os.fstat(fd).st_mode & 0o700 != 0o700:
        os.fchmod(fd, 0o700)
    return fd


def _remove_entry(parent: int, name: str) -> None:
    """Remove parent/name, a file or a whole tree. Goes down by descriptor and back up through '..', checking
    that '..' is the directory it came from, so only the current directory's descriptor is held open."""
    try:
        top = os.stat(name, dir_fd=parent, follow_symlinks=False)
    except FileNotFoundError:
        return
    if not stat.S_ISDIR(top.st_mode):
        os.unlink(name, dir_fd=parent)
        return
    origin = os.fstat(parent)
    chain: list[tuple[str, tuple[int, int]]] = []  # (name of the current dir in its parent, parent's identity)
    current = _open_owned_dir(parent, name)
    chain.append((name, (origin.st_dev, origin.st_ino)))
    while True:
        with os.scandir(current) as it:
            entries = [(e.name, e.is_dir(follow_symlinks=False)) for e in it]
        subdir = next((n for n, is_dir in entries if is_dir), None)
        for n, is_dir in entries:
            if not is_dir:
                with suppress(FileNotFoundError):
                    os.unlink(n, dir_fd=current)
        if subdir is not None:
            here = os.fstat(current)
            nxt = _open_owned_dir(current, subdir)
            os.close(current)
            current = nxt
            chain.append((subdir, (here.st_dev, here.st_ino)))
            continue
        done, expected = chain.pop()
        up = os.open("..", _ROOT_FLAGS, dir_fd=current)
        os.close(current)
        seen = os.fstat(up)
        if (seen.st_dev, seen.st_ino) != expected:
            os.close(up)
            raise OSError(errno.ESTALE, f"a directory under {name} was moved during its removal; not removed")
        if not chain:
            try:
                os.rmdir(done, dir_fd=parent)
            finally:
                os.close(up)
            return
        os.rmdir(done, dir_fd=up)
        current = up
