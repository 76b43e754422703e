"""When is a run green? The project's own suite is run once on the untouched worktree (the baseline);
every later run holds the new tests and that suite together: green only when the new tests pass and
every test that passed at baseline still passes. New tests must fail first (the red run): a test that
passes against the code before the implementation, or that asserts nothing, checks nothing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from greenloop.errors import UsageError
from greenloop.frozen import assertion_free
from greenloop.ledger import Ledger
from greenloop.protocols import Sandbox
from greenloop.testrun import for_prompt, run_pytest, run_tests, test_argv
from greenloop.types import TestOutcome, TestReport
from greenloop.workspace import Workspace

NO_TESTS_COLLECTED = 5
COMMAND_ID = "<test_cmd>"  # the configured test command, guarded by its exit code
BaselineStatus = Literal["ok", "red", "absent", "unavailable"]


@dataclass(frozen=True)
class Baseline:
    status: BaselineStatus
    passed: frozenset[str]  # test ids guarded from here on
    files: tuple[str, ...]  # the project's test files, run again with every attempt
    detail: str
    report: TestReport | None = None


@dataclass(frozen=True)
class Verdict:
    green: bool
    report: TestReport
    new: tuple[TestOutcome, ...]  # outcomes of the run's own tests
    regressions: tuple[str, ...]  # baseline ids that no longer pass
    failure: str  # for the next request; "" when green

    def counts(self, baseline: Baseline) -> dict[str, int]:
        return {"passed": self.report.passed, "failed": self.report.failed + self.report.errors,
                "new_passed": sum(o.status == "passed" for o in self.new),
                "new_failed": sum(o.status != "passed" for o in self.new),
                "baseline_passed": len(baseline.passed), "regressions": len(self.regressions)}


def take_baseline(sandbox: Sandbox, root: Path, python: Path, test_cmd: str | None, timeout_s: float) -> Baseline:
    """The project's own suite on the untouched worktree. A suite slower than the timeout is a usage error
    (exit 2): every attempt would time out the same way."""
    if test_cmd:
        report = run_tests(sandbox, test_argv(test_cmd, [], python), root, timeout_s)
    else:
        report = run_pytest(sandbox, python, [], root, timeout_s)
    if report.timed_out:
        raise UsageError(f"the project's test suite takes longer than test_timeout ({timeout_s:.0f}s) before any "
                         "change; raise it with --test-timeout or test_timeout in [tool.greenloop], or set "
                         "test_cmd to a faster subset")
    if test_cmd:
        ok = report.exit_code == 0
        return Baseline("ok" if ok else "red", frozenset({COMMAND_ID}) if ok else frozenset(), (),
                        f"test_cmd exited {report.exit_code}", report)
    if report.exit_code == NO_TESTS_COLLECTED:
        return Baseline("absent", frozenset(), (), "the project has no tests", report)
    real = [o for o in report.outcomes if not o.id.endswith("::<collection>")]
    if not real:
        return Baseline("unavailable", frozenset(), (), f"the suite could not be collected (pytest exited "
                        f"{report.exit_code}); no regression claim is made", report)
    passed = frozenset(o.id for o in real if o.status == "passed")
    files = tuple(sorted({o.file for o in report.outcomes if o.file}))
    red = len(passed) < len(real) or report.exit_code != 0
    detail = f"{len(passed)} of {len(real)} tests passed" + (" (the others are not guarded)" if red else "")
    return Baseline("red" if red else "ok", passed, files, detail, report)


def judge(sandbox: Sandbox, root: Path, python: Path, test_cmd: str | None, timeout_s: float,
          baseline: Baseline, new_tests: Sequence[str]) -> Verdict:
    """The new tests and the project's suite in one pytest run, plus the configured test_cmd if there is one,
    which must pass (it is what the user said judges the work). Without new tests (require_tests off), the
    suite alone judges."""
    paths = [*baseline.files, *(t for t in new_tests if t not in baseline.files)]
    command = run_tests(sandbox, test_argv(test_cmd, [], python), root, timeout_s) if test_cmd else None
    report = run_pytest(sandbox, python, paths, root, timeout_s) if paths else command
    assert report is not None, "judge needs tests to run: new tests, project tests or test_cmd"
    by_id = report.by_id()
    regressions = [i for i in sorted(baseline.passed - {COMMAND_ID})
                   if (o := by_id.get(i)) is None or o.status != "passed"]
    extra = ""
    if command is not None and command.exit_code != 0:
        if COMMAND_ID in baseline.passed:
            regressions.append(COMMAND_ID)
        extra = f"\n\ntest_cmd exited {command.exit_code}:\n{for_prompt(command.output)}"
    new = report.in_files(set(new_tests)) if paths else ()
    new_ok = all(o.status == "passed" for o in new) and (bool(new) or not new_tests)
    clean = report.exit_code == 0 or _only_baseline_failures(report, baseline, set(new_tests))
    command_ok = command is None or command.exit_code == 0  # the user's own judge: it must pass
    green = new_ok and clean and command_ok and not regressions and not report.timed_out
    failure = "" if green else _failure_text(report, regressions, by_id) + extra
    return Verdict(green, report, new, tuple(regressions), failure)


def _only_baseline_failures(report: TestReport, baseline: Baseline, new_tests: set[str]) -> bool:
    """A red baseline keeps pytest's exit code at 1: what failed then may still fail, nothing else may."""
    failing = {o.id for o in report.outcomes if o.status in ("failed", "error")}
    guarded_or_new = {o.id for o in report.outcomes if o.file in new_tests} | set(baseline.passed)
    return not (failing & guarded_or_new)


def _failure_text(report: TestReport, regressions: Sequence[str], by_id: dict[str, TestOutcome]) -> str:
    if not regressions:
        return for_prompt(report.output)
    lines = ["Your change broke tests of the project that passed before it (they must pass again; they "
             "cannot be changed or skipped):"]
    for test_id in regressions[:10]:
        outcome = by_id.get(test_id)
        why = outcome.message.strip().splitlines()[0][:300] if outcome and outcome.message.strip() else \
            "it was not run (skipped or no longer collected)" if outcome is None or outcome.status == "skipped" \
            else outcome.status
        lines.append(f"- {test_id}: {why}")
    return "\n".join(lines) + "\n\n" + for_prompt(report.output)


@dataclass(frozen=True)
class RedRun:
    vacuous: tuple[str, ...]  # one line each: which test and why
    report: TestReport | None


def red_run(sandbox: Sandbox, ws: Workspace, python: Path, ledger: Ledger, tests: Sequence[str],
            timeout_s: float) -> RedRun:
    """Run the new tests against the code before the implementation; a test that passes there, or that
    asserts nothing, is vacuous."""
    vacuous = [f"{path}::{name} asserts nothing (no assert on the code, no pytest.raises)"
               for path in tests for name in assertion_free(ledger.current(path) or "")]
    with ledger.without_sources(ws):
        report = run_pytest(sandbox, python, list(tests), ws.root, timeout_s)
    named = {v.split(" ")[0] for v in vacuous}
    vacuous += [f"{o.id} passes without the implementation, so it does not test it" for o in report.outcomes
                if o.status == "passed" and o.file in tests and o.id.split("[")[0] not in named]
    return RedRun(tuple(vacuous), report)
