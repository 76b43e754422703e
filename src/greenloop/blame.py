"""A broken test or broken code? pytest ends each failure's traceback with the place the exception was
raised (`tests/test_x.py:12: NameError`). An error other than a failed assertion, raised in the test's own
frame, is the test's fault (a name it never defined, a call it got wrong), not the implementation's:
telling the model to change the code there only makes correct code wrong.

Except a TypeError or AttributeError about an object of a class of the implementation (`object of type 'Stack' has
no len()`, `'Stack' object has no attribute 'peek'`, `type object 'Stack' has no attribute 'empty'`): the test uses
an API the code lacks, and which of the two is wrong is the task's to say. Telling the model its test is broken
invites it to fit the test to the code; asking for the code to change at worst adds an API (py_repo_tasks.py
`stack`: the task asks for `len(stack)`, the code defined a method `len`, the test was called broken and rewritten
to `stack.len()`: a false green). A call the test got wrong (`slugify() takes 1 positional argument but 2 were
given`) stays the test's fault."""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from greenloop.types import TestOutcome

_RAISED_AT = re.compile(r"^([^\s:][^:\n]*\.py):(\d+): (\w+(?:\.\w+)*)\s*$", re.M)
_TEST_FAILURES = {"AssertionError", "Failed", "DID NOT RAISE", "pytest.fail.Exception"}
_API_ERRORS = {"TypeError", "AttributeError"}


@dataclass(frozen=True)
class BrokenTest:
    id: str
    file: str
    where: str  # path:line
    error: str  # the exception's name
    message: str  # its first line

    def line(self) -> str:
        return f"- {self.id}: {self.error} raised at {self.where}, in the test itself: {self.message}"


def broken_tests(outcomes: Sequence[TestOutcome], test_files: Collection[str],
                 api: Collection[str] = ()) -> list[BrokenTest]:
    """The run's failing tests whose error was raised in a test file's own code, not in the code under test, and
    is not about the implementation's API (`api`: the names of its top-level classes and functions; see the
    module's doc)."""
    out = []
    for o in outcomes:
        if o.status not in ("failed", "error") or o.file not in test_files or o.id.endswith("::<collection>"):
            continue
        raised = _RAISED_AT.findall(o.message)
        if not raised:
            continue
        path, line, error = raised[-1]
        name = error.rsplit(".", 1)[-1]
        if path not in test_files or name in _TEST_FAILURES:
            continue
        first = next((ln.strip() for ln in o.message.splitlines() if ln.strip()), error)
        if name in _API_ERRORS and _about_object(first, api):
            continue
        out.append(BrokenTest(o.id, o.file, f"{path}:{line}", error, first[:200]))
    return out


def _about_object(text: str, names: Collection[str]) -> bool:
    """The message is about an object (or the type) of one of the classes `names`."""
    return any(re.search(rf"'{re.escape(n)}' object|type '{re.escape(n)}'|type object '{re.escape(n)}'", text)
               for n in names)


def broken_text(broken: Sequence[BrokenTest]) -> str:
    lines = ["These tests are broken: the error is raised in the test's own code, not in the implementation. "
             "Fix the test file (the implementation may well be right); you may rewrite these tests:"]
    return "\n".join(lines + [b.line() for b in broken])
