"""Frozen dataclasses that cross module boundaries."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Step = Literal["plan", "generate", "fix", "rewrite", "commit_message", "preflight"]
EditKind = Literal["whole", "search_replace", "diff"]


@dataclass(frozen=True)
class Message:
    role: Literal["system", "user", "assistant"]
    content: str


@dataclass(frozen=True)
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0


@dataclass(frozen=True)
class Completion:
    text: str
    usage: Usage = field(default_factory=Usage)


@dataclass(frozen=True)
class FileEdit:
    """One change to one file, as the model expressed it.

    whole: `content` is the new file. search_replace: `search` -> `replace` (empty search creates).
    diff: `hunks` is a list of (old_text, new_text) pairs applied by content.
    """

    path: str
    kind: EditKind
    content: str = ""
    search: str = ""
    replace: str = ""
    hunks: tuple[tuple[str, str], ...] = ()
    is_test: bool = False


@dataclass(frozen=True)
class ParsedReply:
    edits: tuple[FileEdit, ...]
    format: str

    @property
    def test_paths(self) -> list[str]:
        return [e.path for e in self.edits if e.is_test]


@dataclass(frozen=True)
class SandboxResult:
    exit_code: int
    stdout: str
    stderr: str
    duration_s: float
    timed_out: bool = False
    truncated: bool = False
    killed_by_signal: int | None = None


@dataclass(frozen=True)
class TestReport:
    command: tuple[str, ...]
    exit_code: int
    passed: int
    failed: int
    errors: int
    output: str
    duration_s: float
    timed_out: bool = False

    @property
    def green(self) -> bool:
        return self.exit_code == 0 and self.failed == 0 and self.errors == 0 and self.passed > 0


@dataclass(frozen=True)
class Attempt:
    """What one iteration did and, if it failed, why (in short)."""

    number: int
    step: Step
    outcome: Literal["passed", "tests_failed", "format_error", "edit_error", "invalid", "refused", "unchanged"]
    summary: str
    signature: str = ""


@dataclass(frozen=True)
class RunResult:
    status: Literal["success", "failed", "error"]
    run_id: str
    branch: str | None
    commit: str | None
    attempts: int
    files: tuple[str, ...]
    tests_passed: int
    tests_failed: int
    warnings: tuple[str, ...]
    calls: int
    input_tokens: int
    output_tokens: int
    trajectory: str
    error: str | None = None

    def summary(self) -> dict[str, object]:
        """The run summary of DESIGN.md, key for key."""
        return {
            "status": self.status,
            "run_id": self.run_id,
            "branch": self.branch,
            "commit": self.commit,
            "attempts": self.attempts,
            "files": list(self.files),
            "tests": {"passed": self.tests_passed, "failed": self.tests_failed},
            "warnings": list(self.warnings),
            "usage": {
                "calls": self.calls,
                "input_tokens": self.input_tokens,
                "output_tokens": self.output_tokens,
            },
            "trajectory": self.trajectory,
            "error": self.error,
        }
