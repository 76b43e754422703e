"""A strong and a weak test suite for the same implementation get clearly different mutation scores."""

from __future__ import annotations

from pathlib import Path

from conftest import cli, git, summary, whole, write_script

IMPL = ('def clamp(x, lo, hi):\n    if x < lo:\n        return lo\n    if x > hi:\n        return hi\n'
        '    return x\n')
HEAD = "from textkit.slug import clamp\n\n\n"
STRONG = HEAD + ("def test_inside():\n    assert clamp(5, 0, 10) == 5\n\n\ndef test_low():\n    assert clamp(-1, 0, 10) == 0\n"
                 "\n\ndef test_high():\n    assert clamp(11, 0, 10) == 10\n\n\ndef test_edges():\n"
                 "    assert clamp(0, 0, 10) == 0 and clamp(10, 0, 10) == 10\n")
WEAK = HEAD + "def test_inside():\n    assert clamp(5, 0, 10) == 5\n"


def _mutation(repo: Path, tmp_path: Path, test: str) -> dict:
    script = write_script(tmp_path / f"s{len(test)}.json", [whole(test=test, impl=IMPL)])
    s = summary(cli("run", "Add clamp(x, lo, hi) in textkit/slug.py", "--repo", str(repo), "--model",
                    f"scripted:{script}", "--json", env={"GREENLOOP_MUTATION_BUDGET_S": "120"}))
    assert s["status"] == "success", s
    return s["quality"]["mutation"]


def test_strong_tests_kill_more_mutants_than_weak_ones(repo: Path, tmp_path: Path) -> None:
    strong, weak = _mutation(repo, tmp_path, STRONG), _mutation(repo, tmp_path, WEAK)
    assert strong["total"] == weak["total"] == 5 and strong["not_run"] == 0
    assert strong["score"] == 1.0 and weak["score"] <= 0.6, (strong, weak)
    assert weak["survivors"] and all(line.startswith("textkit/slug.py:") for line in weak["survivors"])


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
