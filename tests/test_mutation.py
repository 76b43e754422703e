"""A strong and a weak test suite for the same implementation get clearly different mutation scores."""

from __future__ import annotations

from pathlib import Path

from conftest import cli, events, git, summary, whole, write_script

from greenloop.examples import Example
from greenloop.grade import restated

IMPL = ('def clamp(x, lo, hi):\n    if x < lo:\n        return lo\n    if x > hi:\n        return hi\n'
        '    return x\n')
HEAD = "from textkit.slug import clamp\n\n\n"
STRONG = HEAD + ("def test_inside():\n    assert clamp(5, 0, 10) == 5\n\n\ndef test_low():\n    assert clamp(-1, 0, 10) == 0\n"
                 "\n\ndef test_high():\n    assert clamp(11, 0, 10) == 10\n\n\ndef test_edges():\n"
                 "    assert clamp(0, 0, 10) == 0 and clamp(10, 0, 10) == 10\n")
WEAK = HEAD + "def test_inside():\n    assert clamp(5, 0, 10) == 5\n"
EDGES = ("Add clamp(x, lo, hi) in textkit/slug.py. Examples: clamp(-1, 0, 10) == 0, clamp(11, 0, 10) == 10, "
         "clamp(0, 0, 10) == 0 and clamp(10, 0, 10) == 10.")


def _run(repo: Path, tmp_path: Path, test: str, *replies: dict, mode: str = "score",
         task: str = "Add clamp(x, lo, hi) in textkit/slug.py") -> dict:
    script = write_script(tmp_path / f"s{len(test)}{mode}{len(task)}.json",
                          [{"text": whole(test=test, impl=IMPL)}, *replies])
    s = summary(cli("run", task, "--repo", str(repo), "--model",
                    f"scripted:{script}", "--json",
                    env={"GREENLOOP_MUTATION_BUDGET_S": "120", "GREENLOOP_MUTATION": mode}))
    assert s["status"] == "success", s
    return s


def _mutation(repo: Path, tmp_path: Path, test: str) -> dict:
    return _run(repo, tmp_path, test)["quality"]["mutation"]


def test_strong_tests_kill_more_mutants_than_weak_ones_and_the_weak_ones_get_a_warning(
        repo: Path, tmp_path: Path) -> None:
    strong_run, weak_run = _run(repo, tmp_path, STRONG), _run(repo, tmp_path, WEAK)
    strong, weak = strong_run["quality"]["mutation"], weak_run["quality"]["mutation"]
    assert strong["total"] == weak["total"] == 5 and strong["not_run"] == 0
    assert strong["score"] == 1.0 and weak["score"] <= 0.6, (strong, weak)
    assert weak["survivors"] and all(line.startswith("textkit/slug.py:") for line in weak["survivors"])
    low = [w for w in weak_run["warnings"] if "mutants of the code" in w]
    assert len(low) == 1 and f"killed {weak['killed']} of 5" in low[0] and "they do not notice: textkit/slug.py:" in low[0]
    assert not [w for w in strong_run["warnings"] if "mutants of the code" in w]
    assert strong_run["evidence"] == "strong" and weak_run["evidence"] == "weak"


def test_the_terminal_says_how_much_a_green_says_and_an_unscored_green_claims_nothing(
        repo: Path, tmp_path: Path) -> None:
    """The end of a run names its evidence and what it rests on; with no score (mutation off) it is
    "unmeasured", and a failed run has none."""
    script = write_script(tmp_path / "strong.json", [{"text": whole(test=STRONG, impl=IMPL)}])
    shown = cli("run", "Add clamp(x, lo, hi) in textkit/slug.py", "--repo", str(repo), "--model", f"scripted:{script}",
                env={"GREENLOOP_MUTATION_BUDGET_S": "120"})
    assert shown.returncode == 0, shown.stderr
    assert "evidence: strong (the tests killed 5 of 5 mutants of the code)" in shown.stderr, shown.stderr
    unscored = summary(cli("run", "Add clamp(x, lo, hi) in textkit/slug.py", "--repo", str(repo), "--model",
                           f"scripted:{script}", "--json", env={"GREENLOOP_MUTATION": "off"}))
    assert unscored["status"] == "success" and unscored["evidence"] == "unmeasured", unscored
    failing = write_script(tmp_path / "red.json", [{"text": whole(test=STRONG, impl=IMPL.replace("return lo", "return hi"))}])
    failed = summary(cli("run", "Add clamp(x, lo, hi) in textkit/slug.py", "--repo", str(repo), "--model",
                         f"scripted:{failing}", "--json", "--max-iterations", "1"))
    assert failed["status"] == "failed" and failed["evidence"] is None, failed


def test_the_task_examples_judged_the_green_so_they_face_the_mutants_too(repo: Path, tmp_path: Path) -> None:
    """Weak tests, and a task whose examples state the edges: the mutants that the tests miss and an example
    catches are killed (before, the score counted the tests alone and warned about code the examples pin)."""
    weak = _mutation(repo, tmp_path, WEAK)
    examples_run = _run(repo, tmp_path, WEAK, task=EDGES)
    anchored = examples_run["quality"]["mutation"]
    assert anchored["total"] == weak["total"] == 5 and anchored["not_run"] == 0
    assert weak["score"] <= 0.6 and anchored["score"] == 1.0, (weak, anchored)
    assert not [w for w in examples_run["warnings"] if "mutants of the code" in w]


RESTATED = ("from textkit import slug\n\n\ndef test_edges():\n    assert slug.clamp(-1, 0, 10) == 0\n"
            "    assert slug.clamp(11, 0, 10) == 10\n    assert slug.clamp(0, 0, 10) == 0\n"
            "    assert slug.clamp(10, 0, 10) == 10\n")


def test_tests_that_only_restate_the_task_examples_are_no_strong_evidence(repo: Path, tmp_path: Path) -> None:
    """Every mutant dies, but only on the examples the user wrote: the green says nothing beyond them, so it is
    weak, and the end of the run says why. One call on another input (STRONG's clamp(5, 0, 10)) makes it strong."""
    script = write_script(tmp_path / "restated.json", [{"text": whole(test=RESTATED, impl=IMPL)}])
    shown = cli("run", EDGES, "--repo", str(repo), "--model", f"scripted:{script}",
                env={"GREENLOOP_MUTATION_BUDGET_S": "120"})
    assert shown.returncode == 0, shown.stderr
    assert ("evidence: weak (the tests only restate the task's 4 examples; the tests and the task's examples "
            "killed 5 of 5 mutants of the code)") in " ".join(shown.stderr.split()), shown.stderr
    restated_run = _run(repo, tmp_path, RESTATED, task=EDGES)
    assert restated_run["quality"]["mutation"]["score"] == 1.0 and restated_run["evidence"] == "weak", restated_run
    beyond = _run(repo, tmp_path, STRONG, task=EDGES)
    assert beyond["quality"]["mutation"]["score"] == 1.0 and beyond["evidence"] == "strong", beyond


def test_a_test_that_calls_the_code_with_a_variable_is_not_a_restatement() -> None:
    """A parametrized test may hold any input: only literal calls equal to the examples' count as restating."""
    examples = [Example("clamp(-1, 0, 10)", "0"), Example("clamp(11, 0, 10)", "10")]
    same = {"tests/test_a.py": "from m import clamp\nassert clamp( -1,0, 10) == 0\nassert clamp(11, 0, 10) == 10\n"}
    assert restated(same, examples) == 2
    varied = {"tests/test_a.py": "import pytest\nfrom m import clamp\n\n\n@pytest.mark.parametrize('x', [-1, 11])\n"
                                 "def test_c(x):\n    assert clamp(x, 0, 10) in (0, 10)\n"}
    assert restated(varied, examples) == 0
    assert restated({**same, "tests/test_b.py": "from m import clamp\nassert clamp(5, 0, 10) == 5\n"}, examples) == 0
    assert restated(same, [*examples, Example("clamp(5, 0, 10)", "5", derived=True)]) == 2  # a round trip: no example
    assert restated({}, examples) == 0 and restated(same, []) == 0


def test_improve_sends_surviving_mutants_to_the_test_designer_and_keeps_tests_that_pass(
        repo: Path, tmp_path: Path) -> None:
    stronger = f"tests/test_slug.py\n```python\n{STRONG.replace('test_inside', 'test_inside_again')}{WEAK[len(HEAD):]}```"
    s = _run(repo, tmp_path, WEAK, {"step": "test_design", "text": "\n" + stronger},
             {"step": "commit_message", "text": "feat: clamp"}, mode="improve")
    assert s["quality"]["mutation"]["score"] == 1.0 and s["usage"]["calls"] == 4, s  # design, generate, improve, message
    assert any(w.startswith("mutation = improve: ") and "test(s) added for" in w for w in s["warnings"])
    assert not [w for w in s["warnings"] if "mutants of the code" in w]  # no longer low
    committed = git(repo, "show", f"{s['commit']}:tests/test_slug.py")
    assert "def test_high" in committed and "def test_inside():" in committed  # the frozen test stays
    request = [e for e in events(s["trajectory"]) if e["kind"] == "model_request" and e["step"] == "test_design"][-1]
    assert "Changes your tests do not notice:\n- textkit/slug.py line" in request["messages"][-1]["content"]


def test_improve_keeps_the_earlier_tests_when_the_new_ones_fail_on_the_code(repo: Path, tmp_path: Path) -> None:
    wrong = WEAK + "\n\ndef test_wrong():\n    assert clamp(11, 0, 10) == 11\n"
    s = _run(repo, tmp_path, WEAK, {"step": "test_design", "text": f"tests/test_slug.py\n```python\n{wrong}```"},
             {"step": "commit_message", "text": "feat: clamp"}, mode="improve")
    assert git(repo, "show", f"{s['commit']}:tests/test_slug.py") == WEAK
    assert any(w.startswith("mutation = improve: the stronger tests failed on the code") for w in s["warnings"]), s
    assert s["quality"]["mutation"]["score"] <= 0.6 and s["tests"]["new_failed"] == 0


def test_without_tests_of_its_own_the_test_command_faces_the_mutants(repo: Path, tmp_path: Path) -> None:
    """require_tests off: the project's test command judged the run, so it is what the mutants face."""
    scores = []
    for name, test in (("strong", STRONG), ("weak", WEAK)):
        (repo / "tests").mkdir(exist_ok=True)
        (repo / "tests" / "test_clamp.py").write_text(test)
        git(repo, "add", "-A")
        git(repo, "commit", "-qm", f"{name} tests")
        script = write_script(tmp_path / f"{name}.json", [whole(test=None, impl=IMPL)])
        s = summary(cli("run", "Add clamp(x, lo, hi) in textkit/slug.py", "--repo", str(repo), "--model",
                        f"scripted:{script}", "--json", "--test-cmd", "python -m pytest -q -p no:cacheprovider tests",
                        env={"GREENLOOP_MUTATION_BUDGET_S": "120", "GREENLOOP_REQUIRE_TESTS": "false"}))
        assert s["status"] == "success", s
        scores.append(s["quality"]["mutation"])
    strong, weak = scores
    assert strong["total"] == weak["total"] == 5 and strong["score"] == 1.0 and weak["score"] <= 0.6, scores


def test_the_default_budget_follows_the_run_so_a_model_s_minutes_buy_every_mutant() -> None:
    """The mutation budget by default: the run's own test time, or 40% of the run so far if that is more, at
    most 20 s (a real model's run of minutes grades every mutant; a quick scripted run stays within +50%)."""
    import time

    from greenloop import record
    from greenloop.grade import default_budget

    def reading(started_ago: float, *test_seconds: float) -> record.Reading:
        start = record.RunStart(ts=time.time() - started_ago, run_id="r", step="start", greenloop_version="0",
                                prompt_version="0", config={}, task="t", model="m", sandbox="bwrap")
        runs = [record.TestRun(ts=0, run_id="r", step="test", command=[], exit_code=0, passed=1, failed=0, errors=0,
                               timed_out=False, seconds=s, output="") for s in test_seconds]
        return record.Reading([start, *runs], [])

    assert default_budget(reading(300, 1.4, 1.5)) == 20.0  # a model's five minutes: capped at 20 s
    assert 3.9 < default_budget(reading(10, 1.4, 1.5)) <= 4.1  # a quick run: 40% of its time so far
    assert default_budget(reading(2, 6.0)) == 6.0  # slow tests: as long as the run's own test runs took
