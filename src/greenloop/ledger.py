"""The run's record of the bytes it checked. Every file greenloop wrote has its content at the base commit
and the content the tests ran against; the project's own test files and test configuration are recorded
too, unchanged. Before a test run the disk is put back to the record; after it, anything that differs is
a sign the tests changed what they judge. The commit is built from this record, never from the disk."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

from greenloop import gitops
from greenloop.edits import AppliedFile, unified_diff
from greenloop.errors import GuardrailViolation
from greenloop.stub import stub
from greenloop.workspace import Workspace

_TEST_FILE = re.compile(r"(^|/)((test_[^/]*|[^/]*_test)\.py|[^/]+\.(test|spec)\.[cm]?[jt]sx?)$")
_TEST_DIR = re.compile(r"(^|/)(tests?|testing|__tests__)/")
TEST_CONFIG = {"conftest.py", "pytest.ini", "tox.ini", "setup.cfg", "pyproject.toml", ".coveragerc", "noxfile.py",
               ".mocharc.js", ".mocharc.cjs", ".mocharc.json", ".mocharc.yml", ".mocharc.yaml", "jest.config.js",
               "jest.config.cjs", "jest.config.mjs", "jest.config.ts", "vitest.config.js", "vitest.config.ts",
               "vitest.config.mjs"}


def is_project_test_file(path: str) -> bool:
    """A test file, a file under a test directory, or test configuration (what collects and runs tests)."""
    leaf = path.rsplit("/", 1)[-1]
    return bool(_TEST_FILE.search(path) or _TEST_DIR.search(path)) or leaf in TEST_CONFIG


@dataclass
class Entry:
    path: str
    is_test: bool
    original: str | None  # at the base commit; None: the run created it
    current: str  # what the last test run was meant to see
    protected: bool = False  # the project's own test file or configuration: never changed by the run


class Ledger:
    def __init__(self) -> None:
        self.entries: dict[str, Entry] = {}

    def protect(self, ws: Workspace, paths: list[str]) -> list[str]:
        """Record the project's own test files and test configuration as they are at the base commit."""
        refused = []
        for path in paths:
            try:
                text = ws.read_text(path)
            except GuardrailViolation as exc:
                refused.append(str(exc))
                continue
            if text is not None:
                self.entries[path] = Entry(path, True, text, text, protected=True)
        return refused

    def is_protected(self, path: str) -> bool:
        entry = self.entries.get(path)
        return entry is not None and entry.protected

    def protected(self) -> list[str]:
        """The project's own test files and test configuration: read-only for the run."""
        return [p for p, e in self.entries.items() if e.protected]

    def record(self, written: Mapping[str, AppliedFile]) -> None:
        for path, f in written.items():
            old = self.entries.get(path)
            original = old.original if old else f.before
            self.entries[path] = Entry(path, f.is_test or bool(old and old.is_test), original, f.after)

    def originals(self) -> dict[str, str | None]:
        """path -> its content at the base commit (None: the run created it), for every file the run wrote."""
        return {p: e.original for p, e in self.entries.items()}

    def written(self) -> dict[str, bool]:
        """path -> is_test, for every file the run wrote."""
        return {p: e.is_test for p, e in self.entries.items() if not e.protected}

    @property
    def tests(self) -> list[str]:
        return [p for p, e in self.entries.items() if e.is_test and not e.protected]

    @property
    def sources(self) -> list[str]:
        return [p for p, e in self.entries.items() if not e.is_test]

    def current(self, path: str) -> str | None:
        entry = self.entries.get(path)
        return entry.current if entry else None

    def changes(self) -> dict[str, str]:
        """What the commit holds: path -> the checked content, for files that differ from the base."""
        return {p: e.current for p, e in sorted(self.entries.items()) if e.current != e.original}

    def drifted(self, ws: Workspace) -> list[str]:
        """Recorded files whose bytes on disk are no longer the recorded ones (or that are no longer files)."""
        out = []
        for path, entry in self.entries.items():
            try:
                on_disk = ws.read_text(path)
            except GuardrailViolation:
                on_disk = None
            if on_disk != entry.current:
                out.append(path)
        return out

    def restore(self, ws: Workspace) -> list[str]:
        """Put every recorded file back to its recorded bytes; returns the paths that had to be restored."""
        changed = self.drifted(ws)
        for path in changed:
            _replace(ws, path, self.entries[path].current)
        return changed

    def reset(self, ws: Workspace) -> list[str]:
        """The worktree back to its base commit plus the recorded files, nothing a test run left; returns the
        recorded paths that had to be restored."""
        gitops.reset_worktree(ws.root)
        return self.restore(ws)

    @contextmanager
    def without_sources(self, ws: Workspace) -> Iterator[None]:
        """The worktree as it was before the run's implementation (its tests stay), then back. A Python file
        the run created is there as a stub that keeps its names but implements nothing (stub.py)."""
        try:
            for path in self.sources:
                entry = self.entries[path]
                before = entry.original
                if before is None and path.endswith(".py"):
                    before = stub(entry.current)
                _replace(ws, path, before)
            yield
        finally:
            for path in self.sources:
                _replace(ws, path, self.entries[path].current)

    def diff(self) -> str:
        parts = [unified_diff(p, self.entries[p].original, text) for p, text in self.changes().items()]
        return "".join(d if d.endswith("\n") else d + "\n" for d in parts if d)


def _replace(ws: Workspace, path: str, content: str | None) -> None:
    """Write `content` at `path` whatever is there now (a link, directory or special file the tests planted
    is removed first, never followed); None removes the file."""
    ws.clear(path)
    if content is not None:
        ws.write_text(path, content)
