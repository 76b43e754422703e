"""Green means the project works: the project's suite guards every run, tests are frozen and must fail
first, and a green run that the tests tampered with does not count. Real loop, scripted model, real
sandbox, real pytest, real git."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import BAD_IMPL, GOOD_IMPL, GOOD_TEST, TASK, cli, events, git, summary, whole, write_script

SHOUT = "def shout(text):\n    return text.upper()\n"
SHOUT_TEST = "from textkit.shout import shout\n\n\ndef test_shout():\n    assert shout('hi') == 'HI'\n"


@pytest.fixture
def project(repo: Path) -> Path:
    """The textkit repository with code of its own and a passing test of its own."""
    (repo / "textkit" / "shout.py").write_text(SHOUT)
    (repo / "tests").mkdir()
    (repo / "tests" / "test_shout.py").write_text(SHOUT_TEST)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "shout")
    return repo


def run(repo: Path, tmp_path: Path, replies: list[dict], *extra: str, task: str = TASK,
        env: dict[str, str] | None = None) -> dict:
    script = write_script(tmp_path / "s.json", replies)
    proc = cli("run", task, "--repo", str(repo), "--model", f"scripted:{script}", "--json", *extra, env=env)
    assert proc.stdout.strip(), proc.stderr
    return summary(proc)


def prompts(s: dict, step: str = "fix") -> list[str]:
    return [e["messages"][-1]["content"] for e in events(s["trajectory"])
            if e["kind"] == "model_request" and e["step"] == step]


def test_breaking_existing_code_is_fed_back_by_test_name_and_fixed(project: Path, tmp_path: Path) -> None:
    s = run(project, tmp_path, [
        {"step": "generate", "text": whole(**{"textkit/shout.py": "def shout(text):\n    return text.lower()\n"})},
        {"step": "fix", "text": whole(test=None, **{"textkit/shout.py": SHOUT + "\n# unchanged behaviour\n"})},
        {"step": "commit_message", "text": "feat: slugify"},
    ])
    assert s["status"] == "success" and s["attempts"] == 2
    assert s["tests"] == {"passed": 3, "failed": 0, "new_passed": 2, "new_failed": 0, "baseline_passed": 1,
                          "regressions": 0}
    assert s["baseline"].startswith("ok")
    fix = prompts(s)[0]
    assert "broke tests of the project that passed before" in fix and "tests/test_shout.py::test_shout" in fix
    assert "tests/test_shout.py is the project's own test: read-only. Do not send it" in fix
    assert "Change your tests (tests/test_slug.py) only if they contradict the task." in fix
    assert git(project, "show", f"{s['commit']}:textkit/shout.py").startswith(SHOUT)


def test_a_regression_never_ends_green(project: Path, tmp_path: Path) -> None:
    broken = {"textkit/shout.py": "def shout(text):\n    return text.lower()\n"}
    s = run(project, tmp_path, [{"text": whole(**broken)}] * 2, "--max-iterations", "2")
    assert s["status"] == "failed" and s["commit"] is None and s["branch"] is None
    assert s["regressed"] == ["tests/test_shout.py::test_shout"] and s["tests"]["regressions"] == 1


@pytest.mark.parametrize("cheat", ["edit_old_test", "conftest_skip", "pytest_ini"])
def test_changing_or_skipping_the_projects_tests_never_ends_green(project: Path, tmp_path: Path, cheat: str) -> None:
    broken = {"textkit/shout.py": "def shout(text):\n    return text.lower()\n"}
    cheats = {
        "edit_old_test": {"tests/test_shout.py": SHOUT_TEST.replace("'HI'", "'hi'")},
        "conftest_skip": {"tests/conftest.py": "import pytest\n\n\ndef pytest_collection_modifyitems(items):\n"
                                               "    for item in items:\n        if 'shout' in item.nodeid:\n"
                                               "            item.add_marker(pytest.mark.skip('old'))\n"},
        "pytest_ini": {"pytest.ini": "[pytest]\naddopts = -k 'not shout'\n"},
    }
    s = run(project, tmp_path, [{"text": whole(**broken, **cheats[cheat])}] * 2, "--max-iterations", "2")
    assert s["status"] == "failed" and s["commit"] is None
    assert s["tests"]["regressions"] == 1
    fix = prompts(s)[0]
    assert "refused" in fix and next(iter(cheats[cheat])) in fix
    # nothing of the cheat reached a branch: the run has none
    assert "greenloop/" not in git(project, "branch", "--list")


def test_tests_sent_for_the_projects_own_test_file_become_the_runs_tests(project: Path, tmp_path: Path) -> None:
    """A small model writes its tests into the project's test file it was shown. That file stays read-only;
    the tests go to the run's own test file while it has none, and are checked as that file."""
    s = run(project, tmp_path, [{"text": whole(test=None, **{"tests/test_shout.py": GOOD_TEST})},
                                {"text": "feat: slugify"}], "--max-iterations", "1")
    assert s["status"] == "success", s
    assert git(project, "show", f"{s['commit']}:tests/test_slug.py") == GOOD_TEST
    assert git(project, "show", f"{s['commit']}:tests/test_shout.py") == SHOUT_TEST
    assert (project / "tests" / "test_shout.py").read_text() == SHOUT_TEST
    redirects = [e for e in events(s["trajectory"]) if e["kind"] == "redirect"]
    assert redirects[0]["step"] == "test_design" and {e["to"] for e in redirects} == {"tests/test_slug.py"}


def test_a_reply_without_tests_is_asked_for_them_by_path(repo: Path, tmp_path: Path) -> None:
    s = run(repo, tmp_path, [{"text": whole(test=None)}, {"text": whole()}, {"text": "feat: slugify"}])
    assert s["status"] == "success" and s["attempts"] == 2
    fix = prompts(s)[0]
    assert "The reply has no test file. Write the tests first, in a new tests/test_slug.py." in fix
    assert "Send your tests in a new tests/test_slug.py, and the implementation." in fix
    assert "Change the implementation." not in fix


def test_a_weakened_project_test_moved_to_the_runs_file_still_leaves_the_project_test_judging(
        project: Path, tmp_path: Path) -> None:
    """Red team: the reply breaks shout() and sends a version of the project's test that passes for it. The
    project's file is not written (the redirect writes only the run's own file), so its test still fails."""
    lowered = SHOUT_TEST.replace("'HI'", "'hi'")
    broken = {"textkit/shout.py": "def shout(text):\n    return text.lower()\n", "tests/test_shout.py": lowered}
    s = run(project, tmp_path, [{"text": whole(test=None, **broken)}] * 2, "--max-iterations", "2")
    assert s["status"] == "failed" and s["commit"] is None and s["tests"]["regressions"] == 1
    assert (project / "tests" / "test_shout.py").read_text() == SHOUT_TEST
    assert "greenloop/" not in git(project, "branch", "--list")


def test_weakening_a_frozen_new_test_never_ends_green(repo: Path, tmp_path: Path) -> None:
    bad = "def slugify(text):\n    return text.lower()\n"
    weak = "from textkit.slug import slugify\n\n\ndef test_basic():\n    assert slugify('Hello World') is not None\n"
    s = run(repo, tmp_path, [
        {"step": "generate", "text": whole(impl=bad)},
        {"step": "fix", "text": whole(test=weak, impl=bad)},  # refused, and a dispute of the failing test:
        {"step": "generate", "text": whole(test=None, impl=bad)},  # the agreement sample, the same program
        {"step": "fix", "text": whole(test=GOOD_TEST.replace("'hello-world'", "slugify('Hello World')"), impl=bad)},
    ], "--max-iterations", "3")
    assert s["status"] == "failed" and s["commit"] is None
    second = prompts(s)[1]
    assert "tests/test_slug.py is frozen" in second and "DISPUTE" in second


def test_a_frozen_test_may_gain_an_import_and_new_tests(repo: Path, tmp_path: Path) -> None:
    bad = "def slugify(text):\n    return text.lower()\n"
    grown = "import string\n" + GOOD_TEST + "\n\ndef test_letters():\n    assert slugify(string.ascii_uppercase) == string.ascii_lowercase\n"
    s = run(repo, tmp_path, [
        {"step": "generate", "text": whole(impl=bad)},
        {"step": "fix", "text": whole(test=grown)},
        {"step": "commit_message", "text": "feat: slugify"},
    ])
    assert s["status"] == "success" and s["attempts"] == 2, s
    assert git(repo, "show", f"{s['commit']}:tests/test_slug.py") == grown


def test_a_test_file_that_fails_to_import_can_still_be_corrected(repo: Path, tmp_path: Path) -> None:
    wrong_import = GOOD_TEST.replace("from textkit.slug import", "from textkit import")
    s = run(repo, tmp_path, [
        {"step": "generate", "text": whole(test=wrong_import)},
        {"step": "fix", "text": whole()},
        {"step": "commit_message", "text": "feat: slugify"},
    ])
    assert s["status"] == "success" and s["attempts"] == 2, s


def test_assertion_free_and_always_passing_tests_are_named_as_vacuous(project: Path, tmp_path: Path) -> None:
    vacuous = ("from textkit.slug import slugify\nfrom textkit.shout import shout\n\n\n"
               "def test_runs():\n    slugify('Hello World')\n\n\ndef test_math():\n    assert 1 + 1 == 2\n\n\n"
               "def test_old_behaviour():\n    assert shout('a') == 'A'\n\n\n"
               "def test_real():\n    assert slugify('Hello World') == 'hello-world'\n")
    s = run(project, tmp_path, [
        {"step": "generate", "text": whole(test=vacuous)},
        {"step": "fix", "text": whole()},
        {"step": "commit_message", "text": "feat: slugify"},
    ])
    assert s["status"] == "success" and s["attempts"] == 2, s
    fix = prompts(s)[0]
    assert "tests/test_slug.py::test_runs asserts nothing" in fix
    assert "tests/test_slug.py::test_math asserts nothing" in fix
    assert "test_real" not in fix.split("Current")[0] and "test_old_behaviour" not in fix.split("Current")[0]
    red = [e for e in events(s["trajectory"]) if e["kind"] == "red_run"]  # test_real fails without the code: the
    assert red and red[0]["tests"] == ["tests/test_slug.py"] and len(red[0]["vacuous"]) == 2  # old one is a guard


def test_an_edge_case_the_stub_already_meets_is_kept_beside_a_test_that_fails_without_the_code(
        repo: Path, tmp_path: Path) -> None:
    """HumanEval/12 with the 1.5B: `longest([]) is None` passed against the docstring-only stub (its implicit
    None), was called vacuous, and the model resent the same right files until the budget ran out."""
    stub = 'def longest(words):\n    """The longest word; None for no words."""\n'
    (repo / "textkit" / "words.py").write_text(stub)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "stub")
    test = ("from textkit.words import longest\n\n\ndef test_empty():\n    assert longest([]) is None\n\n\n"
            "def test_longest():\n    assert longest(['a', 'abc', 'ab']) == 'abc'\n")
    code = stub + "    return max(words, key=len) if words else None\n"
    s = run(repo, tmp_path, [{"text": f"tests/test_words.py\n```python\n{test}```\ntextkit/words.py\n```python\n{code}```\n"},
                             {"text": "feat: longest"}], task="Implement longest in textkit/words.py as its docstring says")
    assert s["status"] == "success" and s["attempts"] == 1, s
    assert git(repo, "show", f"{s['commit']}:tests/test_words.py") == test  # the edge case stays a test
    red = [e for e in events(s["trajectory"]) if e["kind"] == "red_run"]
    assert red and red[0]["vacuous"] == []


def test_a_test_that_passes_without_the_implementation_is_vacuous(project: Path, tmp_path: Path) -> None:
    task = "Make shout in textkit/shout.py add an exclamation mark"
    passes_anyway = SHOUT_TEST.replace("test_shout", "test_still_upper")
    real = "from textkit.shout import shout\n\n\ndef test_bang():\n    assert shout('hi') == 'HI!'\n"
    new_shout = "def shout(text):\n    return text.upper() + '!'\n"
    s = run(project, tmp_path, [
        {"step": "generate", "text": f"tests/test_bang.py\n```python\n{passes_anyway}```\n"
                                     f"textkit/shout.py\n```python\n{new_shout}```\n"},
        {"step": "fix", "text": f"tests/test_bang.py\n```python\n{real}```\n"},
        {"step": "fix", "text": f"tests/test_shout_update.py\n```python\n{real}```\n"},
    ], "--max-iterations", "3", task=task)
    first = prompts(s)[0]
    assert "tests/test_bang.py::test_still_upper passes without the implementation" in first
    # the project's own test_shout now fails (it expected no '!'): a regression, never green
    assert s["status"] == "failed" and s["tests"]["regressions"] == 1


def test_a_red_baseline_guards_only_what_passed(project: Path, tmp_path: Path) -> None:
    (project / "tests" / "test_known_bad.py").write_text("def test_known_bad():\n    assert False\n")
    git(project, "add", "-A")
    git(project, "commit", "-qm", "a failing test")
    s = run(project, tmp_path, [{"text": whole()}, {"text": "feat: slugify"}])
    assert s["status"] == "success"
    assert s["baseline"].startswith("red") and s["tests"]["baseline_passed"] == 1


def test_a_suite_that_cannot_be_collected_makes_no_regression_claim(project: Path, tmp_path: Path) -> None:
    (project / "tests" / "test_shout.py").write_text("def test_broken(:\n")
    git(project, "commit", "-qam", "broken test file")
    s = run(project, tmp_path, [{"text": whole()}, {"text": "feat: slugify"}])
    assert s["status"] == "success" and s["baseline"].startswith("unavailable")
    assert s["tests"]["baseline_passed"] == 0 and s["tests"]["new_passed"] == 2


def test_a_suite_slower_than_the_timeout_is_a_usage_error(project: Path, tmp_path: Path) -> None:
    (project / "tests" / "test_slow.py").write_text("import time\n\n\ndef test_slow():\n    time.sleep(30)\n")
    git(project, "add", "-A")
    git(project, "commit", "-qm", "slow")
    script = write_script(tmp_path / "s.json", [{"text": whole()}])
    proc = cli("run", TASK, "--repo", str(project), "--model", f"scripted:{script}", "--test-timeout", "3")
    assert proc.returncode == 2
    line = proc.stderr.strip().splitlines()[-1]
    assert "test_timeout" in line and "--test-timeout" in line
    assert "greenloop/" not in git(project, "branch", "--list")


def test_a_forced_bwrap_failure_under_auto_is_visible_in_the_summary(repo: Path, tmp_path: Path) -> None:
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "bwrap").write_text("#!/bin/sh\necho 'bwrap: setting up uid map: Permission denied' >&2\nexit 1\n")
    (fake / "bwrap").chmod(0o755)
    import os
    script = write_script(tmp_path / "s.json", [{"text": whole()}, {"text": "feat: slugify"}])
    proc = cli("run", TASK, "--repo", str(repo), "--model", f"scripted:{script}", "--json",
               env={"PATH": f"{fake}:{os.environ['PATH']}"})
    s = summary(proc)
    assert s["sandbox"] == "process"
    assert any("'process' sandbox" in w and "does not isolate" in w for w in s["warnings"])
    refused = cli("run", TASK, "--repo", str(repo), "--model", f"scripted:{script}", "--sandbox", "bwrap",
                  env={"PATH": f"{fake}:{os.environ['PATH']}"})
    assert refused.returncode == 2 and "bwrap" in refused.stderr


def test_the_summary_names_the_sandbox_and_the_trajectory_the_baseline(repo: Path, tmp_path: Path) -> None:
    s = run(repo, tmp_path, [{"text": whole()}, {"text": "feat: slugify"}])
    assert s["sandbox"] == "bwrap" and s["baseline"].startswith("absent")
    kinds = [e["kind"] for e in events(s["trajectory"])]
    assert kinds.index("baseline") < kinds.index("model_request") < kinds.index("red_run") < kinds.index("test_run")
    assert json.loads(json.dumps(s))["discarded"] == []


def test_a_test_missing_an_obvious_import_is_repaired_without_a_model_call(repo: Path, tmp_path: Path) -> None:
    no_import = GOOD_TEST + "\n\ndef test_none():\n    with pytest.raises(AttributeError):\n        slugify(None)\n"
    s = run(repo, tmp_path, [{"text": whole(test=no_import)}, {"text": "feat: slugify"}])
    assert s["status"] == "success" and s["attempts"] == 1 and s["usage"]["calls"] == 3
    assert git(repo, "show", f"{s['commit']}:tests/test_slug.py") == "import pytest\n" + no_import
    # the test design's reply and the generate call's (one scripted turn) are each repaired the same way
    assert {tuple(e["added_imports"]) for e in events(s["trajectory"]) if e["kind"] == "repair"} == {("import pytest",)}


@pytest.mark.parametrize("source, added", [
    ("def test():\n    assert math.floor(1.5) == 1\n", ["import math"]),
    ("import pytest as pt\n\ndef test():\n    pytest.fail()\n", ["import pytest"]),
    ("from x import re\n\ndef test():\n    re.match('a', 'a')\n", []),  # bound by the file: left alone
    ("def test(os):\n    os.getcwd()\n", []),  # a parameter named like a module
    ("def test():\n    numpy.zeros(1)\n", []),  # not a module greenloop may add on its own
    ("def f(xs: List[int]) -> int:\n    return factorial(len(Counter(xs)))\n",
     ["from collections import Counter", "from math import factorial", "from typing import List"]),
    ("def factorial(n):\n    return 1\n\ndef f():\n    return factorial(3)\n", []),  # the file defines it
    ("from helpers import *\n\ndef f():\n    return factorial(3)\n", []),  # `import *` may bind it
    ("def f():\n    return Counter.most_common\n", ["from collections import Counter"]),
])
def test_repair_adds_only_obvious_imports(source: str, added: list[str]) -> None:
    from greenloop.repair import add_missing_imports
    fixed, names = add_missing_imports(source)
    assert names == added
    assert fixed == "".join(f"{n}\n" for n in added) + source


def test_a_test_name_one_module_of_the_run_defines_is_imported_from_it() -> None:
    from greenloop.repair import add_missing_imports
    test = "def test_max():\n    assert find_max(['ab', 'c']) == 'ab'\n"
    fixed, names = add_missing_imports(test, {"solution": frozenset({"find_max"}), "util": frozenset({"other"})})
    assert names == ["from solution import find_max"] and fixed == "from solution import find_max\n" + test
    two_homes = {"a": frozenset({"find_max"}), "b": frozenset({"find_max"})}
    assert add_missing_imports(test, two_homes) == (test, [])  # which one is meant is unknown: left as sent
    assert add_missing_imports("from a import *\n" + test, {"a": frozenset({"find_max"})})[1] == []


def test_a_test_that_never_imports_the_function_it_tests_is_repaired_without_a_model_call(repo: Path,
                                                                                         tmp_path: Path) -> None:
    # the 1.5B model's fix reply in HumanEval/158 sent its test without `from solution import find_max`, three
    # times: each test run failed with NameError, whatever the code did
    test = GOOD_TEST.removeprefix("from textkit.slug import slugify\n")
    s = run(repo, tmp_path, [{"text": whole(test=test)}, {"text": "feat: slugify"}])
    assert s["status"] == "success" and s["attempts"] == 1 and s["usage"]["calls"] == 3
    assert git(repo, "show", f"{s['commit']}:tests/test_slug.py") == "from textkit.slug import slugify\n" + test
    repairs = [(e["path"], tuple(e["added_imports"])) for e in events(s["trajectory"]) if e["kind"] == "repair"]
    assert ("tests/test_slug.py", ("from textkit.slug import slugify",)) in repairs


def test_an_implementation_missing_a_standard_name_is_repaired_without_a_model_call(repo: Path,
                                                                                    tmp_path: Path) -> None:
    impl = ("def slugify(text):\n    words = ''.join(c if c.isalnum() else ' ' for c in text.lower()).split()\n"
            "    return reduce(lambda a, b: f'{a}-{b}', words) if words else ''\n")  # reduce: never imported
    s = run(repo, tmp_path, [{"text": whole(impl=impl)}, {"text": "feat: slugify"}])
    assert s["status"] == "success" and s["attempts"] == 1 and s["usage"]["calls"] == 3
    assert git(repo, "show", f"{s['commit']}:textkit/slug.py") == "from functools import reduce\n" + impl
    repairs = [(e["path"], tuple(e["added_imports"])) for e in events(s["trajectory"]) if e["kind"] == "repair"]
    assert set(repairs) == {("textkit/slug.py", ("from functools import reduce",))}


def test_a_self_test_the_implementation_runs_at_import_is_removed_without_a_model_call(repo: Path,
                                                                                       tmp_path: Path) -> None:
    # The model's module ends by running its own (wrong) check: every import of it would fail.
    tail = "\n\ndef test_it():\n    assert slugify('A b') == 'A-b'\n\n\ntest_it()\nassert slugify('x y') == 'x_y'\n"
    s = run(repo, tmp_path, [{"text": whole(impl=GOOD_IMPL + tail)}, {"text": "feat: slugify"}])
    assert s["status"] == "success" and s["attempts"] == 1 and s["usage"]["calls"] == 3
    committed = git(repo, "show", f"{s['commit']}:textkit/slug.py")
    assert committed == GOOD_IMPL + "\n\ndef test_it():\n    assert slugify('A b') == 'A-b'\n"
    repairs = {tuple(e["dropped_self_tests"]) for e in events(s["trajectory"]) if e["kind"] == "repair"}
    assert repairs == {("test_it()", "assert slugify('x y') == 'x_y'")}


@pytest.mark.parametrize("source, before, dropped", [
    ("def f():\n    return 1\n\nprint(f())\nmain()\n", None, []),  # output and other calls are the program's
    ("def f():\n    return 1\n\nassert sys.version_info > (3,)\n", None, []),  # calls nothing the file defines
    ("def f():\n    return 1\n\nif __name__ == '__main__':\n    assert f() == 2\n", None, []),  # not at import
    ("def f():\n    return 1\n\nassert f() == 1\n", "def f():\n    return 0\n\nassert f() == 1\n", []),  # the user's
    ("def f():\n    return 1\n\nassert f() == 1; g = 2\n", None, []),  # shares its line
    ("def f():\n    return 1\n\nassert f() == 1\n", "def f():\n    return 0\n", ["assert f() == 1"]),
])
def test_only_self_tests_the_reply_added_are_dropped(source: str, before: str | None, dropped: list[str]) -> None:
    from greenloop.repair import drop_self_tests
    fixed, gone = drop_self_tests(source, before)
    assert gone == dropped
    assert (fixed == source) == (not dropped)


@pytest.mark.parametrize(("source", "dropped"), [
    ("def f(x):\n    return x\n\n\ndef test_f():\n    assert f(1) == 1\n", ["f"]),
    ("def f(x): return x; y = 1\n\n\ndef test_f():\n    assert f(1)\n", ["f"]),
    ("def helper():\n    return 1\n\n\ndef test_f():\n    assert helper() == 1\n", []),  # no module defines it
    ("def test_f():\n    assert True\n", []),  # a test named like a module's function stays
    ("def g():\n    return 1\n\n\ndef test_g():\n    assert g() == 1\n", []),  # two modules define g
    ("from other import *\n\n\ndef f(x):\n    return x\n\n\ndef test_f():\n    assert f(1)\n", []),
    # a fixture, a fake handed to monkeypatch, a subclass: the test's own, not copies of the implementation
    ("import pytest\n\n\n@pytest.fixture\ndef f():\n    return 1\n\n\ndef test_f(f):\n    assert f == 1\n", []),
    ("import solution\n\n\ndef f(x):\n    return 0\n\n\ndef test_g(monkeypatch):\n"
     "    monkeypatch.setattr(solution, 'f', f)\n    assert solution.f(1) == 0\n", []),
    ("from solution import Stack as Base\n\n\nclass Stack(Base):\n    pass\n\n\ndef test_stack():\n"
     "    assert Stack()\n", []),
])
def test_a_test_files_copy_of_a_function_the_run_defines_is_dropped(source: str, dropped: list[str]) -> None:
    from greenloop.repair import add_missing_imports, drop_shadowing_definitions
    providers = {"solution": frozenset({"f", "g", "Stack", "test_f"}), "other": frozenset({"g"})}
    fixed, gone = drop_shadowing_definitions(source, providers)
    assert gone == dropped
    assert (fixed == source) == (not dropped)
    for name in dropped:
        assert f"def {name}" not in fixed
        assert f"from solution import {name}" in add_missing_imports(fixed, providers)[0]


CALC = "def add(a, b):\n    return a - b\n"
CALC_TEST = "from calc import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n"


@pytest.mark.parametrize("task", ["Fix add in calc.py so that tests/test_calc.py passes",
                                  "Fix add in calc.py: test_add fails"])
def test_a_red_test_the_task_names_must_pass(repo: Path, tmp_path: Path, task: str) -> None:
    (repo / "calc.py").write_text(CALC)
    (repo / "tests").mkdir()
    (repo / "tests" / "test_calc.py").write_text(CALC_TEST)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "calc with a bug")
    new_test = "from calc import add\n\n\ndef test_add_zero():\n    assert add(0, 4) == 4\n"
    sidestep = {"testFile": {"path": "tests/test_add_zero.py", "content": new_test},
                "sourceFiles": [{"path": "calc.py", "content": "def add(a, b):\n    return b if a == 0 else a - b\n"}]}
    fixed = {"sourceFiles": [{"path": "calc.py", "content": "def add(a, b):\n    return a + b\n"}]}
    # tests and code from one generate call, so that a fix request follows (with the default test design, a lean
    # first draft that misses the task's example is redrafted instead, from the task alone)
    s = run(repo, tmp_path, [{"text": json.dumps(sidestep)}, {"text": json.dumps(fixed)}, {"text": "fix: add"}],
            task=task, env={"GREENLOOP_TEST_DESIGN": "false"})
    assert s["status"] == "success" and s["attempts"] == 2, s  # the sidestep (own test green) was not enough
    assert "the task names 1 of the failing tests" in s["baseline"]
    fix = prompts(s)[0]
    assert "The task names these tests of the project" in fix and "tests/test_calc.py::test_add" in fix
    assert git(repo, "show", f"{s['commit']}:calc.py") == "def add(a, b):\n    return a + b\n"


def test_a_test_cmd_that_runs_the_runs_own_tests_does_not_call_their_failure_a_regression(project: Path,
                                                                                          tmp_path: Path) -> None:
    """`--test-cmd "pytest tests"` also collects the run's new test file; when only that file fails, the fix
    request names the run's own test, not "broke tests of the project" (the project's tests all pass)."""
    s = run(project, tmp_path, [
        {"step": "generate", "text": whole(impl=BAD_IMPL)},
        {"step": "fix", "text": whole(test=None)},
        {"step": "commit_message", "text": "feat: slugify"},
    ], "--test-cmd", "python -m pytest -q -p no:cacheprovider tests")
    assert s["status"] == "success" and s["attempts"] == 2
    fix = prompts(s)[0]
    assert "broke tests of the project" not in fix and "<test_cmd>" not in fix
    assert "tests/test_slug.py::test_punct" in fix
    assert "test_cmd fails only in the run's own tests: tests/test_slug.py" in fix
    attempts = [e for e in events(s["trajectory"]) if e["kind"] == "test_run"]
    assert attempts[0]["regressions"] == []


def test_a_test_cmd_failing_in_a_project_test_is_still_a_regression(project: Path, tmp_path: Path) -> None:
    broken = {"textkit/shout.py": "def shout(text):\n    return text.lower()\n"}
    s = run(project, tmp_path, [{"text": whole(**broken)}] * 2, "--max-iterations", "2",
            "--test-cmd", "python -m pytest -q -p no:cacheprovider tests")
    assert s["status"] == "failed" and s["commit"] is None
    fix = prompts(s)[0]
    assert "broke tests of the project that passed before" in fix and "tests/test_shout.py::test_shout" in fix
