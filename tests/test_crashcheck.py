"""A green program that raises by accident on an input near the task's examples is asked, once, to handle it
(crashcheck.py); the fix is committed only if it meets the examples, no longer raises there and passes every test.
Real loop, scripted model, real sandbox, real pytest, real git."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from conftest import events, git, requested_steps, scripted_run

from greenloop.crashcheck import ACCIDENTAL, _where
from greenloop.probes import Call, run_probes
from greenloop.sandboxes.common import Limits
from greenloop.sandboxes.select import choose as choose_sandbox

STUB = ('def last_word_length(text):\n    """The length of the last word of text (0 when it has none).\n\n'
        '    >>> last_word_length("hello world")\n    5\n    """\n')
CRASHY = STUB + "    return len(text.split()[-1])\n"  # meets the example; IndexError on ""
FIXED = STUB + "    words = text.split()\n    return len(words[-1]) if words else 0\n"
NO_CRASH = STUB + "    words = text.split()\n    return len(words[-1]) if words else 0  # already safe\n"
PROJECT_TEST = ("from textkit.words import last_word_length\n\n\ndef test_two_words():\n"
                "    assert last_word_length('a bc') == 2\n")
TASK = "Implement last_word_length in textkit/words.py as its docstring says"
ENV = {"GREENLOOP_REQUIRE_TESTS": "false", "GREENLOOP_COMMIT_MESSAGE": "template", "GREENLOOP_MUTATION": "off"}


@pytest.fixture
def stubbed(repo: Path) -> Path:
    (repo / "textkit" / "words.py").write_text(STUB)
    (repo / "tests").mkdir()
    (repo / "tests" / "test_words.py").write_text(PROJECT_TEST)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "stub")
    return repo


def block(code: str) -> str:
    return f"textkit/words.py\n```python\n{code}```\n"


def run(repo: Path, tmp_path: Path, replies: list[dict], env: dict[str, str] | None = None) -> dict:
    return scripted_run(repo, tmp_path, TASK, replies, {**ENV, **(env or {})})


def checks(s: dict) -> list[dict]:
    return [e for e in events(s["trajectory"]) if e["kind"] == "crash_check"]


def committed(repo: Path, s: dict) -> str:
    return git(repo, "show", f"{s['commit']}:textkit/words.py")


def test_a_green_that_crashes_near_the_example_is_fixed_once_and_the_fix_committed(stubbed: Path,
                                                                                   tmp_path: Path) -> None:
    s = run(stubbed, tmp_path, [{"step": "generate", "text": block(CRASHY)},
                                {"step": "crash_check", "text": block(FIXED)}])
    assert s["status"] == "success" and requested_steps(s) == ["generate", "crash_check"], s
    (check,) = checks(s)
    assert (check["crash"], check["error"], check["outcome"], check["swapped"]) == (
        "last_word_length('')", "IndexError", "fixed", True)
    assert committed(stubbed, s) == FIXED
    assert any("raised IndexError on last_word_length(''); the committed one returns 0 there" in w
               for w in s["warnings"]), s["warnings"]
    request = next(e for e in events(s["trajectory"]) if e["kind"] == "model_request" and e["step"] == "crash_check")
    assert ("`last_word_length('')` raises IndexError on line 7: `return len(text.split()[-1])`."
            in request["messages"][-1]["content"])


def test_a_file_sent_back_unchanged_is_committed_as_it_was(stubbed: Path, tmp_path: Path) -> None:
    s = run(stubbed, tmp_path, [{"step": "generate", "text": block(CRASHY)},
                                {"step": "crash_check", "text": block(CRASHY)}])
    assert s["status"] == "success", s
    (check,) = checks(s)
    assert check["outcome"] == "unchanged" and not check["swapped"]
    assert committed(stubbed, s) == CRASHY and not any("IndexError" in w for w in s["warnings"])


def test_a_fix_that_breaks_a_test_is_not_committed_and_the_crash_is_named(stubbed: Path, tmp_path: Path) -> None:
    breaks = STUB + "    return 5 if text else 0\n"  # meets the example and no longer raises; fails test_two_words
    s = run(stubbed, tmp_path, [{"step": "generate", "text": block(CRASHY)},
                                {"step": "crash_check", "text": block(breaks)}])
    assert s["status"] == "success", s
    (check,) = checks(s)
    assert check["outcome"] == "tests failed" and not check["swapped"]
    assert committed(stubbed, s) == CRASHY
    assert any("last_word_length('') raises IndexError; the fix asked for failed the tests" in w
               for w in s["warnings"]), s["warnings"]


@pytest.mark.parametrize("wrong", ["    return 0\n",  # misses the example
                                   "    return len(text.split()[-1]) + 0\n"])  # still raises
def test_a_fix_that_misses_the_example_or_still_raises_is_not_committed(stubbed: Path, tmp_path: Path,
                                                                        wrong: str) -> None:
    s = run(stubbed, tmp_path, [{"step": "generate", "text": block(CRASHY)},
                                {"step": "crash_check", "text": block(STUB + wrong)}])
    (check,) = checks(s)
    assert s["status"] == "success" and check["outcome"] == "still wrong", s
    assert committed(stubbed, s) == CRASHY


def test_a_green_that_raises_nowhere_costs_no_call(stubbed: Path, tmp_path: Path) -> None:
    s = run(stubbed, tmp_path, [{"step": "generate", "text": block(NO_CRASH)}])
    assert s["status"] == "success" and requested_steps(s) == ["generate"], s
    (check,) = checks(s)
    assert check["outcome"] == "none" and check["crash"] is None and "last_word_length('')" in check["calls"]


def test_the_crash_check_can_be_turned_off(stubbed: Path, tmp_path: Path) -> None:
    s = run(stubbed, tmp_path, [{"step": "generate", "text": block(CRASHY)}], env={"GREENLOOP_CRASH_CHECK": "false"})
    assert s["status"] == "success" and requested_steps(s) == ["generate"] and checks(s) == [], s
    assert committed(stubbed, s) == CRASHY


def test_errors_code_raises_on_purpose_are_no_crash() -> None:
    assert {"IndexError", "ZeroDivisionError", "RecursionError"} <= ACCIDENTAL
    assert not {"ValueError", "TypeError", "TimeoutError", "AssertionError"} & ACCIDENTAL


def test_what_the_probed_program_writes_never_reaches_the_fix_or_the_commit(stubbed: Path, tmp_path: Path) -> None:
    # Red team: the green program, imported by the probes in the jail, appends to its own file on disk; the fix
    # is an edit of that file. The edit must apply to the checked file, never to what the program left there.
    planting = ("import pathlib\n_f = pathlib.Path(__file__)\nif _f.exists() and 'PLANTED' not in _f.read_text():\n"
                "    _f.write_text(_f.read_text() + 'PLANTED = 1\\n')\n" + CRASHY)
    edit = ("textkit/words.py\n<<<<<<< SEARCH\n    return len(text.split()[-1])\n=======\n"
            "    words = text.split()\n    return len(words[-1]) if words else 0\n>>>>>>> REPLACE\n")
    s = run(stubbed, tmp_path, [{"step": "generate", "text": block(planting)}, {"step": "crash_check", "text": edit}])
    assert s["status"] == "success", s
    (check,) = checks(s)
    assert check["outcome"] == "fixed", check
    assert "\nPLANTED = 1" not in committed(stubbed, s) and "if words else 0" in committed(stubbed, s)


def test_a_fix_that_crashes_on_another_input_is_not_committed(stubbed: Path, tmp_path: Path) -> None:
    # handles '' but raises IndexError on the upper-cased example, where the green program returned 5
    trades = STUB + ("    words = text.split()\n    if text.isupper():\n        return len(words[5])\n"
                     "    return len(words[-1]) if words else 0\n")
    s = run(stubbed, tmp_path, [{"step": "generate", "text": block(CRASHY)},
                                {"step": "crash_check", "text": block(trades)}])
    (check,) = checks(s)
    assert s["status"] == "success" and check["outcome"] == "still wrong", s
    assert committed(stubbed, s) == CRASHY


def _project_test(repo: Path) -> None:
    (repo / "tests").mkdir()
    (repo / "tests" / "test_ok.py").write_text("def test_ok():\n    assert True\n")
    git(repo, "add", "-A")


def test_a_probe_of_a_function_the_program_no_longer_has_is_no_crash(repo: Path, tmp_path: Path) -> None:
    # The base file writes the call old(3) (a seed of the probes); the task renames the function. The green has no
    # `old`: calling it is no crash (it read as KeyError, a crash to "fix" by bringing `old` back).
    (repo / "textkit" / "m.py").write_text("def old(x):\n    return x + 1\n\n\n# the report calls old(3)\n")
    _project_test(repo)
    git(repo, "commit", "-qm", "old")
    renamed = 'def new(x):\n    """new(3) gives 4."""\n    return x + 1\n'
    s = scripted_run(repo, tmp_path, "Rename old to new in textkit/m.py: new(3) == 4",
                     [{"step": "generate", "text": f"textkit/m.py\n```python\n{renamed}```\n"}], ENV)
    assert s["status"] == "success" and requested_steps(s) == ["generate"], s
    (check,) = checks(s)
    assert check["outcome"] == "none" and "old(3)" in check["calls"], check
    assert not any("KeyError" in w for w in s["warnings"]), s["warnings"]


def test_a_task_file_the_run_did_not_write_is_not_probed(repo: Path, tmp_path: Path) -> None:
    # The task names calc.py, which re-exports add from helpers.py; the green changes helpers.py alone. Probing
    # calc.py as the program (empty: the run never wrote it) made every call a KeyError, a crash to "fix".
    (repo / "calc.py").write_text("from helpers import add\n")
    (repo / "helpers.py").write_text("def add(a, b):\n    return a - b\n")
    _project_test(repo)
    git(repo, "commit", "-qm", "calc")
    fixed = "def add(a, b):\n    return a + b\n"
    s = scripted_run(repo, tmp_path, "Fix calc.py: add(1, 2) == 3",
                     [{"step": "generate", "text": f"helpers.py\n```python\n{fixed}```\n"}], ENV)
    assert s["status"] == "success" and requested_steps(s) == ["generate"], s
    assert checks(s) == [] and not any("raises" in w for w in s["warnings"]), s["warnings"]


def test_a_forged_probe_line_number_cannot_crash_the_run(tmp_path: Path) -> None:
    # Red team: the probed program prints its own last report line at exit, with a line number JSON reads as a
    # float infinity (int() of it raised OverflowError on the host and ended the run); and a form feed in its
    # docstring (str.splitlines counts it as a line break, Python's line numbers do not).
    forged = ('import atexit, os\natexit.register(lambda: os.write(1, b\'\\n@@greenloop-probes@@[{"examples": [], '
              '"outputs": ["!IndexError"], "lines": [Infinity]}]\\n\'))\n'
              'def last(s):\n    """A\\x0cB"""\n    return s[5]\n')
    box, _ = choose_sandbox("auto", Limits())
    (row,) = run_probes([forged], "m.py", "m", [], [Call("last", ("'abc'",))], box, Path(sys.executable), tmp_path,
                        30)
    assert row is not None and row.outputs == ("!IndexError",) and row.lines == (0,)
    honest = forged.split("def last", 1)[1]
    (row,) = run_probes(["def last" + honest], "m.py", "m", [], [Call("last", ("'abc'",))], box,
                        Path(sys.executable), tmp_path, 30)
    assert row is not None and row.lines == (3,)
    assert _where(row.lines[0], "def last" + honest) == (
        " on line 3: `return s[5]`")
