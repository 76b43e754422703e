"""The only door to the file system for model-written content: every path is gated to the worktree,
and reads/writes refuse to follow symlinks."""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

from greenloop.errors import GuardrailViolation


class Workspace:
    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def relative(self, name: str) -> PurePosixPath:
        """A repository-relative path, or GuardrailViolation for absolute paths and `..`."""
        cleaned = name.strip().replace("\\", "/")
        if not cleaned:
            raise GuardrailViolation("empty path")
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
        """The absolute path inside the worktree; symlinks on the way must not lead out."""
        rel = self.relative(name)
        target = self.root.joinpath(*rel.parts)
        real = target.resolve()
        if not real.is_relative_to(self.root):
            raise GuardrailViolation(f"{name}: resolves outside the repository (through a symlink)")
        if target.is_symlink():
            raise GuardrailViolation(f"{name}: is a symlink; greenloop does not write through links")
        return target

    def read_text(self, name: str) -> str | None:
        """Contents of an existing file, None if absent. O_NOFOLLOW on the last component."""
        path = self.resolve(name)
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        except FileNotFoundError:
            return None
        except IsADirectoryError as exc:
            raise GuardrailViolation(f"{name}: is a directory") from exc
        with os.fdopen(fd, "rb") as fh:
            return fh.read().decode("utf-8", errors="replace")

    def write_text(self, name: str, content: str) -> Path:
        path = self.resolve(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.parent.resolve().is_relative_to(self.root):
            raise GuardrailViolation(f"{name}: parent directory leads outside the repository")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o644)
        with os.fdopen(fd, "wb") as fh:
            fh.write(content.encode("utf-8"))
        return path

    def remove(self, name: str) -> None:
        """Delete a file greenloop wrote (a candidate that was not chosen); absent is fine."""
        self.resolve(name).unlink(missing_ok=True)
