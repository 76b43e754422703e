"""The benchmark harness end to end on 3 HumanEval tasks with a scripted model (one false green),
locally and with the Ray executor in local mode."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
from conftest import cli, write_script

from greenloop.bench.humaneval import load_problems, program_from_reply

T0 = ("tests/test_solution.py\n```python\nfrom solution import has_close_elements\n\n\ndef test_examples():\n"
      "    assert has_close_elements([1.0, 2.0, 3.0], 0.5) is False\n"
      "    assert has_close_elements([1.0, 2.8, 3.0, 4.0, 5.0, 2.0], 0.3) is True\n```\n\n"
      "solution.py\n```python\nfrom typing import List\n\n\ndef has_close_elements(numbers: List[float], threshold: float) -> bool:\n"
      "    return any(abs(a - b) < threshold for i, a in enumerate(numbers) for b in numbers[i + 1:])\n```\n")
# An implementation that only knows the visible example: green, but the hidden tests fail (a false green).
# It also tries to rewrite the visible tests, which the harness protects.
T1 = ("tests/test_visible.py\n```python\ndef test_nothing():\n    assert True\n```\n\n"
      "solution.py\n```python\nfrom typing import List\n\n\ndef separate_paren_groups(paren_string: str) -> List[str]:\n"
      "    if paren_string == '( ) (( )) (( )( ))':\n        return ['()', '(())', '(()())']\n    return []\n```\n")
T2_BAD = "```python\ndef truncate_number(number: float) -> float:\n    return float(int(number))\n```\n"  # no path: solution.py
AGENT_SCRIPT = [{"step": "generate", "text": T0}, {"step": "generate", "text": T1}, {"step": "generate", "text": T2_BAD}]
ONESHOT_SCRIPT = ["```python\ndef has_close_elements(numbers, threshold):\n    return any(abs(a - b) < threshold "
                  "for i, a in enumerate(numbers) for b in numbers[i + 1:])\n```",
                  "```python\ndef separate_paren_groups(paren_string):\n    return []\n```",
                  "Here:\n```python\n    return number % 1.0\n```"]


def _bench(tmp_path: Path, script: list, *extra: str) -> tuple[dict, Path]:
    path = write_script(tmp_path / "script.json", script)
    report = tmp_path / "report"
    proc = cli("bench", "humaneval", "--model", f"scripted:{path}", "--tasks", "0,1,2", "--max-iterations", "1",
               "--json", "--report", str(report), *extra, timeout=600)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1]), report


def test_agent_mode_end_to_end_with_a_false_green(tmp_path: Path) -> None:
    total, report = _bench(tmp_path, AGENT_SCRIPT, "--mode", "agent")
    assert {k: total[k] for k in ("benchmark", "mode", "tasks", "passed", "false_green", "calls")} == {
        "benchmark": "humaneval", "mode": "agent", "tasks": 3, "passed": 1, "false_green": 0.5, "calls": 3}
    assert total["pass_rate"] == pytest.approx(1 / 3, abs=1e-3) and total["input_tokens"] > 0
    rows = [json.loads(line) for line in (report / "humaneval-agent.jsonl").read_text().splitlines()]
    assert [(r["task_id"], r["solved"], r["green"]) for r in rows] == [
        ("HumanEval/0", True, True), ("HumanEval/1", False, True), ("HumanEval/2", False, False)]
    claimed = {r["task_id"]: r["evidence"] for r in rows}  # each green's evidence, counted against the hidden tests
    assert claimed["HumanEval/2"] is None and {claimed["HumanEval/0"], claimed["HumanEval/1"]} <= {"strong", "weak"}
    assert total["evidence"][claimed["HumanEval/1"]]["false"] == 1, (claimed, total["evidence"])
    assert sum(v["greens"] for v in total["evidence"].values()) == 2, total["evidence"]
    page = (report / "humaneval-agent.html").read_text()
    assert "<svg" in page and "Pass rate by attempt" in page and "false-green rate" in page
    kept = sorted(p.name for p in (report / "trajectories").iterdir())  # the task repos are gone; these stay
    assert kept == ["HumanEval-0.jsonl", "HumanEval-1.jsonl", "HumanEval-2.jsonl"]
    assert '"kind": "run_end"' in (report / "trajectories" / "HumanEval-1.jsonl").read_text()


def test_require_tests_makes_the_agent_write_tests_of_its_own(tmp_path: Path) -> None:
    """By default the visible tests judge the agent (require_tests = false); --require-tests holds it to the
    shipped rule: the run commits tests of its own. A model that sends the implementation alone, where tests were
    asked for, gets the task's examples written as the run's tests (exampletests.py), and its green is theirs."""
    impl_only = T0.split("solution.py\n", 1)[1]
    for extra in ((), ("--require-tests",)):
        path = write_script(tmp_path / "script.json", [{"step": "generate", "text": impl_only}])
        report = tmp_path / f"report{len(extra)}"
        proc = cli("bench", "humaneval", "--model", f"scripted:{path}", "--tasks", "0", "--max-iterations", "1",
                   "--json", "--report", str(report), *extra, timeout=600)
        assert proc.returncode == 0, proc.stderr
        row = json.loads((report / "humaneval-agent.jsonl").read_text().splitlines()[0])
        assert row["green"] is True, row
        events = [json.loads(line) for line in (report / "trajectories" / "HumanEval-0.jsonl").read_text().splitlines()]
        assert events[0]["config"]["require_tests"] is bool(extra)
        designs = [e["written"] for e in events if e["kind"] == "validation" and e["step"] == "test_design"]
        assert designs == ([["solution.py"], ["tests/test_solution.py"]] if extra else []), designs  # the reply's; ours
        assert any(e["kind"] == "example_tests" for e in events) is bool(extra)


def test_oneshot_mode(tmp_path: Path) -> None:
    total, _ = _bench(tmp_path, ONESHOT_SCRIPT, "--mode", "oneshot")
    assert (total["mode"], total["tasks"], total["passed"], total["calls"], total["false_green"]) == ("oneshot", 3, 2, 3, 0.0)


@pytest.mark.skipif(importlib.util.find_spec("ray") is None, reason="ray is not installed (extra greenloop[ray])")
def test_ray_executor_in_local_mode(tmp_path: Path) -> None:
    total, _ = _bench(tmp_path, AGENT_SCRIPT, "--mode", "agent", "--executor", "ray")
    assert (total["tasks"], total["passed"], total["false_green"], total["calls"]) == (3, 1, 0.5, 3)


def _visible_exit(tmp_path: Path, problem: dict, body: str) -> int:
    import subprocess
    import sys

    from greenloop.bench.humaneval import visible_tests
    from greenloop.sandboxes.common import Limits
    from greenloop.sandboxes.select import choose as choose_sandbox
    box, _ = choose_sandbox("auto", Limits())
    (tmp_path / "test_visible.py").write_text(visible_tests(problem, box))
    (tmp_path / "solution.py").write_text(body)
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_visible.py"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    return proc.returncode


def test_visible_tests_keep_the_examples_when_the_docstring_is_dropped(tmp_path: Path) -> None:
    problem = load_problems(task_ids=["2"])[0]
    assert _visible_exit(tmp_path, problem, "def truncate_number(number):\n    return number\n") == 1  # wrong
    assert _visible_exit(tmp_path, problem, "def truncate_number(number):\n    return number % 1.0\n") == 0


@pytest.mark.parametrize("task", ["47", "51", "65", "108", "116", "128", "145", "156", "162"])
def test_the_reference_solution_passes_its_visible_tests(tmp_path: Path, task: str) -> None:
    """Raw doctests fail these references (`f(x) == y` without output, '21' written "21", a docstring that
    does not parse, a wrong example): a visible test the reference fails would make green impossible."""
    problem = load_problems(task_ids=[task])[0]
    assert _visible_exit(tmp_path, problem, problem["prompt"] + problem["canonical_solution"]) == 0


def test_visible_tests_still_catch_a_wrong_program_where_examples_are_equalities(tmp_path: Path) -> None:
    problem = load_problems(task_ids=["108"])[0]  # >>> count_nums([]) == 0, with no output line
    assert _visible_exit(tmp_path, problem, "def count_nums(arr):\n    return 7\n") == 1


def test_program_from_a_bare_body_reply_keeps_the_signature() -> None:
    problem = load_problems(task_ids=["2"])[0]
    program = program_from_reply(problem, "```python\n    return number % 1.0\n```")
    namespace: dict = {}
    exec(compile(program, "candidate", "exec"), namespace)  # noqa: S102 - the test's own fixed program
    assert namespace["truncate_number"](3.5) == 0.5
