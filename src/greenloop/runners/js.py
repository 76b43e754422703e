"""The JavaScript runners: node --test, mocha, jest, vitest, and `npm test` judged by its exit code.
Each is detected from package.json (scripts.test, dependencies), config files and test file names; the tools
come from the project's node_modules (bound read-only into the jail), node from PATH."""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Sequence
from pathlib import Path

from greenloop.runners import reports
from greenloop.runners.project import JS_TEST_FILE, Project, node_executable
from greenloop.types import TestOutcome, TestReport

_REPORTER = Path(__file__).with_name("node_reporter.mjs")


class _JsRunner:
    name = "js"
    package = ""  # the npm package the runner needs in node_modules

    def __init__(self, project: Project, node: str) -> None:
        self.project, self.node = project, node
        self.language = project.language

    @classmethod
    def uses(cls, project: Project) -> bool:
        return bool(cls.package) and (cls.package in project.dependencies
                                      or re.search(rf"(^|[\s/]){cls.package}\b", project.test_script) is not None)

    @classmethod
    def detect(cls, project: Project) -> _JsRunner | None:
        return cls(project, node_executable()) if project.package is not None and cls.uses(project) else None

    def bin(self, name: str) -> str:
        return f"node_modules/.bin/{name}"

    def is_test_file(self, path: str) -> bool:
        return JS_TEST_FILE.search(path) is not None

    def no_tests(self, report: TestReport) -> str:
        if "Cannot allocate Wasm memory" in report.output:
            return ("[greenloop: WebAssembly needs more address space than memory_limit_mb allows (vite/vitest "
                    "use it); raise memory_limit_mb to 16384 in your user config or GREENLOOP_MEMORY_LIMIT_MB]")
        if report.outcomes or report.timed_out:
            return ""
        return (f"[greenloop: {self.name} ran no tests: name test files *.test.js (or .ts) and make sure they "
                "load without errors]")

    def missing(self) -> str:
        """The install hint when the runner's package is absent from node_modules ("" when it is there)."""
        if not self.package or self.project.installed(self.package):
            return ""
        return (f"{self.name} is not installed in node_modules; run `npm install --save-dev {self.package}` "
                "(or `npm ci`) in the repository first")


class NodeTestRunner(_JsRunner):
    """`node --test` with greenloop's reporter as a data: URL, and the spec reporter for the model."""

    name = "node"

    @classmethod
    def uses(cls, project: Project) -> bool:
        script = project.test_script
        return "node --test" in script or "node:test" in script or (not script and bool(project.js_tests()))

    def command(self, test_paths: Sequence[str], report: str) -> list[str]:
        url = "data:text/javascript," + urllib.parse.quote(_REPORTER.read_text(encoding="utf-8"))
        loader = ["--import", "tsx"] if self.language == "typescript" and self.project.installed("tsx") else []
        return [self.node, *loader, "--test", "--test-reporter=spec", "--test-reporter-destination=stdout",
                f"--test-reporter={url}", f"--test-reporter-destination={report}", *test_paths]

    def outcomes(self, report_text: str, workdir: Path) -> tuple[TestOutcome, ...]:
        return reports.node_lines(report_text, workdir)


class MochaRunner(_JsRunner):
    name, package = "mocha", "mocha"

    def command(self, test_paths: Sequence[str], report: str) -> list[str]:
        return [self.node, self.bin("mocha"), "--reporter", "json", "--reporter-option", f"output={report}",
                *test_paths]

    def outcomes(self, report_text: str, workdir: Path) -> tuple[TestOutcome, ...]:
        return reports.mocha_json(report_text, workdir)


class JestRunner(_JsRunner):
    name, package = "jest", "jest"

    def command(self, test_paths: Sequence[str], report: str) -> list[str]:
        paths = ["--runTestsByPath", *test_paths] if test_paths else []
        return [self.node, self.bin("jest"), "--ci", "--json", f"--outputFile={report}", "--watchman=false",
                *paths]

    def outcomes(self, report_text: str, workdir: Path) -> tuple[TestOutcome, ...]:
        return reports.jest_json(report_text, workdir)


class VitestRunner(_JsRunner):
    name, package = "vitest", "vitest"

    def command(self, test_paths: Sequence[str], report: str) -> list[str]:
        return [self.node, self.bin("vitest"), "run", "--cache=false", "--reporter=json", f"--outputFile={report}",
                "--reporter=default", *test_paths]

    def outcomes(self, report_text: str, workdir: Path) -> tuple[TestOutcome, ...]:
        return reports.jest_json(report_text, workdir)


class NpmTestRunner(_JsRunner):
    """`npm test` with no runner greenloop can read: one outcome, judged by the exit code. Given files are
    passed after `--` (the script decides what to do with them)."""

    name = "npm"

    @classmethod
    def uses(cls, project: Project) -> bool:
        return bool(project.test_script) and "no test specified" not in project.test_script

    def command(self, test_paths: Sequence[str], report: str) -> list[str]:
        npm = str(Path(self.node).with_name("npm"))
        return [npm, "test", "--silent", "--offline", *(["--", *test_paths] if test_paths else [])]

    def outcomes(self, report_text: str, workdir: Path) -> tuple[TestOutcome, ...]:
        return ()  # there is no report: the exit code judges (see runners.execute)
