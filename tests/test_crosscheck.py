"""A weak green gets a second opinion (crosscheck.py): other implementations run on inputs varied from the task's
examples, and the one most of them agree with is committed, if it passes the whole verdict. Real loop, scripted
model, real sandbox, real pytest, real git."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import events, git, requested_steps, scripted_run

from greenloop.examples import Example
from greenloop.probes import probe_calls, seed_calls

STUB = ('def count_vowels(text):\n    """How many vowels (a, e, i, o, u, in either case) text has.\n\n'
        '    >>> count_vowels("hello")\n    2\n    """\n')
LOWER_ONLY = STUB + '    return sum(c in "aeiou" for c in text)\n'  # meets the example, wrong on "HELLO"
EITHER_CASE = STUB + '    return sum(c in "aeiouAEIOU" for c in text)\n'
EITHER_CASE_TOO = STUB + '    return len([c for c in text.lower() if c in "aeiou"])\n'
WITH_Y = STUB + '    return sum(c in "aeiouy" for c in text)\n'  # lower case only, and counts y
PROJECT_TEST = "from textkit.vowels import count_vowels\n\n\ndef test_hello():\n    assert count_vowels('hello') == 2\n"
TASK = "Implement count_vowels in textkit/vowels.py as its docstring says"
# mutation off: no evidence that the tests are strong, so every green of these runs is a weak one
ENV = {"GREENLOOP_REQUIRE_TESTS": "false", "GREENLOOP_COMMIT_MESSAGE": "template", "GREENLOOP_MUTATION": "off",
       "GREENLOOP_CROSSCHECK": "true"}


@pytest.fixture
def stubbed(repo: Path) -> Path:
    (repo / "textkit" / "vowels.py").write_text(STUB)
    (repo / "tests").mkdir()
    (repo / "tests" / "test_vowels.py").write_text(PROJECT_TEST)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "stub")
    return repo


def block(code: str) -> str:
    return f"textkit/vowels.py\n```python\n{code}```\n"


def run(repo: Path, tmp_path: Path, replies: list[dict], env: dict[str, str] | None = None) -> dict:
    return scripted_run(repo, tmp_path, TASK, replies, {**ENV, **(env or {})})


def crosschecks(s: dict) -> list[dict]:
    return [e for e in events(s["trajectory"]) if e["kind"] == "crosscheck"]


def test_probe_inputs_vary_each_argument_of_the_examples() -> None:
    calls = [c.show() for c in probe_calls([Example('count_vowels("hello")', "2"), Example("f(3, [1, 2])", "4")])]
    assert calls[:2] == ["count_vowels('hello')", "f(3, [1, 2])"]  # the examples' own calls first
    assert {"count_vowels('HELLO')", "count_vowels('')", "count_vowels('olleh')"} <= set(calls)
    assert {"f(4, [1, 2])", "f(2, [1, 2])", "f(3, [])", "f(3, [2, 1])"} <= set(calls)


def test_the_calls_the_task_file_writes_out_are_seeds_too() -> None:
    source = ('def maximum(arr, k):\n    """The k largest.\n\n    Input: arr = [-3, -4, 5], k = 3\n'
              '    Output: [-4, -3, 5]\n    maximum([1], 1) ➞ [1]\n    """\n\n\n'
              'def solve(N):\n    """For N = 150, the sum of digits will be 6 the output should be "110"."""\n')
    assert seed_calls(source) == [("maximum", [[1], 1]), ("maximum", [[-3, -4, 5], 3]), ("solve", [150])]


def test_a_green_that_two_other_implementations_contradict_is_replaced(stubbed: Path, tmp_path: Path) -> None:
    s = run(stubbed, tmp_path, [{"step": "generate", "text": block(LOWER_ONLY)},
                                {"step": "crosscheck", "text": f"```python\n{EITHER_CASE}```\n"},
                                {"step": "crosscheck", "text": f"```python\n{EITHER_CASE_TOO}```\n"}])
    assert s["status"] == "success", s
    assert requested_steps(s) == ["generate", "crosscheck", "crosscheck"]
    (check,) = crosschecks(s)
    assert check["swapped"] and check["chosen"] == 1 and check["eligible"] == [0, 1, 2]
    i = check["calls"].index("count_vowels('HELLO')")
    assert [check["outputs"][k][i] for k in "012"] == ["0", "2", "2"]
    assert git(stubbed, "show", f"{s['commit']}:textkit/vowels.py") == EITHER_CASE
    assert any("the green implementation was replaced" in w and "count_vowels('HELLO'): 0 vs 2" in w
               for w in s["warnings"]), s["warnings"]


def test_a_green_that_the_second_opinion_agrees_with_stands_after_one_call(stubbed: Path, tmp_path: Path) -> None:
    s = run(stubbed, tmp_path, [{"step": "generate", "text": block(EITHER_CASE)},
                                {"step": "crosscheck", "text": f"```python\n{EITHER_CASE_TOO}```\n"}])
    assert s["status"] == "success" and requested_steps(s) == ["generate", "crosscheck"], s
    (check,) = crosschecks(s)
    assert not check["swapped"] and check["eligible"] == [0, 1]
    assert git(stubbed, "show", f"{s['commit']}:textkit/vowels.py") == EITHER_CASE
    assert not any("implementations" in w for w in s["warnings"]), s["warnings"]


def test_a_majority_that_fails_the_projects_tests_does_not_replace_the_green(stubbed: Path, tmp_path: Path) -> None:
    (stubbed / "tests" / "test_vowels.py").write_text(PROJECT_TEST + "\n\ndef test_sky():\n"
                                                       "    assert count_vowels('sky') == 0\n")
    git(stubbed, "commit", "-qam", "sky")
    s = run(stubbed, tmp_path, [{"step": "generate", "text": block(EITHER_CASE)},
                                {"step": "crosscheck", "text": f"```python\n{WITH_Y}```\n"},
                                {"step": "crosscheck", "text": f"```python\n{WITH_Y}\n# the same again\n```\n"}])
    assert s["status"] == "success", s
    (check,) = crosschecks(s)
    assert check["chosen"] == 0 and not check["swapped"]
    assert git(stubbed, "show", f"{s['commit']}:textkit/vowels.py") == EITHER_CASE
    assert any("but theirs failed the tests" in w for w in s["warnings"]), s["warnings"]


def test_without_a_majority_the_green_stands_and_the_disagreement_is_named(stubbed: Path, tmp_path: Path) -> None:
    wrong_example = STUB + "    return 0\n"  # fails the task's example: it has no vote
    s = run(stubbed, tmp_path, [{"step": "generate", "text": block(LOWER_ONLY)},
                                {"step": "crosscheck", "text": f"```python\n{EITHER_CASE}```\n"},
                                {"step": "crosscheck", "text": f"```python\n{wrong_example}```\n"},
                                {"step": "crosscheck", "text": f"```python\n{wrong_example}\n# again\n```\n"}])
    assert s["status"] == "success" and requested_steps(s) == ["generate"] + ["crosscheck"] * 3, s
    (check,) = crosschecks(s)
    assert check["eligible"] == [0, 1] and not check["swapped"]
    assert git(stubbed, "show", f"{s['commit']}:textkit/vowels.py") == LOWER_ONLY
    assert any("disagree on" in w and "count_vowels('HELLO')" in w and "check that case" in w
               for w in s["warnings"]), s["warnings"]


def test_a_green_whose_tests_kill_mutants_is_not_crosschecked(stubbed: Path, tmp_path: Path) -> None:
    s = run(stubbed, tmp_path, [{"step": "generate", "text": block(EITHER_CASE)}],
            env={"GREENLOOP_MUTATION": "score", "GREENLOOP_MUTATION_BUDGET_S": "60"})
    assert s["status"] == "success" and requested_steps(s) == ["generate"], s
    assert s["quality"]["mutation"]["score"] > 0 and not crosschecks(s)


def test_a_green_whose_evidence_is_weak_though_some_mutants_die_is_crosschecked(stubbed: Path, tmp_path: Path) -> None:
    """Evidence, not a zero score, decides: here the example and the project's test kill some mutants (a score
    above 0) but not the upper-case branch's, so the green is weak, and two others outvote it."""
    weak = STUB + ('    count = 0\n    for c in text:\n        if c in "aeiou":\n            count += 1\n'
                   '        elif c in "AEIOU" and len(text) > 100:\n            count += 1\n    return count\n')
    s = run(stubbed, tmp_path, [{"step": "generate", "text": block(weak)},
                                {"step": "crosscheck", "text": f"```python\n{EITHER_CASE}```\n"},
                                {"step": "crosscheck", "text": f"```python\n{EITHER_CASE_TOO}```\n"}],
            env={"GREENLOOP_MUTATION": "score", "GREENLOOP_MUTATION_BUDGET_S": "120"})
    assert s["status"] == "success" and "crosscheck" in requested_steps(s), s
    (check,) = crosschecks(s)
    assert check["swapped"] and git(stubbed, "show", f"{s['commit']}:textkit/vowels.py") != weak
    first, last = [e["quality"]["mutation"] for e in events(s["trajectory"]) if e["kind"] == "grade"]
    assert 0 < first["score"] < 0.8 and last["score"] == 1.0 and s["evidence"] == "strong", (first, last)


def test_crosscheck_is_off_by_default_and_sends_no_second_request(stubbed: Path, tmp_path: Path) -> None:
    s = scripted_run(stubbed, tmp_path, TASK, [{"step": "generate", "text": block(LOWER_ONLY)}],
                     {k: v for k, v in ENV.items() if k != "GREENLOOP_CROSSCHECK"})
    assert s["status"] == "success" and requested_steps(s) == ["generate"] and not crosschecks(s), s


def test_a_hostile_second_opinion_runs_in_the_jail_and_leaves_nothing(stubbed: Path, tmp_path: Path) -> None:
    """The crosscheck runs model code that no test run has seen: it is jailed like every test run, and what it
    writes reaches neither the host nor the commit."""
    outside = tmp_path / "pwned-by-crosscheck"
    hostile = (STUB.replace('def count_vowels', 'import pathlib\n\nfor target in (' + repr(str(outside)) + ', '
                            + repr(str(stubbed / "PWNED")) + ', "textkit/planted.py"):\n    try:\n'
                            '        pathlib.Path(target).write_text("x")\n    except OSError:\n        pass\n\n\n'
                            'def count_vowels') + '    return sum(c in "aeiouAEIOU" for c in text)\n')
    s = run(stubbed, tmp_path, [{"step": "generate", "text": block(LOWER_ONLY)},
                                {"step": "crosscheck", "text": f"```python\n{hostile}```\n"},
                                {"step": "crosscheck", "text": f"```python\n{EITHER_CASE}```\n"}])
    assert s["status"] == "success", s
    assert not outside.exists() and not (stubbed / "PWNED").exists()
    committed = git(stubbed, "show", "--name-only", "--format=", s["commit"]).split()
    assert committed == ["textkit/vowels.py"]


def test_a_forged_probe_report_cannot_crash_the_run_or_swap_the_program(stubbed: Path, tmp_path: Path) -> None:
    """The probed programs share the probe process: one that prints a forged report line after the real one
    (from a finalizer at interpreter exit) leaves the green program standing, and the run ends normally."""
    forger = ('import os\n\n\nclass _Late:\n    def __del__(self):\n'
              '        os.write(1, b\'@@greenloop-probes@@[{"x": 1}]\\n\')\n\n\n_late = _Late()\n\n\n' + EITHER_CASE)
    s = run(stubbed, tmp_path, [{"step": "generate", "text": block(LOWER_ONLY)},
                                {"step": "crosscheck", "text": f"```python\n{forger}```\n"},
                                {"step": "crosscheck", "text": f"```python\n{forger}\n# again\n```\n"},
                                {"step": "crosscheck", "text": f"```python\n{forger}\n# and again\n```\n"}])
    assert s["status"] == "success", s
    assert git(stubbed, "show", f"{s['commit']}:textkit/vowels.py") == LOWER_ONLY
    assert all(not c["swapped"] for c in crosschecks(s))
