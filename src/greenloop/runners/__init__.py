"""Test runners, found through the `greenloop.runners` entry points; the built-ins are registered there too
(and listed here, so a checkout whose installed metadata predates them still finds them). The first runner
in ORDER whose `detect` accepts the project runs its tests; pytest is the last resort."""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path

from greenloop.errors import GuardrailViolation, UsageError
from greenloop.protocols import Sandbox, TestRunner
from greenloop.runners.project import JS_SUFFIXES, Project, node_executable, node_modules_binds, read_project
from greenloop.testrun import REPORT_MAX_BYTES, run_tests
from greenloop.types import SandboxResult, TestOutcome, TestReport
from greenloop.workspace import Workspace

GROUP = "greenloop.runners"
BUILTIN = {"vitest": "greenloop.runners.js:VitestRunner", "jest": "greenloop.runners.js:JestRunner",
           "mocha": "greenloop.runners.js:MochaRunner", "node": "greenloop.runners.js:NodeTestRunner",
           "npm": "greenloop.runners.js:NpmTestRunner", "pytest": "greenloop.runners.pytest:PytestRunner"}
ORDER = ("vitest", "jest", "mocha", "node", "npm")  # then plugins, then pytest
NPM_TEST_ID = "<npm test>"


def _registered() -> dict[str, EntryPoint]:
    found = {name: EntryPoint(name, value, GROUP) for name, value in BUILTIN.items()}
    found.update({ep.name: ep for ep in entry_points(group=GROUP)})
    return found


def detect(worktree: Path, repo_root: Path, test_cmd: str | None = None) -> tuple[TestRunner, Project]:
    """The project's runner. A Node project (package.json, no Python tests, and JavaScript sources or no Python
    ones) with no runner greenloop can find is a usage error naming --test-cmd; one whose runner is not
    installed names the install command. A Python package that only carries a package.json runs pytest.
    With a `test_cmd` (it guards the run), the new tests of an undetectable Node project run in `node --test`."""
    project = read_project(worktree, repo_root)
    found = _registered()
    names = [*ORDER, *(n for n in found if n not in ORDER and n != "pytest")]
    if project.package is not None and not _python_tests(project) and _javascript_or_no_python(project):
        node_modules_binds(project, repo_root)  # a project whose modules are not installed: `npm ci` first
        for name in names:
            runner = found[name].load().detect(project) if name in found else None
            if runner is not None:
                if runner.missing():
                    raise UsageError(runner.missing())
                return runner, project
        if test_cmd:
            return found["node"].load()(project, node_executable()), project
        raise UsageError("no test runner detected in package.json (no scripts.test, no mocha/jest/vitest, no "
                         "*.test.js files); name the command with --test-cmd")
    return found["pytest"].load().detect(project), project


def _python_tests(project: Project) -> bool:
    return any(f.endswith(".py") and ("test_" in f.rsplit("/", 1)[-1] or f.endswith("_test.py"))
               for f in project.files)


def _javascript_or_no_python(project: Project) -> bool:
    sources = [f for f in project.files if "node_modules/" not in f]
    return any(f.endswith(JS_SUFFIXES) for f in sources) or not any(f.endswith(".py") for f in sources)


def execute(runner: TestRunner, sandbox: Sandbox, test_paths: Sequence[str], workdir: Path,
            timeout_s: float) -> TestReport:
    """The runner in the sandbox; per-test outcomes from its report file (removed after). JavaScript runners
    are counted from their outcomes; a run that found no tests says so (and is never green)."""
    name = f".greenloop-report-{secrets.token_hex(6)}.json"
    report = run_tests(sandbox, runner.command(test_paths, name), workdir, timeout_s)
    ws = Workspace(workdir)
    try:
        text = ws.read_text(name, max_bytes=REPORT_MAX_BYTES)
        ws.remove(name)
    except GuardrailViolation:
        text = None  # the tests replaced the report with a link or a directory: no outcomes
    outcomes = runner.outcomes(text, workdir) if text else ()
    if runner.name == "npm" and not report.timed_out:
        outcomes = (TestOutcome(NPM_TEST_ID, "", "passed" if report.exit_code == 0 else "failed",
                                report.output[-2000:]),)
    report = replace(report, outcomes=outcomes)
    if runner.language == "python":
        return report
    counts = {s: sum(o.status == s for o in outcomes) for s in ("passed", "failed", "error")}
    hint = runner.no_tests(report)
    return replace(report, passed=counts["passed"], failed=counts["failed"],
                   errors=counts["error"] + (1 if report.exit_code != 0 and not outcomes else 0),
                   output=report.output + _failures(outcomes, report.output) + ("\n" + hint if hint else ""))


def _failures(outcomes: Sequence[TestOutcome], output: str) -> str:
    """The failing tests' messages from the report, for a runner whose console output does not show them
    (mocha and jest write their JSON report instead)."""
    shown = [f"FAILED {o.id}\n{o.message.strip()[:1500]}" for o in outcomes if o.status in ("failed", "error")
             and o.message.strip() and o.message.strip().splitlines()[0] not in output]
    return ("\n" + "\n\n".join(shown[:10])) if shown else ""


@dataclass(frozen=True)
class BoundSandbox:
    """A sandbox that shows `binds` (host dir -> path in the worktree) read-only in every run: the project's
    installed node_modules. The mount point is made as an empty directory when it is missing."""

    inner: Sandbox
    binds: Mapping[Path, Path]

    @property
    def name(self) -> str:
        return self.inner.name

    def run(self, argv: Sequence[str], workdir: Path, timeout_s: float, env: Mapping[str, str] | None = None,
            binds: Mapping[Path, Path] | None = None) -> SandboxResult:
        mine = {dest: src for dest, src in self.binds.items() if dest.parent.resolve() == workdir.resolve()}
        for dest in mine:
            if not dest.exists() and not dest.is_symlink():
                dest.mkdir()
        return self.inner.run(argv, workdir, timeout_s, env, binds={**mine, **(binds or {})})


def with_project_modules(sandbox: Sandbox, project: Project, repo_root: Path) -> Sandbox:
    binds = node_modules_binds(project, repo_root)
    return BoundSandbox(sandbox, binds) if binds else sandbox
