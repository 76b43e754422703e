"""pytest: the runner of Python projects (and the default when nothing else is detected)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from greenloop.ledger import is_project_test_file
from greenloop.runners.project import Project
from greenloop.testrun import NO_TESTS_COLLECTED, parse_junit, pytest_argv, test_interpreter
from greenloop.types import TestOutcome, TestReport


class PytestRunner:
    name, language = "pytest", "python"

    def __init__(self, python: Path) -> None:
        self.python = python

    @classmethod
    def detect(cls, project: Project) -> PytestRunner | None:
        return cls(test_interpreter(project.root))

    def command(self, test_paths: Sequence[str], report: str) -> list[str]:
        return pytest_argv(self.python, test_paths, report)

    def outcomes(self, report_text: str, workdir: Path) -> tuple[TestOutcome, ...]:
        return parse_junit(report_text)

    def no_tests(self, report: TestReport) -> str:
        return "pytest collected no tests" if report.exit_code == NO_TESTS_COLLECTED else ""

    def is_test_file(self, path: str) -> bool:
        return is_project_test_file(path)

    def missing(self) -> str:
        return ""
