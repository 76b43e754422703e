"""What a run knows between its steps. loop.py changes it, and check.py when it judges an attempt (the verdict,
the frozen tests, the best program so far); an attempt only reads it (attempts.py), except for a DISPUTE the
frozen tests accept."""

from __future__ import annotations

from dataclasses import dataclass, field

from greenloop.best import Best
from greenloop.context import ProjectContext
from greenloop.examples import Example, Refutable
from greenloop.frozen import TestGuard
from greenloop.judge import Baseline, Verdict
from greenloop.ledger import Ledger
from greenloop.protocols import TestRunner
from greenloop.typecheck import TypeChecker
from greenloop.types import Attempt


@dataclass
class State:
    task: str
    context: ProjectContext
    history: list[Attempt] = field(default_factory=list)
    ledger: Ledger = field(default_factory=Ledger)  # what the run wrote, and the bytes it checked
    guard: TestGuard | None = None
    warnings: list[str] = field(default_factory=list)
    verdict: Verdict | None = None
    baseline: Baseline | None = None
    discarded: list[str] = field(default_factory=list)
    red_checked: dict[str, str] = field(default_factory=dict)  # test path -> the content that passed its red run
    frozen_ids: set[str] = field(default_factory=set)  # ids of the run's tests that ran: they must stay and pass

    failure: str = ""
    test_failure: str = ""  # the last test run's failure: still what to fix after a reply that changed nothing
    edit_failures_in_row: int = 0
    last_reply: str = ""
    stuck: bool = False  # the last reply changed nothing or repeated the one before: sample the next
    examples: list[Example] = field(default_factory=list)  # the task's own examples, checked on every test run
    best: Best = field(default_factory=Best)  # the best program so far (best.py)
    runner: TestRunner | None = None  # the project's JS runner (runners/); None: pytest as always
    agreement_tried: bool = False  # a second implementation was sampled to settle a disputed test (agree.py)
    stopped_early: bool = False  # `patience` attempts in a row did not beat the best program
    drafts: int = 0  # first drafts requested (generate, redraft): the next redraft takes the next framing
    types: TypeChecker | None = None  # tsc --noEmit before each test run (a TypeScript project with typescript)
    settle: bool = False  # the next attempt samples that second implementation instead of asking for a fix
    missed: int = 0  # the task's own examples the last judged program failed
    tests_alone: bool = False  # the last reply was valid and wrote tests, no code (its code: a first draft)
    resample: int = 0  # replies sampled for a redraft once the greedy framings missed the examples (settings)
    refutable: list[Refutable] = field(default_factory=list)  # model asserts a round trip may contradict

    @property
    def stated(self) -> bool:
        """The task states examples of its own (round trips greenloop derived are anchors, not those)."""
        return any(not e.derived for e in self.examples)

    @property
    def baseline_or_absent(self) -> Baseline:
        return self.baseline or Baseline("absent", frozenset(), (), "not taken")

    @property
    def named_source(self) -> str | None:
        """The one implementation file the task names, in any language (names the suggested test file)."""
        named = self.context.named_sources
        return named[0].path if len(named) == 1 else None

    @property
    def target(self) -> str | None:
        """The one Python implementation file the task names, if it names exactly one."""
        named = [f.path for f in self.context.named_sources if f.path.endswith(".py")]
        return named[0] if len(named) == 1 else None

    @property
    def reply_target(self) -> str | None:
        """The file an unnamed code block of a reply goes to: the Python target, or in a Node project the one
        file the task names."""
        return self.target if self.runner is None else self.named_source

    @property
    def test_path(self) -> str:
        """Where the run's tests are asked for: beside the project's tests, named after the task's file."""
        return self.context.suggested_test_path(self.named_source)
