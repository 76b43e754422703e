"""A wrong first draft is redrafted, not repaired: the next request takes the next framing (the task's stub as a
function to complete, the lean request, the task's file as code to complete) and does not show the wrong code;
the project's own failing test is read-only in a fix request. Real loop, scripted model, real sandbox, real pytest,
real git."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import BAD_IMPL, GOOD_IMPL, GOOD_TEST, cli, events, git, summary, write_script

from greenloop.context import gather
from greenloop.draft import framings
from greenloop.state import State

STUB = 'def slugify(text):\n    """Lower-case words joined by hyphens.\n\n    >>> slugify("Hello, World!")\n    \'hello-world\'\n    """\n'
PROJECT_TEST = "from textkit.slug import slugify\n\n\ndef test_punct():\n    assert slugify('  A, b!  ') == 'a-b'\n"
TASK = "Implement slugify in textkit/slug.py as its docstring says"
ENV = {"GREENLOOP_REQUIRE_TESTS": "false", "GREENLOOP_COMMIT_MESSAGE": "template"}
# tests and code asked for in one generate call (with the default test design they come from a call of their own)
COMBINED = {"GREENLOOP_REQUIRE_TESTS": "true", "GREENLOOP_TEST_DESIGN": "false"}
# GOOD_IMPL with the stub's docstring, which a reply that leaves it out does not delete (test_omitted.py)
WITH_DOCSTRING = GOOD_IMPL.replace("str:\n", "str:\n" + STUB.split("\n", 1)[1])
SUITE = ("--test-cmd", "python -m pytest -q -p no:cacheprovider tests")  # the project's test judges the work


@pytest.fixture
def stubbed(repo: Path) -> Path:
    """textkit with a stub to complete and a test of the project that checks it."""
    (repo / "textkit" / "slug.py").write_text(STUB)
    (repo / "tests").mkdir()
    (repo / "tests" / "test_slug.py").write_text(PROJECT_TEST)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "stub")
    return repo


def block(code: str) -> str:
    return f"textkit/slug.py\n```python\n{code}```\n"


def run(repo: Path, tmp_path: Path, replies: list[dict], *extra: str, task: str = TASK,
        env: dict[str, str] | None = None) -> dict:
    script = write_script(tmp_path / "s.json", replies)
    proc = cli("run", task, "--repo", str(repo), "--model", f"scripted:{script}", "--json", *SUITE, *extra,
               env={**ENV, **(env or {})})
    assert proc.stdout.strip(), proc.stderr
    return summary(proc)


def requests(s: dict) -> list[tuple[str, str, str]]:
    """(step, system, user) of every model request, in order."""
    return [(e["step"], e["messages"][0]["content"], e["messages"][-1]["content"])
            for e in events(s["trajectory"]) if e["kind"] == "model_request"]


def test_a_stub_the_task_names_is_asked_for_as_a_function_to_complete_then_redrafted_lean(stubbed: Path,
                                                                                         tmp_path: Path) -> None:
    s = run(stubbed, tmp_path, [{"step": "generate", "text": f"```python\n{BAD_IMPL}```\n"},
                                {"step": "redraft", "text": block(GOOD_IMPL)}])
    assert s["status"] == "success" and s["attempts"] == 2, s
    (step1, system, user), (step2, _, lean) = requests(s)
    assert (step1, step2) == ("generate", "redraft")
    assert user == TASK + "\n\nComplete this Python function:\n\n```python\n" + STUB + "```"
    assert "Reply with the complete function" in system
    assert lean.startswith(TASK + "\n\ntextkit/slug.py:\n```python\n" + STUB)
    assert "replace(\" \", \"-\")" not in lean  # a fresh draft: the wrong code is not shown
    assert git(stubbed, "show", f"{s['commit']}:textkit/slug.py") == WITH_DOCSTRING
    assert (stubbed / "textkit" / "slug.py").read_text() == STUB  # the user's checkout is untouched


def test_a_wrong_first_draft_of_a_written_file_is_redrafted_as_code_to_complete(stubbed: Path,
                                                                                tmp_path: Path) -> None:
    (stubbed / "textkit" / "slug.py").write_text(BAD_IMPL)  # written code to fix: no stub to complete
    git(stubbed, "commit", "-qam", "a wrong slugify")
    task = "Fix slugify in textkit/slug.py: slugify('  A, b!  ') == 'a-b'"
    s = run(stubbed, tmp_path, [{"step": "generate", "text": block(BAD_IMPL + "# same\n")},
                                {"step": "redraft", "text": f"```python\n{GOOD_IMPL}```\n"}], task=task)
    assert s["status"] == "success" and s["attempts"] == 2, s
    (step1, _, lean), (step2, system, user) = requests(s)
    assert (step1, step2) == ("generate", "redraft") and lean.startswith(task + "\n\ntextkit/slug.py:")
    assert user == "Complete this Python code from textkit/slug.py:\n\n```python\n" + BAD_IMPL + "```\n\n" + task
    assert "Reply with the complete code" in system
    assert git(stubbed, "show", f"{s['commit']}:textkit/slug.py") == GOOD_IMPL


def test_a_first_draft_without_a_body_is_redrafted(stubbed: Path, tmp_path: Path) -> None:
    s = run(stubbed, tmp_path, [{"step": "generate", "text": block(STUB + "    pass\n")},
                                {"step": "redraft", "text": f"```python\n{GOOD_IMPL}```\n"}])
    assert s["status"] == "success" and [r[0] for r in requests(s)] == ["generate", "redraft"], s


def temperatures(s: dict) -> list[float | None]:
    return [e["temperature"] for e in events(s["trajectory"]) if e["kind"] == "model_request"]


def test_past_the_framings_a_missed_example_is_redrafted_from_samples_chosen_by_it(stubbed: Path,
                                                                                  tmp_path: Path) -> None:
    wrong = [block(BAD_IMPL + f"\n# try {i}\n") for i in range(4)]
    s = run(stubbed, tmp_path, [{"step": "generate", "text": wrong[0]}, {"step": "redraft", "text": wrong[1]},
                                {"step": "resample", "text": wrong[2]}, {"step": "resample", "text": wrong[3]},
                                {"step": "resample", "text": block(GOOD_IMPL)},
                                {"step": "resample", "text": block(BAD_IMPL)}], "--max-iterations", "3")
    assert s["status"] == "success" and s["attempts"] == 3 and s["usage"]["calls"] == 6, s
    assert temperatures(s) == [None, None, 0.7, 0.7, 0.7, 0.7]  # greedy framings, then samples
    users = [r[2] for r in requests(s)]  # the samples take the framings in turn: function, lean, function, lean
    assert [u.startswith(TASK + "\n\nComplete this Python function") for u in users] == [True, False] * 3
    assert [r[0] for r in requests(s)] == ["generate", "redraft"] + ["resample"] * 4
    chosen = [e for e in events(s["trajectory"]) if e["kind"] == "candidates"]
    assert [(c["count"], c["implementation"]) for c in chosen] == [(4, 2)], chosen
    assert git(stubbed, "show", f"{s['commit']}:textkit/slug.py") == WITH_DOCSTRING
    assert (stubbed / "textkit" / "slug.py").read_text() == STUB  # the user's checkout is untouched


def test_tests_and_code_that_miss_the_example_after_a_fix_are_resampled(repo: Path, tmp_path: Path) -> None:
    test = "from textkit.slug import slugify\n\n\ndef test_words():\n    assert slugify('a b') == 'a-b'\n"
    first = f"tests/test_slug.py\n```python\n{test}```\n\n" + block(BAD_IMPL)
    replies = [{"step": "generate", "text": first}, {"step": "fix", "text": block(BAD_IMPL + "# fixed?\n")},
               *({"step": "resample", "text": block(BAD_IMPL + f"# {i}\n")} for i in range(2)),
               {"step": "resample", "text": block(GOOD_IMPL)}, {"step": "resample", "text": block(BAD_IMPL)}]
    script = write_script(tmp_path / "s.json", replies)
    proc = cli("run", "Add slugify(text) in textkit/slug.py. Example: slugify('Hello, World!') == 'hello-world'",
               "--repo", str(repo), "--model", f"scripted:{script}", "--json",
               env={"GREENLOOP_COMMIT_MESSAGE": "template", **COMBINED})
    s = summary(proc)
    assert s["status"] == "success" and s["attempts"] == 3, s
    assert temperatures(s) == [None, None, 0.7, 0.7, 0.7, 0.7]  # tests and code, a fix, then samples
    assert git(repo, "show", f"{s['commit']}:textkit/slug.py") == GOOD_IMPL
    assert git(repo, "show", f"{s['commit']}:tests/test_slug.py") == test  # the first reply's tests stand


def test_without_resample_a_missed_example_goes_to_a_fix(stubbed: Path, tmp_path: Path) -> None:
    s = run(stubbed, tmp_path, [{"step": "generate", "text": block(BAD_IMPL)},
                                {"step": "redraft", "text": block(BAD_IMPL + "\n# again\n")},
                                {"step": "fix", "text": block(GOOD_IMPL)}], "--max-iterations", "3",
            env={"GREENLOOP_RESAMPLE": "0"})
    assert s["status"] == "success" and [r[0] for r in requests(s)] == ["generate", "redraft", "fix"], s


def test_after_the_framings_a_fix_names_the_projects_test_read_only(stubbed: Path, tmp_path: Path) -> None:
    s = run(stubbed, tmp_path, [{"step": "generate", "text": block(BAD_IMPL)},
                                {"step": "redraft", "text": block(BAD_IMPL + "\n# again\n")},
                                {"step": "fix", "text": block(GOOD_IMPL)}], env={"GREENLOOP_RESAMPLE": "0"})
    assert s["status"] == "success" and [r[0] for r in requests(s)] == ["generate", "redraft", "fix"]
    fix = requests(s)[2][2]
    assert "tests/test_slug.py is the project's own test: read-only. Do not send it" in fix
    assert "Change the implementation." in fix and "Change your tests" not in fix


OWN_TEST = "from textkit.slug import slugify\n\n\ndef test_words():\n    assert slugify('a b') == 'a-b'\n"


def code_after_tests_alone(repo: Path, tmp_path: Path, task: str, test: str, code: str) -> tuple[dict, str]:
    """A run asked for tests and code whose first reply is the tests alone: (summary, the second request)."""
    s = run(repo, tmp_path, [{"step": "generate", "text": f"tests/test_own.py\n```python\n{test}```\n"},
                             {"step": "redraft", "text": f"```python\n{code}```\n"}], task=task,
            env=COMBINED)
    assert s["status"] == "success" and [r[0] for r in requests(s)] == ["generate", "redraft"], s
    assert git(repo, "show", f"{s['commit']}:tests/test_own.py") == test  # the first reply's tests stand
    second = requests(s)[1][2]
    assert "test_own" not in second  # a first draft: the code from the task, not from the tests
    return s, second


def test_tests_sent_alone_for_a_stub_get_its_code_as_a_function_to_complete(stubbed: Path, tmp_path: Path) -> None:
    s, second = code_after_tests_alone(stubbed, tmp_path, TASK, OWN_TEST, GOOD_IMPL)
    assert second.startswith(TASK + "\n\nComplete this Python function:\n\n```python\n" + STUB), second
    assert git(stubbed, "show", f"{s['commit']}:textkit/slug.py") == WITH_DOCSTRING


def test_tests_sent_alone_for_a_new_file_get_its_code_from_the_lean_request(repo: Path, tmp_path: Path) -> None:
    task = "Add title(text) to textkit/title.py: title('a b') == 'A B'"
    code = "def title(text):\n    return text.title()\n"
    test = "from textkit.title import title\n\n\ndef test_t():\n    assert title('x') == 'X'\n"
    s, second = code_after_tests_alone(repo, tmp_path, task, test, code)
    assert second.startswith(task) and "Reply with the complete file textkit/title.py" in second, second
    assert git(repo, "show", f"{s['commit']}:textkit/title.py") == code


def test_a_fix_after_a_reply_that_wrote_nothing_shows_the_file_the_task_names(stubbed: Path, tmp_path: Path) -> None:
    cut_off = f"tests/test_own.py\n```python\n{OWN_TEST}"  # the reply ended inside its first file
    s = run(stubbed, tmp_path, [{"step": "generate", "text": cut_off},
                                {"step": "fix", "text": f"tests/test_own.py\n```python\n{OWN_TEST}```\n" + block(GOOD_IMPL)}],
            env=COMBINED)
    assert s["status"] == "success" and [r[0] for r in requests(s)] == ["generate", "fix"], s
    fix = requests(s)[1][2]
    assert "Current textkit/slug.py:\n```python\n" + STUB + "```" in fix, fix  # what the code must complete


def test_a_new_file_has_one_framing_so_a_wrong_draft_is_fixed(repo: Path, tmp_path: Path) -> None:
    (repo / "tests").mkdir()
    (repo / "tests" / "test_slug.py").write_text(PROJECT_TEST)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "test first")
    s = run(repo, tmp_path, [{"step": "generate", "text": block(BAD_IMPL)}, {"step": "fix", "text": block(GOOD_IMPL)}],
            task="Add slugify(text) in textkit/slug.py: lower-case words joined by hyphens")
    assert s["status"] == "success" and [r[0] for r in requests(s)] == ["generate", "fix"]


def test_code_resent_unchanged_against_its_failing_test_is_resampled_when_no_example_weighs_it(
        repo: Path, tmp_path: Path) -> None:
    """py_repo_tasks.py slug and words with the 1.5B: the test was right, the code wrong, and every fix request
    brought the code back unchanged until the budget ran out. With no example to weigh the dispute, fresh first
    drafts are sampled once, chosen by the run's tests."""
    test = f"tests/test_slug.py\n```python\n{GOOD_TEST}```\n"
    s = run(repo, tmp_path, [{"step": "generate", "text": test + block(BAD_IMPL)},
                             {"step": "fix", "text": block(BAD_IMPL)},
                             {"step": "resample", "text": block(BAD_IMPL + "# again\n")},
                             {"step": "resample", "text": block("def slugify(text):\n    return text.upper()\n")},
                             {"step": "resample", "text": block(GOOD_IMPL)}, {"step": "resample", "text": block(BAD_IMPL)},
                             {"step": "commit_message", "text": "feat: slugify"}],
            "--max-iterations", "3", task="Add slugify(text) in textkit/slug.py: lower-case words joined by hyphens",
            env=COMBINED)
    assert [r[0] for r in requests(s)] == ["generate", "fix"] + ["resample"] * 4
    assert s["status"] == "success", s
    assert git(repo, "show", f"{s['commit']}:textkit/slug.py") == GOOD_IMPL


def test_code_resent_unchanged_that_breaks_a_project_test_is_resampled(repo: Path, tmp_path: Path) -> None:
    """py_repo_tasks.py negative: the fix met the task's example and broke a test of the project; every request
    after it brought it back unchanged. Fresh drafts are sampled, checked against that project test too."""
    (repo / "textkit" / "slug.py").write_text(BAD_IMPL)
    (repo / "tests").mkdir()
    (repo / "tests" / "test_words.py").write_text(
        "from textkit.slug import slugify\n\n\ndef test_words():\n    assert slugify('Hello World') == 'hello-world'\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "slug")
    breaks = ('import re\n\n\ndef slugify(text):\n    if "," in text:\n'
              '        return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")\n    return text\n')
    script = write_script(tmp_path / "s.json", [
        {"step": "generate", "text": block(breaks)}, {"step": "redraft", "text": block(breaks)},
        {"step": "resample", "text": block(breaks + "# again\n")}, {"step": "resample", "text": block(GOOD_IMPL)},
        *({"step": "resample", "text": block(breaks)} for _ in range(2))])
    s = summary(cli("run", "Fix slugify in textkit/slug.py. Example: slugify('  A, b!  ') == 'a-b'", "--repo",
                    str(repo), "--model", f"scripted:{script}", "--json", "--max-iterations", "3", env=ENV))
    assert [r[0] for r in requests(s)] == ["generate", "redraft"] + ["resample"] * 4
    assert s["status"] == "success" and git(repo, "show", f"{s['commit']}:textkit/slug.py") == GOOD_IMPL, s


@pytest.mark.parametrize(("task", "content", "expected"), [
    (TASK, STUB, ["function", "lean"]),  # the task names a function its file leaves unwritten
    ("Implement slugify in textkit/slug.py", "def slugify(text):\n    raise NotImplementedError\n",
     ["function", "lean"]),
    ("Implement slugify in textkit/slug.py", 'def slugify(text):\n    import re\n    """Slug of text."""\n',
     ["function", "lean"]),  # an import above the docstring (HumanEval/115) is no body either
    ("Add title(text) to textkit/slug.py", STUB, ["lean", "complete"]),  # a stub the task does not name
    ("Fix slugify in textkit/slug.py", BAD_IMPL, ["lean", "complete"]),  # written code: nothing to complete
    ("Add slugify to textkit/new.py", STUB, ["lean"]),  # no existing file to complete
])
def test_the_first_framing_is_the_function_to_complete_only_for_a_stub_the_task_names(
        stubbed: Path, task: str, content: str, expected: list[str]) -> None:
    if content != STUB:
        (stubbed / "textkit" / "slug.py").write_text(content)
        git(stubbed, "commit", "-qam", "content")
    assert framings(State(task=task, context=gather(stubbed, task))) == expected
