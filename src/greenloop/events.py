"""The run record's event kinds: one frozen dataclass per kind (record.py reads and checks them). A line of the
trajectory is `{"ts", "run_id", "step", "kind", **fields}`; every kind greenloop writes is declared here."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar

from pydantic import ConfigDict

BASE_FIELDS = ("ts", "run_id", "step", "kind")
_STRICT = ConfigDict(extra="forbid")


@dataclass(frozen=True, kw_only=True)
class Event:
    KIND: ClassVar[str] = ""
    __pydantic_config__ = _STRICT
    ts: float
    run_id: str
    step: str

    @property
    def kind(self) -> str:
        return self.KIND

    def to_json(self) -> dict[str, Any]:
        return {"ts": self.ts, "run_id": self.run_id, "step": self.step, "kind": self.kind,
                **{k: v for k, v in asdict(self).items() if k not in BASE_FIELDS}}


@dataclass(frozen=True, kw_only=True)
class GenericEvent(Event):
    """A kind this greenloop does not declare, or a declared kind whose fields do not match: kept whole."""

    kind_name: str
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        return self.kind_name

    def to_json(self) -> dict[str, Any]:
        return {"ts": self.ts, "run_id": self.run_id, "step": self.step, "kind": self.kind_name, **self.data}


def _kind(name: str) -> Any:
    def mark(cls: type[Event]) -> type[Event]:
        cls.KIND = name
        return dataclass(frozen=True, kw_only=True)(cls)
    return mark


# --- start, context, baseline -------------------------------------------------------------------------------
@_kind("run_start")
class RunStart(Event):
    greenloop_version: str
    prompt_version: str
    config: dict[str, Any]
    task: str
    model: str
    sandbox: str
    sandbox_reason: str = ""
    repo: str = ""
    record_version: int = 0  # absent in records written before the typed record


@_kind("run_continue")
class RunContinue(RunStart):
    """`run --continue`: the kept run goes on under the same id; the same fields as run_start."""


@_kind("continued")
class Continued(Event):
    files: list[str]
    attempts: int


@_kind("discard")
class Discard(Event):
    """`greenloop discard` removed the kept run's worktree (and its branch when it had no commit)."""


@_kind("worktree")
class Worktree(Event):
    path: str
    branch: str
    base: str


@_kind("context")
class Context(Event):
    files: int
    named: list[str]
    examples: list[str]
    test_dir: str | None = None
    task_examples: list[str] = field(default_factory=list)
    plan: list[str] = field(default_factory=list)  # files the task names, dependencies first (plan.py)


@_kind("plan")
class PlanEvent(Event):
    order: list[str]  # dependencies first
    files: list[dict[str, Any]]  # {"path", "purpose", "dependsOn"} as the model planned them


@_kind("plan_error")
class PlanErrorEvent(Event):
    round: int
    error: str


@_kind("plan_file")
class PlanFile(Event):
    """One file of a plan written file by file (planwrite.py)."""

    path: str
    index: int
    of: int
    written: list[str]
    errors: list[str] = field(default_factory=list)


@_kind("baseline")
class Baseline(Event):
    status: str
    detail: str
    passed: list[str]
    files: list[str]
    output: str = ""


# --- the model ------------------------------------------------------------------------------------------------
@_kind("model_request")
class ModelRequest(Event):
    model: str
    temperature: float | None
    messages: list[dict[str, str]]


@_kind("model_reply")
class ModelReply(Event):
    model: str
    text: str
    input_tokens: int
    output_tokens: int
    seconds: float


@_kind("request_refused")
class RequestRefused(Event):
    model: str
    characters: int
    estimated_tokens: int
    spent_tokens: int
    reason: str


# --- one attempt: reply -> edits -> validation -> tests -------------------------------------------------------
@_kind("edits")
class Edits(Event):
    format: str
    diffs: dict[str, str]
    refused: list[str]
    edit_errors: list[str]


@_kind("repair")
class Repair(Event):
    path: str
    added_imports: list[str]
    dropped_self_tests: list[str] = field(default_factory=list)  # module-level self-tests removed (repair.py)
    restored: list[str] = field(default_factory=list)  # what a whole-file reply left out, put back (omitted.py)
    dropped_copies: list[str] = field(default_factory=list)  # a test file's own copies of the run's functions


@_kind("validation")
class Validation(Event):
    errors: list[str]
    warnings: list[str]
    written: list[str]


@_kind("disputes")
class Disputes(Event):
    notes: list[str]


@_kind("redirect")
class Redirect(Event):
    to: str  # the run's own test file that received tests sent for a read-only project test file (attempt.py)
    notes: list[str]


@_kind("salvaged")
class Salvaged(Event):
    why: str  # the format error of the test-design reply, cut off at its token cap
    kept: str  # the reply as prepared instead: its complete tests, three checks each (cutoff.py)


@_kind("example_tests")
class ExampleTests(Event):
    why: str  # why the test design was not usable (draft.design_tests)
    examples: int  # the task's examples written as the run's tests instead (exampletests.py)


@_kind("candidates")
class Candidates(Event):
    count: int
    implementation: int | None
    tests: int | None
    eligible: list[int]
    scores: Any
    disputed: list[str]
    matrix: dict[Any, Any]


@_kind("strengthen")
class Strengthen(Event):
    """Surviving mutants sent to the test designer once (strengthen.py): whether the stronger tests were kept."""

    kept: bool
    why: str


@_kind("crosscheck")
class Crosscheck(Event):
    """A weak green checked against other implementations on inputs varied from the task's examples
    (crosscheck.py): which of them met the examples, what each returned, which one is committed."""

    framings: list[str]
    programs: list[str]  # the target file of each: the green one first
    eligible: list[int]
    chosen: int
    swapped: bool
    scores: dict[str, int]
    calls: list[str]
    outputs: dict[str, list[str]]
    why: str = ""
    stopped: str = ""  # sampling stopped early: the budget or the model failed


@_kind("crash_check")
class CrashCheck(Event):
    """The green program on inputs varied from the task's examples (crashcheck.py): the call it raised on by
    accident, if any, and what the one fix asked for made of it (none, unchanged, invalid, still wrong, tests
    failed, fixed)."""

    calls: list[str]
    crash: str | None
    outcome: str
    error: str = ""
    green: str = ""
    fixed: str | None = None
    swapped: bool = False
    why: str = ""


@_kind("agreement")
class Agreement(Event):
    decided: bool
    why: str = ""
    errors: list[str] = field(default_factory=list)
    implementation: int | None = None
    eligible: list[int] = field(default_factory=list)
    scores: Any = None
    dropped: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # disputes the guard refused, with why
    matrix: dict[Any, Any] = field(default_factory=dict)


@_kind("reset")
class Reset(Event):
    restored: list[str]


@_kind("red_run")
class RedRun(Event):
    tests: list[str]
    vacuous: list[str]
    output: str = ""


@_kind("test_run")
class TestRun(Event):
    command: list[str]
    exit_code: int
    passed: int
    failed: int
    errors: int
    timed_out: bool
    seconds: float
    output: str
    regressions: list[str] = field(default_factory=list)
    new: list[list[str]] = field(default_factory=list)


@_kind("type_check")
class TypeCheck(Event):
    """tsc --noEmit before a test run, or on the base commit (typecheck.py)."""

    command: list[str]
    exit_code: int
    timed_out: bool
    seconds: float
    output: str
    errors: list[str] = field(default_factory=list)
    notice: str = ""


@_kind("task_examples")
class TaskExamples(Event):
    failures: list[str]


@_kind("round_trips")
class RoundTrips(Event):
    path: str  # the run's test file they were appended to
    examples: list[str]  # the asserts, also anchors of the run (roundtrip.py)
    refutable: list[str] = field(default_factory=list)  # the model's asserts a program may show wrong


@_kind("round_trips_refuted")
class RoundTripsRefuted(Event):
    witnessed: list[str]  # the refutable asserts the program showed wrong
    notes: list[str]  # the frozen tests' answer to dropping them (frozen.TestGuard.dispute)
    reasons: list[str] = field(default_factory=list)  # why each is wrong: "encode('bac') is not 'abc'"


@_kind("broken_tests")
class BrokenTests(Event):
    tests: list[str]
    where: list[str]


@_kind("undone")
class Undone(Event):
    attempt: int
    best_attempt: int | None
    paths: list[str]
    score: dict[str, Any]
    best: dict[str, Any] | None


@_kind("attempt")
class AttemptEvent(Event):
    number: int
    outcome: str
    summary: str = ""
    failure: str = ""  # the failing assertion shown to the model next; `run --continue` starts from it
    errors: list[str] = field(default_factory=list)
    missed: int = 0  # tests_failed: the task's examples the program missed (`run --continue` weighs them again)
    first_missed: dict[str, str | None] | None = None  # the first of them: {"line", "returned"}


@_kind("early_stop")
class EarlyStop(Event):
    attempt: int
    best_attempt: int | None
    patience: int


# --- the end ----------------------------------------------------------------------------------------------------
@_kind("grade")
class Grade(Event):
    """Quality of the green result and the mutation score of its tests (grade.py)."""

    quality: dict[str, Any]
    seconds: float = 0.0


@_kind("commit")
class Commit(Event):
    sha: str
    branch: str
    message: str
    diff: str
    discarded: list[str] = field(default_factory=list)


@_kind("interrupted")
class Interrupted(Event):
    pass


@_kind("run_end")
class RunEnd(Event):
    seconds: float
    summary: dict[str, Any]


@_kind("undo")
class Undo(Event):
    branch: str
    commit: str
