"""When is a run green? The project's own suite is run once on the untouched worktree (the baseline);
every later run holds the new tests and that suite together: green only when the new tests pass and
every test that passed at baseline still passes. A test red at baseline is not guarded, unless the task names it
(its file or its test function): then it is what the task is about and must pass. New tests must fail first (the
red run): a test that passes against the code before the implementation, or that asserts nothing, checks nothing."""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

from greenloop.errors import UsageError
from greenloop.frozen import assertion_free
from greenloop.ledger import Ledger
from greenloop.protocols import Sandbox, TestRunner
from greenloop.runners import execute
from greenloop.testrun import NO_TESTS_COLLECTED, failing_ids, for_prompt, run_pytest, run_tests, test_argv
from greenloop.types import TestOutcome, TestReport
from greenloop.workspace import Workspace

COMMAND_ID = "<test_cmd>"  # the configured test command, guarded by its exit code
BaselineStatus = Literal["ok", "red", "absent", "unavailable"]


@dataclass(frozen=True)
class Baseline:
    status: BaselineStatus
    passed: frozenset[str]  # test ids guarded from here on
    files: tuple[str, ...]  # the project's test files, run again with every attempt
    detail: str
    report: TestReport | None = None
    required_files: frozenset[str] = frozenset()  # red at baseline and named by the task: every test must pass
    required_ids: frozenset[str] = frozenset()  # red at baseline, its function named by the task: must pass

    def named_by(self, task: str) -> Baseline:
        """This baseline with the task's targets among its red tests: the project test files the task names
        and the test functions (`test_*`) it names. "Make tests/test_parser.py pass" is green only when it does."""
        red = [o for o in self.report.outcomes if o.status in ("failed", "error") and o.file in self.files] \
            if self.report else []  # a test_cmd baseline has no files: its command must pass anyway
        words = set(re.findall(r"\btest\w+", task))
        files = {o.file for o in red if o.file and re.search(rf"(?<![\w/.-]){re.escape(o.file)}(?![\w/-])", task)}
        ids = {o.id for o in red if _name(o.id) in words}
        if files or ids:
            detail = self.detail + f"; the task names {len(files) + len(ids)} of the failing tests: they must pass"
            return replace(self, required_files=frozenset(files), required_ids=frozenset(ids), detail=detail)
        return self

    def unmet(self, suite: TestReport | None) -> list[str]:
        """The task's named red tests that do not pass in `suite` (a named file must run at least one test)."""
        by_id = suite.by_id() if suite else {}
        unmet = [i for i in sorted(self.required_ids) if (o := by_id.get(i)) is None or o.status != "passed"]
        for path in sorted(self.required_files):
            ran = [o for o in (suite.outcomes if suite else ()) if o.file == path]
            bad = [o.id for o in ran if o.status not in ("passed", "skipped")]
            unmet += [i for i in bad if i not in unmet] if bad or any(o.status == "passed" for o in ran) else [path]
        return unmet


def _name(test_id: str) -> str:
    return test_id.rsplit("::", 1)[-1].split("[")[0]


@dataclass(frozen=True)
class Verdict:
    green: bool
    report: TestReport
    new: tuple[TestOutcome, ...]  # outcomes of the run's own tests
    regressions: tuple[str, ...]  # baseline ids that no longer pass
    failure: str  # for the next request; "" when green

    def broken(self, frozen_ids: Collection[str]) -> list[str]:
        """The project's tests this verdict broke: its regressions that are not the run's own frozen tests."""
        return [i for i in self.regressions if i not in frozen_ids]

    def counts(self, baseline: Baseline) -> dict[str, int]:
        return {"passed": self.report.passed, "failed": self.report.failed + self.report.errors,
                "new_passed": sum(o.status == "passed" for o in self.new),
                "new_failed": sum(o.status != "passed" for o in self.new),
                "baseline_passed": len(baseline.passed), "regressions": len(self.regressions)}


def _run(sandbox: Sandbox, python: Path, paths: Sequence[str], root: Path, timeout_s: float,
         runner: TestRunner | None) -> TestReport:
    """The project's runner (runners/) when the run detected one, else pytest."""
    if runner is None:
        return run_pytest(sandbox, python, paths, root, timeout_s)
    return execute(runner, sandbox, paths, root, timeout_s)


def take_baseline(sandbox: Sandbox, root: Path, python: Path, test_cmd: str | None, timeout_s: float,
                  runner: TestRunner | None = None) -> Baseline:
    """The project's own suite on the untouched worktree. A suite slower than the timeout is a usage error
    (exit 2): every attempt would time out the same way."""
    if test_cmd:
        report = run_tests(sandbox, test_argv(test_cmd, [], python), root, timeout_s)
    else:
        report = _run(sandbox, python, [], root, timeout_s, runner)
    if report.timed_out:
        raise UsageError(f"the project's test suite takes longer than test_timeout ({timeout_s:.0f}s) before any "
                         "change; raise it with --test-timeout or test_timeout in [tool.greenloop], or set "
                         "test_cmd to a faster subset")
    if test_cmd:
        ok = report.exit_code == 0
        return Baseline("ok" if ok else "red", frozenset({COMMAND_ID}) if ok else frozenset(), (),
                        f"test_cmd exited {report.exit_code}", report)
    if (runner.no_tests(report) if runner else report.exit_code == NO_TESTS_COLLECTED):
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
          baseline: Baseline, new_tests: Sequence[str], frozen_ids: Collection[str] = (),
          runner: TestRunner | None = None) -> Verdict:
    """Each in a process of its own, so that one cannot patch the other: the project's suite (the run's
    tests are not in it), the run's own tests, and the configured test_cmd, which must pass (it is what
    the user said judges the work). Green: every new test passes with a clean exit, every frozen test id is
    still there and passing, every baseline id still passes, and nothing else fails that passed before."""
    suite = _run(sandbox, python, list(baseline.files), root, timeout_s, runner) if baseline.files else None
    own = [t for t in new_tests if t not in baseline.files]
    new = _run(sandbox, python, own, root, timeout_s, runner) if own else None
    command = run_tests(sandbox, test_argv(test_cmd, [], python), root, timeout_s) if test_cmd else None
    reports = [r for r in (new, suite, command) if r is not None]
    if not reports:
        raise UsageError("nothing judges this run: no new tests, no project tests and no test_cmd; "
                         "turn require_tests on or set test_cmd")
    suite_ids = suite.by_id() if suite else {}
    regressions = [i for i in sorted(baseline.passed - {COMMAND_ID})
                   if (o := suite_ids.get(i)) is None or o.status != "passed"]
    new_ids = new.by_id() if new else {}
    lost = [i for i in sorted(frozen_ids) if (o := new_ids.get(i)) is None or o.status != "passed"]
    own_only = command is not None and _fails_only_in(command, own)
    if command is not None and command.exit_code != 0 and COMMAND_ID in baseline.passed and not own_only:
        regressions.append(COMMAND_ID)
    new_ok = new is None or (new.exit_code == 0 and bool(new.outcomes)
                             and all(o.status == "passed" for o in new.outcomes))
    suite_ok = suite is None or suite.exit_code == 0 or _only_baseline_failures(suite, baseline)
    command_ok = command is None or command.exit_code == 0
    unmet = baseline.unmet(suite) if baseline.required_files or baseline.required_ids else []
    green = (bool(own) or not new_tests) and new_ok and suite_ok and command_ok and not regressions \
        and not lost and not unmet and not any(r.timed_out for r in reports)
    failure = "" if green else _failure_text(new, suite, command, regressions, lost, unmet, own_only)
    return Verdict(green, combined(reports), new.outcomes if new else (), tuple(regressions + lost), failure)


def combined(reports: Sequence[TestReport]) -> TestReport:
    """Several runs as one report (for the record and the counts)."""
    if len(reports) == 1:
        return reports[0]
    output = "\n".join(f"$ {' '.join(r.command[-3:])} (exit {r.exit_code})\n{r.output}" for r in reports)
    return TestReport(command=reports[0].command, exit_code=max(r.exit_code for r in reports),
                      passed=sum(r.passed for r in reports), failed=sum(r.failed for r in reports),
                      errors=sum(r.errors for r in reports), output=output,
                      duration_s=sum(r.duration_s for r in reports), timed_out=any(r.timed_out for r in reports),
                      outcomes=tuple(o for r in reports for o in r.outcomes))


def _only_baseline_failures(suite: TestReport, baseline: Baseline) -> bool:
    """A red baseline keeps pytest's exit code at 1: the tests that failed then may fail again, nothing else
    may, and a failing exit code must be explained by failing tests (not by a forged or missing report)."""
    failing = {o.id for o in suite.outcomes if o.status in ("failed", "error")}
    failed_before = {o.id for o in baseline.report.outcomes if o.status in ("failed", "error")} \
        if baseline.report else set()
    return bool(failing) and failing <= failed_before


def _fails_only_in(command: TestReport, own: Sequence[str]) -> bool:
    """test_cmd failed, and every test its output names as failing is in one of the run's own test files (a
    `pytest tests` also collects them): their failure is reported as theirs, not as the project's regression.
    Green is unaffected: test_cmd must still exit 0."""
    failing = failing_ids(command.output)
    return (command.exit_code != 0 and not command.timed_out and bool(failing)
            and all(i.split("::")[0] in own for i in failing))


def _failure_text(new: TestReport | None, suite: TestReport | None, command: TestReport | None,
                  regressions: Sequence[str], lost: Sequence[str], unmet: Sequence[str] = (),
                  own_only: bool = False) -> str:
    parts = []
    if unmet:
        by_id = suite.by_id() if suite else {}
        parts.append("\n".join(["The task names these tests of the project; they failed before the change and must "
                                "pass now (change the code, not the tests):"]
                               + [f"- {i}: {_why(by_id.get(i))}" for i in unmet[:10]]))
    if regressions:
        by_id = suite.by_id() if suite else {}
        lines = ["Your change broke tests of the project that passed before it (they must pass again; they "
                 "cannot be changed or skipped):"]
        lines += [f"- {i}: {_why(by_id.get(i))}" for i in regressions[:10]]
        parts.append("\n".join(lines))
    if lost:
        by_id = new.by_id() if new else {}
        parts.append("\n".join(["These tests were frozen and must still pass:"]
                               + [f"- {i}: {_why(by_id.get(i))}" for i in lost[:10]]))
    if own_only and command is not None:
        files = sorted({i.split("::")[0] for i in failing_ids(command.output)})
        parts.append(f"test_cmd fails only in the run's own tests: {', '.join(files)} (their output is below; the "
                     "project's tests it runs pass).")
        command = None
    for name, report in (("your tests", new), ("the project's tests", suite), ("test_cmd", command)):
        if report is not None and (report.exit_code != 0 or report.timed_out):
            parts.append(f"Output of {name} (exit {report.exit_code}):\n{for_prompt(report.output)}")
    return "\n\n".join(parts)


def _why(outcome: TestOutcome | None) -> str:
    if outcome is None or outcome.status == "skipped":
        return "it was not run (skipped or no longer collected)"
    text = outcome.message.strip()
    return text.splitlines()[0][:300] if text else outcome.status


@dataclass(frozen=True)
class RedRun:
    vacuous: tuple[str, ...]  # one line each: which test and why
    report: TestReport | None


def red_run(sandbox: Sandbox, ws: Workspace, python: Path, ledger: Ledger, tests: Sequence[str],
            timeout_s: float, runner: TestRunner | None = None) -> RedRun:
    """Run the new tests against the code before the implementation. A test that asserts nothing is vacuous; so
    is one that passes there, unless another new test fails there: then the tests as a whole check the change,
    and the passing one is an edge case the code already met (a stub's implicit None for `longest([]) is None`,
    HumanEval/12), which must still pass at the end."""
    vacuous = [f"{path}::{name} asserts nothing (no assert on the code, no pytest.raises)"
               for path in tests for name in assertion_free(ledger.current(path) or "")]
    with ledger.without_sources(ws):
        report = _run(sandbox, python, list(tests), ws.root, timeout_s, runner)
    named = {v.split(" ")[0] for v in vacuous}
    ours = [o for o in report.outcomes if o.file in tests and o.id.split("[")[0] not in named]
    if not any(o.status in ("failed", "error") for o in ours):
        vacuous += [f"{o.id} passes without the implementation, so it does not test it" for o in ours
                    if o.status == "passed"]
    return RedRun(tuple(vacuous), report)
