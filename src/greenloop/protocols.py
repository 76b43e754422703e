"""The extension contracts. Providers and sandboxes are found by entry points
(`greenloop.models`, `greenloop.sandboxes`, `greenloop.runners`); built-ins register the same way."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

from greenloop.types import Completion, Message, SandboxResult, Step, TestOutcome


@runtime_checkable
class Model(Protocol):
    name: str

    def complete(self, messages: Sequence[Message], step: Step, temperature: float | None = None) -> Completion:
        """One chat completion; `temperature` overrides the configured one for this call (None: keep it).
        Raises ModelError after the provider's retries are spent."""
        ...

    def preflight(self) -> None:
        """Cheap check that the model can be reached/loaded. Raises ModelUnavailable."""
        ...


@runtime_checkable
class StreamingModel(Model, Protocol):
    """A model that shows its reply as it comes: while `on_text` is set, `complete` calls it with each piece
    of the reply text, in order (the pieces joined are the reply before any cut). Optional for providers."""

    on_text: Callable[[str], None] | None


@runtime_checkable
class Sandbox(Protocol):
    name: str

    def run(
        self,
        argv: Sequence[str],
        workdir: Path,
        timeout_s: float,
        env: Mapping[str, str] | None = None,
        binds: Mapping[Path, Path] | None = None,
    ) -> SandboxResult:
        """Run argv (no shell) in workdir; never raises for the command's own failure. `binds`: host
        directories shown read-only at the destination paths (the project's node_modules in the worktree)."""
        ...


@runtime_checkable
class TestRunner(Protocol):
    """One test framework (runners/, entry points `greenloop.runners`). A runner class also has
    `detect(project) -> TestRunner | None` (a classmethod): itself when the project uses it, else None."""

    name: str  # "pytest", "node", "mocha", "jest", "vitest", "npm"
    language: str  # "python", "javascript" or "typescript"

    def command(self, test_paths: Sequence[str], report: str) -> list[str]:
        """argv for `test_paths` (none: the whole suite) writing its machine-readable report to `report`
        (a file name relative to the worktree)."""
        ...

    def outcomes(self, report_text: str, workdir: Path) -> tuple[TestOutcome, ...]:
        """Per-test outcomes by id (`file::suite::name`) from the report; unreadable: none."""
        ...

    def no_tests_hint(self) -> str:
        """What to tell the model when a run found no tests."""
        ...

    def is_test_file(self, path: str) -> bool:
        ...
