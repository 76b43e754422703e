"""The loop's judgment of an attempt, with the scripted model and the real sandbox: the best program so far
is kept, the run stops early when rounds stop helping, a task's example beats a model test that contradicts
it, and a test broken in its own code is named as such."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import BAD_IMPL, GOOD_IMPL, GOOD_TEST, TASK, cli, events, git, summary, whole, write_script

from greenloop.frozen import changed_tests

WORSE_IMPL = 'def slugify(text):\n    return text.strip()\n'  # fails both tests; BAD_IMPL passes test_basic
# tests and code from one generate call (test_design = false): the reply's wrong code comes with its tests, and a
# fix follows; with the default test design a lean first draft that misses the task's example is redrafted
COMBINED = {"GREENLOOP_TEST_DESIGN": "false"}


def _requests(s: dict) -> list[dict]:
    return [e for e in events(s["trajectory"]) if e["kind"] == "model_request"]


def test_a_worse_attempt_is_undone_and_the_next_fix_starts_from_the_best(repo: Path, tmp_path: Path) -> None:
    script = write_script(tmp_path / "s.json", [
        {"step": "generate", "text": whole(impl=BAD_IMPL)},  # 1 of 2 tests pass
        {"step": "fix", "text": whole(test=None, impl=WORSE_IMPL)},  # 0 of 2: undone
        {"step": "fix", "text": whole(test=None)},
        {"step": "commit_message", "text": "feat: add slugify"},
    ])
    s = summary(cli("run", TASK, "--repo", str(repo), "--model", f"scripted:{script}", "--json"))
    assert s["status"] == "success", s
    undone = [e for e in events(s["trajectory"]) if e["kind"] == "undone"]
    assert [(e["attempt"], e["best_attempt"], e["paths"]) for e in undone] == [(2, 1, ["textkit/slug.py"])]
    third = [r for r in _requests(s) if r["step"] == "fix"][1]["messages"][-1]["content"]
    assert "Attempt 2 made things worse" in third and "attempt 1's version again" in third
    assert "text.lower().replace" in third and "text.strip()\n" not in third  # the file shown is attempt 1's
    assert git(repo, "show", f"{s['commit']}:textkit/slug.py") == GOOD_IMPL


def test_a_run_that_ends_worse_delivers_the_best_program(repo: Path, tmp_path: Path) -> None:
    script = write_script(tmp_path / "s.json", [
        {"step": "generate", "text": whole(impl=BAD_IMPL)},
        {"step": "fix", "text": whole(test=None, impl=WORSE_IMPL)},
    ])
    s = summary(cli("run", TASK, "--repo", str(repo), "--model", f"scripted:{script}", "--json",
                    "--max-iterations", "2"))
    assert s["status"] == "failed", s
    tests = [e for e in events(s["trajectory"]) if e["kind"] == "undone"]
    assert tests and tests[-1]["best_attempt"] == 1
    assert s["tests"]["passed"] == 1  # the summary reports attempt 1's program, which stands


def test_early_stop_when_rounds_stop_improving(repo: Path, tmp_path: Path) -> None:
    same = [BAD_IMPL.replace("return", f"# try {i}\n    return") for i in range(4)]
    script = write_script(tmp_path / "s.json", [
        {"step": "generate", "text": whole(impl=BAD_IMPL)},
        {"step": "fix", "text": whole(test=None, impl=same[0])},  # the same failure again: the model disputes
        {"step": "generate", "text": whole(test=None, impl=same[1])},  # agreement's sample: the same program
        *({"step": "fix", "text": whole(test=None, impl=impl)} for impl in same[2:]),
    ])
    s = summary(cli("run", TASK, "--repo", str(repo), "--model", f"scripted:{script}", "--json",
                    "--max-iterations", "6"))  # default patience: 2
    assert s["status"] == "failed"
    assert [r["step"] for r in _requests(s)] == ["test_design", "generate", "fix", "generate", "fix"]  # not six
    assert "stopped early: 2 attempt(s) in a row did not improve on attempt" in s["error"]
    assert [e["attempt"] for e in events(s["trajectory"]) if e["kind"] == "early_stop"] == [4]


EXAMPLE_TASK = "Add a slugify(text) helper in textkit/slug.py. Example: slugify('Hello World') == 'hello-world'"
WRONG_TEST = GOOD_TEST + '\n\ndef test_unicode():\n    assert slugify("Ünïcode") == "unicode"\n'
SECOND_IMPL = ('import re\n\n\ndef slugify(text):\n    words = re.findall(r"[a-z0-9]+", text.lower())\n'
               '    return "-".join(words)\n')


@pytest.mark.parametrize("second", [SECOND_IMPL, GOOD_IMPL])  # GOOD_IMPL: the same program sampled again (the
# 1.5B model on HumanEval/48) is a second vote for it, not an invalid reply
def test_an_anchor_and_two_agreeing_implementations_beat_a_contradicting_model_test(repo: Path, tmp_path: Path,
                                                                                    second: str) -> None:
    script = write_script(tmp_path / "s.json", [
        {"step": "generate", "text": whole(test=WRONG_TEST)},  # right code, one wrong expectation
        {"step": "generate", "text": f"textkit/slug.py\n```python\n{second}```"},  # the second sample
        {"step": "commit_message", "text": "feat: add slugify"},
    ])
    s = summary(cli("run", EXAMPLE_TASK, "--repo", str(repo), "--model", f"scripted:{script}", "--json"))
    assert s["status"] == "success", s
    agreement = [e for e in events(s["trajectory"]) if e["kind"] == "agreement"]
    assert agreement and agreement[0]["dropped"] == ['tests/test_slug.py: `assert slugify(\'Ünïcode\') == \'unicode\'`']
    assert git(repo, "show", f"{s['commit']}:textkit/slug.py") == GOOD_IMPL  # the first one stood: a tie
    committed = git(repo, "show", f"{s['commit']}:tests/test_slug.py")
    assert "Ünïcode" not in committed and 'slugify("Hello World") == "hello-world"' in committed
    assert [r["step"] for r in _requests(s)] == ["test_design", "generate", "generate", "commit_message"]  # no fix


def test_a_second_implementation_that_is_no_program_is_asked_for_once_more(repo: Path, tmp_path: Path) -> None:
    """The 1.5B model's agreement sample on HumanEval/24 was a fence around the file's name: no evidence, and the
    wrong test then stood against right code until the budget ran out. One more sample settles it."""
    script = write_script(tmp_path / "s.json", [
        {"step": "generate", "text": whole(test=WRONG_TEST)},  # right code, one wrong expectation
        {"step": "generate", "text": "```\ntextkit/slug.py\n```"},  # not a program
        {"step": "generate", "text": f"textkit/slug.py\n```python\n{SECOND_IMPL}```"},
        {"step": "commit_message", "text": "feat: add slugify"},
    ])
    s = summary(cli("run", EXAMPLE_TASK, "--repo", str(repo), "--model", f"scripted:{script}", "--json"))
    assert s["status"] == "success", s
    agreement = [e for e in events(s["trajectory"]) if e["kind"] == "agreement"]
    assert [e["decided"] for e in agreement] == [False, True]
    assert agreement[1]["dropped"] == ['tests/test_slug.py: `assert slugify(\'Ünïcode\') == \'unicode\'`']
    assert "Ünïcode" not in git(repo, "show", f"{s['commit']}:tests/test_slug.py")
    assert [r["step"] for r in _requests(s)] == ["test_design", "generate", "generate", "generate", "commit_message"]


def test_a_second_implementation_that_misses_a_task_example_is_no_witness_and_one_more_is_asked_for(
        repo: Path, tmp_path: Path) -> None:
    """HumanEval/110: right code, a wrong model test, and the one agreement sample missed the task's example, so
    nothing was decided and the wrong test stood until the budget ran out."""
    script = write_script(tmp_path / "s.json", [
        {"step": "generate", "text": whole(test=WRONG_TEST)},  # right code, one wrong expectation
        {"step": "generate", "text": "textkit/slug.py\n```python\ndef slugify(text):\n    return text.lower()\n```"},
        {"step": "generate", "text": f"textkit/slug.py\n```python\n{SECOND_IMPL}```"},
        {"step": "commit_message", "text": "feat: add slugify"},
    ])
    s = summary(cli("run", EXAMPLE_TASK, "--repo", str(repo), "--model", f"scripted:{script}", "--json"))
    assert s["status"] == "success", s
    agreement = [e for e in events(s["trajectory"]) if e["kind"] == "agreement"]
    assert [(e["decided"], e.get("why", "")) for e in agreement] == [
        (False, "the second implementation misses a task example"), (True, "")]
    assert "Ünïcode" not in git(repo, "show", f"{s['commit']}:tests/test_slug.py")
    assert git(repo, "show", f"{s['commit']}:textkit/slug.py") == GOOD_IMPL
    assert [r["step"] for r in _requests(s)] == ["test_design", "generate", "generate", "generate", "commit_message"]


CRASHES_ON_EMPTY = ('import re\n\n\ndef slugify(text):\n    words = re.findall(r"[a-z0-9]+", text.lower())\n'
                    '    return words[0] + "".join("-" + w for w in words[1:])\n')
CRASHES_TOO = ('import re\n\n\ndef slugify(text):\n    first, *rest = re.findall(r"[a-z0-9]+", text.lower())\n'
               '    return "-".join([first, *rest])\n')


@pytest.mark.parametrize("empty_test", [
    'def test_empty():\n    assert slugify("") == ""\n',
    'def test_empty():\n    out = slugify("")\n    assert out == ""\n',  # raises before the assert: it never runs
])
def test_two_implementations_that_raise_on_a_model_assert_are_no_witness_against_it(repo: Path, tmp_path: Path,
                                                                                      empty_test: str) -> None:
    """HumanEval/70 with the 1.5B: both samples raised on an odd-length list and agreement dropped the right
    assert that showed it, a false green. A crash is no witness: the assert stays and the code is fixed."""
    empty = GOOD_TEST + '\n\n' + empty_test
    script = write_script(tmp_path / "s.json", [
        {"step": "generate", "text": whole(test=empty, impl=CRASHES_ON_EMPTY)},
        {"step": "generate", "text": f"textkit/slug.py\n```python\n{CRASHES_TOO}```"},
        {"step": "fix", "text": f"textkit/slug.py\n```python\n{GOOD_IMPL}```"},
        {"step": "commit_message", "text": "feat: add slugify"},
    ])
    s = summary(cli("run", EXAMPLE_TASK, "--repo", str(repo), "--model", f"scripted:{script}", "--json"))
    assert s["status"] == "success", s
    agreement = [e for e in events(s["trajectory"]) if e["kind"] == "agreement"]
    assert agreement and agreement[0]["dropped"] == [] and not agreement[0]["decided"]
    assert "a crash is no witness" in agreement[0]["refused"][0]
    assert empty_test in git(repo, "show", f"{s['commit']}:tests/test_slug.py")
    assert git(repo, "show", f"{s['commit']}:textkit/slug.py") == GOOD_IMPL


WORD_CHARS_IMPL = 'import re\n\n\ndef slugify(text):\n    return re.sub(r"[^\\w]+", "-", text.lower()).strip("-")\n'
ASCII_IMPL = ('import re\nimport unicodedata\n\n\ndef slugify(text):\n'
              '    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()\n'
              '    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")\n')
ONLY_UNICODE = 'from textkit.slug import slugify\n\n\ndef test_unicode():\n    assert slugify("Ünïcode") == "unicode"\n'


def _no_example_run(repo: Path, tmp_path: Path, test: str, second: str, fix: bool = True) -> tuple[dict, list[dict]]:
    """A task with no example: GOOD_IMPL, sent again with a comment (the same failure: the model disputes the
    test), then the agreement sample `second`, then ASCII_IMPL (it meets every test) if a fix is asked."""
    script = write_script(tmp_path / "s.json", [
        {"step": "generate", "text": whole(test=test)},  # GOOD_IMPL: slugify("Ünïcode") == "n-code"
        {"text": f"textkit/slug.py\n```python\n{GOOD_IMPL}# the test is wrong\n```"},
        {"step": "generate", "text": f"textkit/slug.py\n```python\n{second}```"},
        *([{"step": "fix", "text": f"textkit/slug.py\n```python\n{ASCII_IMPL}```"}] if fix else []),
        {"step": "commit_message", "text": "feat: add slugify"},
    ])
    s = summary(cli("run", TASK, "--repo", str(repo), "--model", f"scripted:{script}", "--json"))
    return s, [e for e in events(s["trajectory"]) if e["kind"] == "agreement"]


def test_without_a_task_example_two_implementations_anchored_by_the_tests_outvote_a_model_assert(
        repo: Path, tmp_path: Path) -> None:
    """HumanEval/50 (no example in the task): right code, and two of the model's three hand-computed expectations
    were wrong; with no example nothing weighed them. Two implementations that return one and the same other
    value on the assert, and meet another assert of the tests together, do."""
    s, agreement = _no_example_run(repo, tmp_path, WRONG_TEST, SECOND_IMPL, fix=False)  # both "n-code", test_basic
    assert s["status"] == "success", s
    assert agreement and agreement[0]["dropped"] == ['tests/test_slug.py: `assert slugify(\'Ünïcode\') == \'unicode\'`']
    committed = git(repo, "show", f"{s['commit']}:tests/test_slug.py")
    assert "Ünïcode" not in committed and 'slugify("Hello World") == "hello-world"' in committed
    assert git(repo, "show", f"{s['commit']}:textkit/slug.py") == GOOD_IMPL + "# the test is wrong\n"
    steps = [r["step"] for r in _requests(s)]
    assert steps[-2:] == ["generate", "commit_message"] and steps.count("generate") == 2  # one sample, no fix


def test_without_a_task_example_a_fix_that_fails_differently_is_worked_on_without_a_sample(
        repo: Path, tmp_path: Path) -> None:
    """Agreement costs a call; in a task with no example it is spent only once the model has come back to the
    same failure (its dispute of the test), not on a fix that fails in a new way."""
    script = write_script(tmp_path / "s.json", [
        {"step": "generate", "text": whole(test=WRONG_TEST, impl=BAD_IMPL)},  # fails test_punct and test_unicode
        {"text": f"textkit/slug.py\n```python\n{GOOD_IMPL}```"},  # fails test_unicode alone: a new failure
        {"text": f"textkit/slug.py\n```python\n{ASCII_IMPL}```"},
        {"step": "commit_message", "text": "feat: add slugify"},
    ])
    s = summary(cli("run", TASK, "--repo", str(repo), "--model", f"scripted:{script}", "--json"))
    assert s["status"] == "success", s
    assert not [e for e in events(s["trajectory"]) if e["kind"] == "agreement"]
    assert git(repo, "show", f"{s['commit']}:textkit/slug.py") == ASCII_IMPL


def test_without_a_task_example_the_same_program_sampled_again_is_no_second_witness(
        repo: Path, tmp_path: Path) -> None:
    """py_repo_tasks slug with the 1.5B: its resamples were its own wrong code again. With an example the same
    program is a second vote (the example anchors it); with none, it is the one witness twice."""
    renamed = GOOD_IMPL.replace("text", "s").replace("-> str:", '-> str:\n    """A slug."""  # sampled again')
    assert renamed != GOOD_IMPL  # the same program: another parameter name, a docstring, a comment
    again = f"textkit/slug.py\n```python\n{renamed}```"
    script = write_script(tmp_path / "s.json", [
        {"step": "generate", "text": whole(test=WRONG_TEST)},
        {"text": f"textkit/slug.py\n```python\n{GOOD_IMPL}# the test is wrong\n```"},  # the same failure
        {"step": "generate", "text": again},  # the agreement sample: not asked again
        {"text": f"textkit/slug.py\n```python\n{ASCII_IMPL}```"},
        {"step": "commit_message", "text": "feat: add slugify"},
    ])
    s = summary(cli("run", TASK, "--repo", str(repo), "--model", f"scripted:{script}", "--json"))
    assert s["status"] == "success", s
    agreement = [e for e in events(s["trajectory"]) if e["kind"] == "agreement"]
    assert [e["why"] for e in agreement] == [
        "the task has no example, and the second implementation is the same program: no second witness"]
    assert 'slugify("Ünïcode") == "unicode"' in git(repo, "show", f"{s['commit']}:tests/test_slug.py")
    assert git(repo, "show", f"{s['commit']}:textkit/slug.py") == ASCII_IMPL


@pytest.mark.parametrize(("test", "second", "why"), [
    (WRONG_TEST, WORD_CHARS_IMPL, "do not return one and the same other value"),  # "n-code" against "ünïcode"
    (ONLY_UNICODE, SECOND_IMPL, "nothing anchors them"),  # py_repo_tasks words: the one assert was right
    # an assert that holds whatever slugify returns is no anchor: only another `slugify(literal) == literal` is
    (ONLY_UNICODE + '\n\ndef test_type():\n    assert isinstance(slugify("a b"), str)\n', SECOND_IMPL,
     "nothing anchors them"),
    # the probe records the left side's value: with the literal there both "return" 'unicode' (a review's find)
    (GOOD_TEST + '\n\ndef test_unicode():\n    assert "unicode" == slugify("Ünïcode")\n', SECOND_IMPL,
     "is no `assert call(...) == literal`"),
])
def test_without_a_task_example_unanchored_or_differing_implementations_are_no_witness(
        repo: Path, tmp_path: Path, test: str, second: str, why: str) -> None:
    """With no example, two implementations that fail a model assert with different values, or that meet no
    other assert of the tests together, prove nothing about it (py_repo_tasks `words`: both samples returned
    {'hello': 2} against the test's one, right, assert): the assert stays and the code is fixed."""
    s, agreement = _no_example_run(repo, tmp_path, test, second)
    assert s["status"] == "success", s
    assert agreement and agreement[0]["dropped"] == [] and why in agreement[0]["refused"][0]
    assert 'slugify("Ünïcode")' in git(repo, "show", f"{s['commit']}:tests/test_slug.py")
    assert git(repo, "show", f"{s['commit']}:textkit/slug.py") == ASCII_IMPL


def test_without_a_task_example_a_reply_that_edits_the_failing_frozen_test_disputes_it(
        repo: Path, tmp_path: Path) -> None:
    """py_repo_tasks chunk with the 1.5B: right code, one wrong hand-computed expectation among 28 asserts; the
    model answered three fix requests with the test file, that assert rewritten (refused: the tests are frozen),
    and never came back to the same failure before the budget ran out. A reply that changes nothing but the
    failing frozen test disputes it as plainly as the code sent again: the agreement sample follows it."""
    disputed = WRONG_TEST.replace('== "unicode"', '== "n-code"')
    script = write_script(tmp_path / "s.json", [
        {"step": "generate", "text": whole(test=WRONG_TEST)},  # GOOD_IMPL: slugify("Ünïcode") == "n-code"
        {"step": "fix", "text": f"tests/test_slug.py\n```python\n{disputed}```"},  # refused: frozen
        {"step": "generate", "text": f"textkit/slug.py\n```python\n{SECOND_IMPL}```"},  # the agreement sample
        {"step": "commit_message", "text": "feat: add slugify"},
    ])
    s = summary(cli("run", TASK, "--repo", str(repo), "--model", f"scripted:{script}", "--json"))
    assert s["status"] == "success", s
    attempts = [(e["number"], e["outcome"]) for e in events(s["trajectory"]) if e["kind"] == "attempt"]
    assert attempts[:2] == [(1, "tests_failed"), (2, "refused")], attempts
    agreement = [e for e in events(s["trajectory"]) if e["kind"] == "agreement"]
    assert agreement and agreement[0]["dropped"] == ['tests/test_slug.py: `assert slugify(\'Ünïcode\') == \'unicode\'`']
    assert "Ünïcode" not in git(repo, "show", f"{s['commit']}:tests/test_slug.py")
    assert git(repo, "show", f"{s['commit']}:textkit/slug.py") == GOOD_IMPL


def test_without_a_task_example_a_refused_edit_of_another_test_is_no_dispute(repo: Path, tmp_path: Path) -> None:
    """Only the test that fails is disputed by a reply that rewrites it; a reply that rewrites a passing test (or
    a test of the project) says nothing about the failing one, and the next request is a fix as before."""
    other = WRONG_TEST.replace('"hello-world"', '"hello_world"')  # test_basic, which passes
    script = write_script(tmp_path / "s.json", [
        {"step": "generate", "text": whole(test=WRONG_TEST)},
        {"step": "fix", "text": f"tests/test_slug.py\n```python\n{other}```"},  # refused: frozen
        {"step": "fix", "text": f"textkit/slug.py\n```python\n{ASCII_IMPL}```"},
        {"step": "commit_message", "text": "feat: add slugify"},
    ])
    s = summary(cli("run", TASK, "--repo", str(repo), "--model", f"scripted:{script}", "--json"))
    assert s["status"] == "success", s
    assert not [e for e in events(s["trajectory"]) if e["kind"] == "agreement"]
    assert git(repo, "show", f"{s['commit']}:textkit/slug.py") == ASCII_IMPL


def test_a_rewrite_after_a_run_that_tampered_is_no_dispute(repo: Path, tmp_path: Path) -> None:
    """Red team: a test run that rewrote a checked file does not count, and its verdict is not that of the code
    the run keeps; a refused rewrite of the test that failed in it must not start agreement on that verdict."""
    tamper = ("import pathlib\n\npathlib.Path('textkit/slug.py').write_text("
              "pathlib.Path('textkit/slug.py').read_text() + '# tampered\\n')\n")
    hostile = tamper + WRONG_TEST
    disputed = hostile.replace('== "unicode"', '== "n-code"')
    script = write_script(tmp_path / "s.json", [
        {"step": "generate", "text": whole(test=hostile)},  # test_unicode fails, and the run tampers
        {"step": "fix", "text": f"tests/test_slug.py\n```python\n{disputed}```"},  # refused: frozen
        *({"text": f"textkit/slug.py\n```python\n{GOOD_IMPL}# {i}\n```"} for i in range(4)),
    ])
    s = summary(cli("run", TASK, "--repo", str(repo), "--model", f"scripted:{script}", "--json",
                    "--max-iterations", "3"))
    attempts = [(e["number"], e["outcome"]) for e in events(s["trajectory"]) if e["kind"] == "attempt"]
    assert attempts[:2] == [(1, "tampered"), (2, "refused")], attempts
    assert not [e for e in events(s["trajectory"]) if e["kind"] == "agreement"]
    assert [r["step"] for r in _requests(s)][3] == "fix"  # after test_design, generate and the refused fix


def test_the_frozen_tests_a_reply_rewrites_are_named_by_function_and_method() -> None:
    frozen = ("import pytest\n\n\ndef test_a():\n    assert f(1) == 2\n\n\nclass TestB:\n"
              "    def test_c(self):\n        assert f(2) == 3\n\n\ndef test_d():\n    assert f(3) == 4\n")
    rewritten = frozen.replace("f(1) == 2", "f(1) == 5").replace("f(2) == 3", "f(2) == 6")
    assert changed_tests(frozen, rewritten) == ["test_a", "TestB::test_c"]
    assert changed_tests(frozen, frozen.replace("class TestB:", "class TestC:")) == ["TestB"]  # gone
    assert changed_tests(frozen, frozen + "\n\ndef test_e():\n    assert f(4) == 5\n") == []  # a test added
    assert changed_tests(frozen, frozen.replace("def test_d", "def test_x")) == ["test_d"]  # removed
    assert changed_tests(frozen, "def (") == []  # no Python: refused by validation, no test named


LOWER_ONLY = 'def slugify(text):\n    return text.lower()\n'  # misses the task's example


def test_a_second_sample_is_compared_with_the_recorded_program_not_with_the_sample_before_it(repo: Path,
                                                                                             tmp_path: Path) -> None:
    """The first sample, installed to be checked, stayed on disk: a second sample identical to it read as "the
    recorded program again", a second vote for the right code from a program that misses the task's example."""
    script = write_script(tmp_path / "s.json", [
        {"step": "generate", "text": whole(test=WRONG_TEST)},  # right code, one wrong expectation
        *({"step": "generate", "text": f"textkit/slug.py\n```python\n{LOWER_ONLY}```"} for _ in range(3)),
        {"step": "fix", "text": f"textkit/slug.py\n```python\n{GOOD_IMPL}```"},  # undecided: a fix is asked
    ])
    s = summary(cli("run", EXAMPLE_TASK, "--repo", str(repo), "--model", f"scripted:{script}", "--json",
                    "--max-iterations", "2"))
    agreement = [e for e in events(s["trajectory"]) if e["kind"] == "agreement"]
    assert [e["decided"] for e in agreement] == [False, False, False]
    assert agreement[2]["eligible"] == [0] and agreement[2]["dropped"] == []
    assert s["status"] == "failed"  # the wrong test stands: nothing outvoted it


def test_a_repository_inside_another_projects_checkout_keeps_its_test_ids(repo: Path, tmp_path: Path) -> None:
    """A pytest configuration above the repository (a demo repository inside a checkout) made pytest's ids
    relative to that directory: the run's tests were never frozen, so agreement could not drop a wrong assert."""
    assert repo.parent == tmp_path
    (tmp_path / "pyproject.toml").write_text('[tool.pytest.ini_options]\naddopts = "-q"\n')
    script = write_script(tmp_path / "s.json", [
        {"step": "generate", "text": whole(test=WRONG_TEST)},
        {"step": "generate", "text": f"textkit/slug.py\n```python\n{SECOND_IMPL}```"},
        {"step": "commit_message", "text": "feat: add slugify"},
    ])
    # the process sandbox shows the directory above the repository to pytest, as a jail that binds it would
    s = summary(cli("run", EXAMPLE_TASK, "--repo", str(repo), "--model", f"scripted:{script}", "--json",
                    "--sandbox", "process"))
    assert s["status"] == "success", s
    runs = [e for e in events(s["trajectory"]) if e["kind"] == "test_run"]
    assert runs and all(test_id.startswith("tests/test_slug.py::") for r in runs for test_id, _ in r["new"])
    assert "Ünïcode" not in git(repo, "show", f"{s['commit']}:tests/test_slug.py")


def test_a_model_assert_that_contradicts_the_tasks_example_on_its_call_is_dropped(repo: Path, tmp_path: Path) -> None:
    """Both implementations meet the task's example and neither meets the model's assert on the example's own
    call with another result: the example overrules it (no program meets both), so agreement drops it. HumanEval/12
    with the 1.5B: `longest(['a', 'b', 'c']) == 'c'` against the task's `== 'a'` was refused, and the fixes that
    followed it broke the code."""
    contradicts = GOOD_TEST + '\n\ndef test_spaces():\n    assert slugify("Hello World") == "hello world"\n'
    script = write_script(tmp_path / "s.json", [
        {"step": "generate", "text": whole(test=contradicts)},
        {"step": "generate", "text": f"textkit/slug.py\n```python\n{SECOND_IMPL}```"},
        {"step": "commit_message", "text": "feat: add slugify"},
    ])
    s = summary(cli("run", EXAMPLE_TASK, "--repo", str(repo), "--model", f"scripted:{script}", "--json",
                    "--max-iterations", "2"))
    assert s["status"] == "success", s
    agreement = [e for e in events(s["trajectory"]) if e["kind"] == "agreement"]
    assert agreement and agreement[0]["refused"] == []
    assert agreement[0]["dropped"] == ["tests/test_slug.py: `assert slugify('Hello World') == 'hello world'`"]
    assert "hello world" not in git(repo, "show", f"{s['commit']}:tests/test_slug.py")


def test_a_dispute_of_the_tasks_own_example_is_refused(repo: Path, tmp_path: Path) -> None:
    anchored = 'from textkit.slug import slugify\n\n\ndef test_example():\n    assert slugify("Hello World") == "hello-world"\n'
    script = write_script(tmp_path / "s.json", [
        {"step": "generate", "text": whole(test=anchored, impl=WORSE_IMPL)},
        {"step": "fix", "text": "DISPUTE: assert slugify('Hello World') == 'hello-world'\n" + whole(test=None)},
        {"step": "commit_message", "text": "feat: add slugify"},
    ])
    s = summary(cli("run", EXAMPLE_TASK, "--repo", str(repo), "--model", f"scripted:{script}", "--json", env=COMBINED))
    assert s["status"] == "success", s
    notes = [n for e in events(s["trajectory"]) if e["kind"] == "disputes" for n in e["notes"]]
    assert notes == ["dispute refused: `assert slugify('Hello World') == 'hello-world'` checks the task's own "
                     "example; the code must meet it"]
    assert "hello-world" in git(repo, "show", f"{s['commit']}:tests/test_slug.py")


def test_an_anchor_is_never_dropped_by_agreement(repo: Path, tmp_path: Path) -> None:
    anchored = 'from textkit.slug import slugify\n\n\ndef test_example():\n    assert slugify("Hello World") == "Hello-World"\n'
    lower = 'def slugify(text):\n    return text.lower().replace(" ", "-")\n'
    script = write_script(tmp_path / "s.json", [
        {"step": "generate", "text": whole(test=anchored, impl=lower)},
        {"step": "fix", "text": whole(test=None, impl=lower.replace("lower()", "lower().strip()"))},
    ])
    s = summary(cli("run", "Add a slugify(text) helper in textkit/slug.py. Example: slugify('Hello World') == "
                    "'Hello-World'", "--repo", str(repo), "--model", f"scripted:{script}", "--json",
                    "--max-iterations", "2", env=COMBINED))
    assert s["status"] == "failed"  # the code misses the task's own example: no agreement can make that green
    assert not [e for e in events(s["trajectory"]) if e["kind"] == "agreement"]


def test_a_test_that_uses_an_api_the_code_lacks_is_not_called_broken(repo: Path, tmp_path: Path) -> None:
    """`len(stack)` raises TypeError in the test's own frame when the code defined a method `len` instead of
    `__len__`. Called a broken test, it was released and rewritten to `stack.len()`: a false green
    (py_repo_tasks.py `stack` with the 1.5B). The code is asked to change, and the frozen test stands."""
    test = ("from textkit.stack import Stack\n\n\ndef test_len():\n    s = Stack()\n    s.push(1)\n"
            "    assert len(s) == 1\n")
    impl = ("class Stack:\n    def __init__(self):\n        self.items = []\n\n    def push(self, item):\n"
            "        self.items.append(item)\n\n    def len(self):\n        return len(self.items)\n")
    fitted = test.replace("len(s) == 1", "s.len() == 1")
    right = impl.replace("def len(self)", "def __len__(self)")
    files = {"tests/test_stack.py": test, "textkit/stack.py": impl}
    script = write_script(tmp_path / "s.json", [
        {"step": "generate", "text": whole(test=None, impl=None, **files)},
        {"step": "fix", "text": whole(test=None, impl=None, **{"tests/test_stack.py": fitted})},  # refused
        # that refused rewrite disputes the test: an agreement sample (the same code: no witness), then the fix
        {"step": "generate", "text": whole(test=None, impl=None, **{"textkit/stack.py": impl})},
        {"step": "fix", "text": whole(test=None, impl=None, **{"textkit/stack.py": right})},
        {"step": "commit_message", "text": "feat: add Stack"},
    ])
    s = summary(cli("run", "Add a class Stack in textkit/stack.py with push(item) and len(stack)", "--repo",
                    str(repo), "--model", f"scripted:{script}", "--json", "--max-iterations", "3", env=COMBINED))
    fix = next(r for r in _requests(s) if r["step"] == "fix")["messages"][-1]["content"]
    assert "These tests are broken" not in fix and "object of type 'Stack' has no len()" in fix
    assert s["status"] == "success", s
    assert git(repo, "show", f"{s['commit']}:tests/test_stack.py") == test
    assert git(repo, "show", f"{s['commit']}:textkit/stack.py") == right


def test_a_test_broken_in_its_own_code_is_named_and_released(repo: Path, tmp_path: Path) -> None:
    broken = GOOD_TEST + '\n\ndef test_blank():\n    cases = {"": ""}\n    assert slugify(cases[" "]) == ""\n'
    fixed = broken.replace('{"": ""}', '{" ": ""}')
    script = write_script(tmp_path / "s.json", [
        {"step": "generate", "text": whole(test=broken)},
        {"step": "fix", "text": whole(test=fixed)},
        {"step": "commit_message", "text": "feat: add slugify"},
    ])
    s = summary(cli("run", TASK, "--repo", str(repo), "--model", f"scripted:{script}", "--json",
                    env={"GREENLOOP_AGREEMENT": "false"}))
    fix = next(r for r in _requests(s) if r["step"] == "fix")["messages"][-1]["content"]
    assert "These tests are broken" in fix and "tests/test_slug.py::test_blank: KeyError" in fix
    assert s["status"] == "success", s
    assert '{" ": ""}' in git(repo, "show", f"{s['commit']}:tests/test_slug.py")


CONTESTED_TASK = "Add a slugify(text) helper in textkit/slug.py. Example: slugify('Hello World') == 'hello_world'"
PUNCT_TEST = 'from textkit.slug import slugify\n\n\ndef test_punct():\n    assert slugify("  A, b!  ") == "a-b"\n'


RAISING = 'def slugify(text):\n    raise ValueError("not yet")\n'


@pytest.mark.parametrize(("first", "samples", "warned"), [(GOOD_IMPL, GOOD_IMPL, True), (LOWER_ONLY, GOOD_IMPL, False),
                                                           (RAISING, RAISING, False)])
def test_a_failed_run_whose_programs_all_fail_an_example_alike_asks_to_check_the_example(
        repo: Path, tmp_path: Path, first: str, samples: str, warned: bool) -> None:
    """HumanEval/116: the docstring's examples contradict its own rule; every draft followed the rule and failed
    the example the same way, and the fixes after being told so. The run fails (the example is the user's word),
    and says which example to check. Programs that fail it in different ways (`LOWER_ONLY`), or raise there,
    say nothing of it."""
    script = write_script(tmp_path / "s.json", [
        {"step": "generate", "text": whole(test=PUNCT_TEST, impl=first)},
        *({"text": f"textkit/slug.py\n```python\n{samples}# draft {i}\n```"} for i in range(8)),  # the resample
    ])
    s = summary(cli("run", CONTESTED_TASK, "--repo", str(repo), "--model", f"scripted:{script}", "--json",
                    "--max-iterations", "2"))
    assert s["status"] == "failed", s
    contested = [w for w in s["warnings"] if "failed the task's example the same way" in w]
    assert contested == (["all 2 programs judged failed the task's example the same way (assert slugify('Hello "
                          "World') == 'hello_world'; got 'hello-world'): check that example; if it is right, this "
                          "model does not meet it"] if warned else []), s["warnings"]
