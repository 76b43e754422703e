"""Frozen dataclasses that cross module boundaries."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Literal

Step = Literal["plan", "generate", "test_design", "fix", "rewrite", "redraft", "resample", "crosscheck",
               "crash_check", "commit_message", "preflight"]
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


TestStatus = Literal["passed", "failed", "error", "skipped"]


@dataclass(frozen=True)
class TestOutcome:
    """One test's result, by id (`file::Class::name`), read from the runner's machine-readable report."""

    id: str
    file: str
    status: TestStatus
    message: str = ""


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
    outcomes: tuple[TestOutcome, ...] = ()  # empty when the runner wrote no readable report

    def by_id(self) -> dict[str, TestOutcome]:
        return {o.id: o for o in self.outcomes}

    def in_files(self, files: Collection[str]) -> tuple[TestOutcome, ...]:
        return tuple(o for o in self.outcomes if o.file in files)

    @property
    def green(self) -> bool:
        return self.exit_code == 0 and self.failed == 0 and self.errors == 0 and self.passed > 0


@dataclass(frozen=True)
class Missed:
    """A task example the program does not meet: the line told to the model, and the value the program returned
    there (None: it raised, or the check never ran)."""

    line: str
    returned: str | None


@dataclass(frozen=True)
class Attempt:
    """What one iteration did and, if it failed, why (in short)."""

    number: int
    step: Step
    outcome: Literal["passed", "tests_failed", "format_error", "edit_error", "invalid", "refused", "unchanged",
                     "vacuous_tests", "tampered", "type_error"]
    summary: str
    signature: str = ""
    missed: Missed | None = None  # the first task example a judged program missed


@dataclass(frozen=True)
class RunResult:
    status: Literal["success", "failed", "error"]
    run_id: str
    branch: str | None
    commit: str | None
    attempts: int
    files: tuple[str, ...]
    tests: Mapping[str, int]  # passed, failed, new_passed, new_failed, baseline_passed, regressions
    warnings: tuple[str, ...]
    calls: int
    input_tokens: int
    output_tokens: int
    trajectory: str
    error: str | None = None
    sandbox: str = ""
    baseline: str = ""  # ok | red | absent | unavailable, and what it found
    regressed: tuple[str, ...] = ()  # ids of baseline tests that fail at the end
    discarded: tuple[str, ...] = ()  # what the test runs created or changed that is not committed
    cost_usd: float | None = None  # None: a model without a known price (local, scripted, unknown)
    quality: Mapping[str, object] = field(default_factory=dict)  # grade.py: {"files": {path: metrics}}
    evidence: str | None = None  # a committed green: "strong" | "weak" | "unmeasured" (figures.Evidence)
    evidence_why: str = ""  # what it rests on, for the terminal

    @property
    def tests_passed(self) -> int:
        return self.tests.get("passed", 0)

    def summary(self) -> dict[str, object]:
        """The run summary of DESIGN.md, key for key."""
        return {
            "status": self.status,
            "run_id": self.run_id,
            "branch": self.branch,
            "commit": self.commit,
            "attempts": self.attempts,
            "files": list(self.files),
            "tests": dict(self.tests),
            "baseline": self.baseline,
            "regressed": list(self.regressed),
            "sandbox": self.sandbox,
            "discarded": list(self.discarded),
            "warnings": list(self.warnings),
            "quality": dict(self.quality),
            "evidence": self.evidence,
            "usage": {
                "calls": self.calls,
                "input_tokens": self.input_tokens,
                "output_tokens": self.output_tokens,
                "cost_usd": None if self.cost_usd is None else round(self.cost_usd, 8),
            },
            "trajectory": self.trajectory,
            "error": self.error,
        }
