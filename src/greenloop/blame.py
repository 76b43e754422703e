"""A broken test or broken code? pytest ends each failure's traceback with the place the exception was
raised (`tests/test_x.py:12: NameError`). An error other than a failed assertion, raised in the test's own
frame, is the test's fault (a name it never defined, a call it got wrong), not the implementation's:
telling the model to change the code there only makes correct code wrong."""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from greenloop.types import TestOutcome

_RAISED_AT = re.compile(r"^([^\s:][^:\n]*\.py):(\d+): (\w+(?:\.\w+)*)\s*$", re.M)
_TEST_FAILURES = {"AssertionError", "Failed", "DID NOT RAISE", "pytest.fail.Exception"}


@dataclass(frozen=True)
class BrokenTest:
    id: str
    file: str
    where: str  # path:line
    error: str  # the exception's name
    message: str  # its first line

    def line(self) -> str:
        return f"- {self.id}: {self.error} raised at {self.where}, in the test itself: {self.message}"


def broken_tests(outcomes: Sequence[TestOutcome], test_files: Collection[str]) -> list[BrokenTest]:
    """The run's failing tests whose error was raised in a test file's own code, not in the code under test."""
    out = []
    for o in outcomes:
        if o.status not in ("failed", "error") or o.file not in test_files or o.id.endswith("::<collection>"):
            continue
        raised = _RAISED_AT.findall(o.message)
        if not raised:
            continue
        path, line, error = raised[-1]
        if path in test_files and error.rsplit(".", 1)[-1] not in _TEST_FAILURES:
            first = next((ln.strip() for ln in o.message.splitlines() if ln.strip()), error)
            out.append(BrokenTest(o.id, o.file, f"{path}:{line}", error, first[:200]))
    return out


def broken_text(broken: Sequence[BrokenTest]) -> str:
    lines = ["These tests are broken: the error is raised in the test's own code, not in the implementation. "
             "Fix the test file (the implementation may well be right); you may rewrite these tests:"]
    return "\n".join(lines + [b.line() for b in broken])
