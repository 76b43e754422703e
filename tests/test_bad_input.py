"""Bad input: a one-line error naming the fix, exit 2, nothing written."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import TASK, cli, git, snapshot, summary, wait_until_testing, whole, write_script


def _assert_usage_error(proc: subprocess.CompletedProcess, fragment: str) -> None:
    assert proc.returncode == 2, proc.stderr
    lines = [ln for ln in proc.stderr.strip().splitlines() if ln.strip()]
    assert len(lines) == 1 and fragment in lines[0], proc.stderr
    assert summary(proc)["status"] == "error"


def test_not_a_git_repository(tmp_path: Path) -> None:
    proc = cli("run", TASK, "--repo", str(tmp_path), "--model", "scripted:x.json", "--json")
    _assert_usage_error(proc, "is not a git repository; run `git init`")
    assert list(tmp_path.iterdir()) == []


def test_bare_repository(tmp_path: Path, repo: Path) -> None:
    bare = tmp_path / "bare.git"
    git(tmp_path, "clone", "-q", "--bare", str(repo), str(bare))
    write_script(tmp_path / "s.json", [whole()])
    proc = cli("run", TASK, "--repo", str(bare), "--model", f"scripted:{tmp_path / 's.json'}", "--json")
    _assert_usage_error(proc, "bare repository")
    assert not (bare / "greenloop").exists()


def test_repository_without_commits(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q")
    write_script(tmp_path / "s.json", [whole()])
    proc = cli("run", TASK, "--repo", str(tmp_path), "--model", f"scripted:{tmp_path / 's.json'}", "--json")
    _assert_usage_error(proc, "has no commits yet")


@pytest.mark.parametrize("spec, fragment", [
    ("gpt4", "unknown model spec 'gpt4'"),
    ("openai:", "needs a name after the colon"),
    ("scripted:/nonexistent.json", "no such file"),
    ("local:/nonexistent.gguf", "no such file"),
])
def test_bad_model_spec(repo: Path, spec: str, fragment: str) -> None:
    before = snapshot(repo)
    _assert_usage_error(cli("run", TASK, "--repo", str(repo), "--model", spec, "--json"), fragment)
    assert snapshot(repo) == before and not (repo / ".git" / "greenloop").exists()


def test_missing_api_keys(repo: Path, tmp_path: Path) -> None:
    env = {"OPENAI_API_KEY": "", "OPENAI_BASE_URL": "", "ANTHROPIC_API_KEY": "",
           "XDG_CONFIG_HOME": str(tmp_path / "xdg")}  # no key stored there either
    _assert_usage_error(cli("run", TASK, "--repo", str(repo), "--model", "openai:gpt-4o", "--json", env=env),
                        "OPENAI_API_KEY is not set")
    _assert_usage_error(cli("run", TASK, "--repo", str(repo), "--model", "anthropic:claude", "--json", env=env),
                        "ANTHROPIC_API_KEY is not set")
    assert not (repo / ".git" / "greenloop").exists()


def test_unreachable_server(repo: Path) -> None:
    before = snapshot(repo)
    proc = cli("run", TASK, "--repo", str(repo), "--model", "openai:m", "--base-url", "http://127.0.0.1:9/v1",
                "--json")
    _assert_usage_error(proc, "cannot reach the model server at http://127.0.0.1:9/v1")
    assert snapshot(repo) == before and not (repo / ".git" / "greenloop" / "runs").exists()


def test_empty_task(repo: Path) -> None:
    _assert_usage_error(cli("run", "   ", "--repo", str(repo), "--json"), "the task is empty")


def test_bad_configuration_value(repo: Path) -> None:
    (repo / "pyproject.toml").write_text("[tool.greenloop]\nmax_iterations = 0\n")
    proc = cli("run", TASK, "--repo", str(repo), "--model", "scripted:x", "--json")
    _assert_usage_error(proc, "[tool.greenloop] in pyproject.toml: max_iterations")
    proc = cli("run", TASK, "--repo", str(repo), "--json", env={"GREENLOOP_SANDBOX": "docker"})
    assert proc.returncode == 2


def test_settings_layers(repo: Path) -> None:
    from greenloop.config import load_settings
    (repo / "pyproject.toml").write_text("[tool.greenloop]\nmax_iterations = 3\ntest_timeout = 30\n")
    s = load_settings(repo, {"test_timeout": 7}, environ={"GREENLOOP_MAX_ITERATIONS": "4"})
    assert (s.max_iterations, s.test_timeout) == (4, 7)
    assert load_settings(repo, {}, environ={}).max_iterations == 3
    listed = load_settings(repo, {}, environ={"GREENLOOP_PROTECTED_PATHS": "tests/*, spec/a.py"})
    assert listed.protected_paths == ("tests/*", "spec/a.py")


def test_ctrl_c_stops_cleans_up_and_exits_130(repo: Path, tmp_path: Path) -> None:
    slow_test = "import time\n\n\ndef test_slow():\n    time.sleep(60)\n"
    write_script(tmp_path / "s.json", [whole(test=slow_test)])
    (repo / "wip.txt").write_text("uncommitted\n")
    before = snapshot(repo)
    proc = subprocess.Popen([sys.executable, "-m", "greenloop", "run", TASK, "--repo", str(repo), "--model",
                             f"scripted:{tmp_path / 's.json'}", "--json"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            # as at a terminal: a suite started in the background (`nohup ... &`) ignores SIGINT,
                            # and the child would inherit that
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    wait_until_testing(repo)
    proc.send_signal(signal.SIGINT)
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "interrupted" in err
    assert snapshot(repo) == before
    assert "greenloop/" not in git(repo, "branch", "--list")
    assert not list((repo / ".git" / "greenloop" / "worktrees").iterdir())
