"""Running the tests in the sandbox and reading the result."""

from __future__ import annotations

import re
import secrets
import shlex
import sys
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path, PurePosixPath

from greenloop.errors import GuardrailViolation
from greenloop.gitops import git
from greenloop.protocols import Sandbox
from greenloop.types import TestOutcome, TestReport, TestStatus
from greenloop.workspace import Workspace

_SUMMARY = re.compile(r"(\d+) (passed|failed|errors?|xfailed|xpassed|skipped)")
_NOISE = [(re.compile(r"0x[0-9a-fA-F]+"), "0x?"), (re.compile(r"line \d+"), "line ?"),
          (re.compile(r":\d+(:\d+)?\b"), ":?"), (re.compile(r"\d+\.\d+s\b"), "?s"),
          (re.compile(r"\bin \d+(\.\d+)?s\b"), "in ?s")]
PROMPT_HEAD, PROMPT_TAIL = 1500, 3500
NO_TESTS_COLLECTED = 5  # pytest's exit code
REPORT_MAX_BYTES = 64 * 1024 * 1024  # a junit report of tens of thousands of tests


def test_interpreter(repo_root: Path) -> Path:
    """The project's own .venv if the user made one, else greenloop's interpreter (which has pytest). A
    `.venv` the repository itself carries (tracked by git, or reached through a link) is not the user's:
    its pyvenv.cfg could name any host directory for the jail to bind, so it is ignored."""
    venv = repo_root / ".venv"
    if venv.is_symlink() or not venv.is_dir() or not (venv / "bin" / "python").exists():
        return Path(sys.executable)
    tracked = git("ls-files", "-z", "--", ":(literal).venv", cwd=repo_root, check=False).stdout
    return Path(sys.executable) if tracked else venv / "bin" / "python"


def pytest_argv(python: Path, test_paths: Sequence[str], report: str | None = None) -> list[str]:
    """pytest on `test_paths` (none: the project's own discovery), a collection error in one file does not
    stop the others; with `report`, per-test outcomes go to that junit XML file (relative to the worktree)."""
    argv = [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts=", "--color=no",
            "--continue-on-collection-errors", "--rootdir=."]  # ids relative to the worktree, whatever pytest
    # configuration a directory above it holds (a repository inside another project's checkout)
    if report:
        argv += ["-o", "junit_family=xunit1", "-o", "junit_logging=no", f"--junitxml={report}"]
    return [*argv, *test_paths]


def test_argv(test_cmd: str | None, test_paths: Sequence[str], python: Path) -> list[str]:
    return shlex.split(test_cmd) if test_cmd else pytest_argv(python, test_paths)


def run_pytest(sandbox: Sandbox, python: Path, test_paths: Sequence[str], workdir: Path,
               timeout_s: float) -> TestReport:
    """pytest in the sandbox with per-test outcomes read from its junit report (the report file is removed)."""
    name = f".greenloop-report-{secrets.token_hex(6)}.xml"
    report = run_tests(sandbox, pytest_argv(python, test_paths, name), workdir, timeout_s)
    ws = Workspace(workdir)
    try:
        xml_text = ws.read_text(name, max_bytes=REPORT_MAX_BYTES)
        ws.remove(name)
    except GuardrailViolation:
        xml_text = None  # the tests replaced the report with a link or a directory: no outcomes
    outcomes = parse_junit(xml_text) if xml_text else ()
    return TestReport(**{**report.__dict__, "outcomes": outcomes})


def _status(case: ET.Element) -> tuple[TestStatus, str]:
    for tag, status in (("error", "error"), ("failure", "failed"), ("skipped", "skipped")):
        child = case.find(tag)
        if child is not None:
            return status, (child.get("message") or "") + ("\n" + child.text if child.text else "")  # type: ignore[return-value]
    return "passed", ""


def _test_id(case: ET.Element) -> tuple[str, str]:
    """(`file::Class::name`, file); a module that failed to import is `file::<collection>`."""
    file = case.get("file") or ""
    classname, name = case.get("classname") or "", case.get("name") or ""
    if not file:
        return f"{classname}::{name}", ""
    if not classname:
        return f"{file}::<collection>", file
    module = str(PurePosixPath(file).with_suffix("")).replace("/", ".")
    inner = classname[len(module):].lstrip(".") if classname.startswith(module) else classname
    return "::".join([file, *(inner.split(".") if inner else []), name]), file


def parse_junit(xml_text: str) -> tuple[TestOutcome, ...]:
    """Per-test outcomes from pytest's junit XML (xunit1: with `file`). Unreadable XML: none."""
    try:
        root = ET.fromstring(xml_text)
    except ET.ParseError:
        return ()
    out: list[TestOutcome] = []
    for case in root.iter("testcase"):
        test_id, file = _test_id(case)
        status, message = _status(case)
        out.append(TestOutcome(test_id, file, status, message[:4000]))
    return tuple(out)


def run_tests(sandbox: Sandbox, argv: list[str], workdir: Path, timeout_s: float) -> TestReport:
    result = sandbox.run(argv, workdir, timeout_s=timeout_s)
    output = result.stdout + (("\n" + result.stderr) if result.stderr.strip() else "")
    if result.timed_out:
        output += f"\n[greenloop: the tests were killed after {timeout_s:.0f}s (timeout)]"
    elif result.exit_code == NO_TESTS_COLLECTED:
        output += ("\n[greenloop: pytest collected no tests: name the test functions test_* in a file "
                   "tests/test_*.py, and make sure the file imports without errors]")
    counts = {"passed": 0, "failed": 0, "errors": 0}
    summary_lines = [ln for ln in output.splitlines() if _SUMMARY.search(ln) and re.search(r"\bin [\d.]+s", ln)]
    if summary_lines:
        for n, kind in _SUMMARY.findall(summary_lines[-1]):
            key = "errors" if kind.startswith("error") else kind
            if key in counts:
                counts[key] += int(n)
    elif result.exit_code != 0:
        counts["errors"] = 1
    return TestReport(command=tuple(argv), exit_code=result.exit_code, passed=counts["passed"],
                      failed=counts["failed"], errors=counts["errors"], output=output,
                      duration_s=result.duration_s, timed_out=result.timed_out)


def failing_ids(output: str) -> list[str]:
    """The test ids pytest's short summary names as FAILED or ERROR (`tests/test_a.py::test_b`)."""
    return [ln.split(" - ")[0].removeprefix("FAILED ").removeprefix("ERROR ").strip()
            for ln in output.splitlines() if ln.startswith(("FAILED ", "ERROR "))]


def failure_summary(report: TestReport) -> str:
    """One line for the attempt history: which tests failed and the first assertion message."""
    lines = report.output.splitlines()
    failed = failing_ids(report.output)
    first_e = next((ln[1:].strip() for ln in lines if ln.startswith("E ")), "")
    if report.timed_out:
        return "tests timed out"
    head = f"{report.failed} failed, {report.errors} errors, {report.passed} passed"
    detail = (", ".join(failed[:3]) + (f": {first_e}" if first_e else "")) if failed else first_e
    return f"{head}" + (f" ({detail[:200]})" if detail else "")


def failure_signature(text: str) -> str:
    """The failure with line numbers, addresses and timings normalised, for oscillation detection."""
    keep = [ln for ln in text.splitlines() if ln.startswith(("FAILED", "ERROR", "E "))] or text.splitlines()[-5:]
    sig = "\n".join(keep)
    for pattern, repl in _NOISE:
        sig = pattern.sub(repl, sig)
    return sig.strip()


def for_prompt(output: str) -> str:
    if len(output) <= PROMPT_HEAD + PROMPT_TAIL:
        return output
    return output[:PROMPT_HEAD] + "\n[... output shortened ...]\n" + output[-PROMPT_TAIL:]
