"""Red team: a repository's files are read on the host before any model call (the task's examples, the probes'
seed calls, the round trips' names). A file the task names must not be able to make that reading take hours."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from conftest import GOOD_IMPL, GOOD_TEST, TASK, cli, git, summary, whole, write_script

from greenloop.examples import extract
from greenloop.probes import seed_calls

# Each took hours or longer on the host before: `\s*\n(?:\s*\n)*` backtracked exponentially over the blank lines
# (time doubled with each one; 22 took 0.8 s), `f(1)=` repeated was ~170 s per 200 KB, so 500 KB here well over the 240 s allowed, and inspect.cleandoc is
# quadratic in a docstring's leading blank lines.
EXPONENTIAL = 'def helper(x):\n    """Input: x = 1\n' + "\n" * 60 + '    Z\n    """\n    return x\n'
ARROWS = "# " + "f(1)=" * 100_000 + "\n"
BLANK_LINES = ('def other(x):\n    """' + "\n" * 300_000 + '    For x = 2 the output should be 3\n    """\n'
               "    return x + 1\n")


@pytest.mark.parametrize("source", [EXPONENTIAL, ARROWS, BLANK_LINES], ids=["exponential", "arrows", "blank-lines"])
def test_a_named_file_cannot_stall_the_reading_of_its_examples(repo: Path, tmp_path: Path, source: str) -> None:
    (repo / "textkit" / "slug.py").write_text(source)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "a hostile file")
    script = write_script(tmp_path / "s.json", [{"text": whole(test=GOOD_TEST, impl=source + "\n\n" + GOOD_IMPL)}])
    try:
        proc = cli("run", TASK, "--repo", str(repo), "--model", f"scripted:{script}", "--json", timeout=240)
    except subprocess.TimeoutExpired:
        pytest.fail("reading the named file's examples stalled the run on the host")
    assert summary(proc)["status"] == "success", proc.stderr


def test_the_patterns_still_read_what_they_did() -> None:
    """The same examples as before the patterns were bounded, indented or not, blank lines between or not."""
    doc = ('def f(a, k):\n    """Example:\n    Input: a = [1, 2], k = 3\n\n    Output: [2]\n'
           '    For a = [1], k = 2, the output should be 5.\n    >>> f([3], 1)\n    [3]\n    """\n')
    assert [e.assertion for e in extract(doc, "m.py")] == [
        "assert f(a = [1, 2], k = 3) == [2]", "assert f(a = [1], k = 2) == 5", "assert f([3], 1) == [3]"]
    assert seed_calls(doc) == [("f", [[3], 1]), ("f", [[1, 2], 3])]
    assert extract("a(b) == 1 and a(2) == 3, g(x)(1) == 2", "") == [
        *extract("a(2) == 3", "")]  # a call of a variable is no example; the one after it still is
