"""Daily use through the real CLI: continue and discard a kept run, run-id prefixes."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from conftest import BAD_IMPL, GOOD_IMPL, GOOD_TEST, TASK, cli, git, summary, whole, write_script

from greenloop import record
from greenloop.events import AttemptEvent
from greenloop.trajectory import read_events


def _kept_failed_run(repo: Path, tmp_path: Path) -> dict:
    script = write_script(tmp_path / "first.json", [{"text": whole(impl=BAD_IMPL)}])
    proc = cli("run", TASK, "--repo", str(repo), "--model", f"scripted:{script}", "--max-iterations", "1",
               "--keep-failed")
    assert proc.returncode == 1
    runs = cli("runs", "--repo", str(repo)).stdout.splitlines()
    run_id = runs[-1].split("\t")[0]
    assert f"greenloop run --continue {run_id[-6:]}" in proc.stderr and f"greenloop discard {run_id[-6:]}" in proc.stderr
    assert str(repo / ".git" / "greenloop" / "worktrees" / run_id) in proc.stderr
    assert "last failure:" in proc.stderr and "'--a,-b!--' == 'a-b'" in proc.stderr  # the failing assertion is named
    return {"run_id": run_id, "stderr": proc.stderr, "trajectory": repo / ".git" / "greenloop" / "runs" / run_id / "trajectory.jsonl"}


def test_continue_goes_on_from_the_kept_worktree_and_commits_on_its_branch(repo: Path, tmp_path: Path) -> None:
    kept = _kept_failed_run(repo, tmp_path)
    wt = repo / ".git" / "greenloop" / "worktrees" / kept["run_id"]
    fix = write_script(tmp_path / "fix.json", [{"step": "fix", "text": whole(test=None)}, {"text": "feat: slugify"}])
    proc = cli("run", "--continue", kept["run_id"][:15], "--repo", str(repo), "--model", f"scripted:{fix}",
               "--json", "--max-iterations", "2")
    s = summary(proc)
    assert proc.returncode == 0 and s["status"] == "success", proc.stderr
    assert s["run_id"] == kept["run_id"] and s["attempts"] == 2  # the kept attempt, then this one
    assert git(repo, "show", f"{s['commit']}:tests/test_slug.py") == GOOD_TEST  # the kept test file, committed
    assert git(repo, "rev-parse", s["branch"]).strip() == s["commit"]
    assert not wt.exists() and not (repo / ".git" / "greenloop" / "kept" / f"{kept['run_id']}.json").exists()
    events = list(read_events(kept["trajectory"]))
    assert [e["kind"] for e in events].count("run_end") == 2 and any(e["kind"] == "run_continue" for e in events)
    fix_request = next(e for e in events if e["kind"] == "model_request" and e["step"] == "fix")
    text = json.dumps(fix_request["messages"])
    assert "--a,-b!--" in text and "textkit/slug.py" in text  # the kept failure and files are shown to the model
    listed = cli("runs", "--repo", str(repo)).stdout.splitlines()
    assert len(listed) == 2 and "\tsuccess\t" in listed[1]


def test_a_continued_run_may_not_weaken_the_kept_tests(repo: Path, tmp_path: Path) -> None:
    kept = _kept_failed_run(repo, tmp_path)
    weak = "from textkit.slug import slugify\n\n\ndef test_basic():\n    assert True\n"
    script = write_script(tmp_path / "weak.json", [{"text": whole(test=weak, impl=BAD_IMPL)}])
    s = summary(cli("run", "--continue", kept["run_id"], "--repo", str(repo), "--model", f"scripted:{script}",
                    "--json", "--max-iterations", "1"))
    assert s["status"] == "failed" and s["commit"] is None
    attempt = [e for e in read_events(kept["trajectory"]) if e["kind"] == "attempt"][-1]
    assert attempt["number"] == 2 and "frozen" in attempt["failure"]
    wt = repo / ".git" / "greenloop" / "worktrees" / kept["run_id"]
    assert (wt / "tests" / "test_slug.py").read_text() == GOOD_TEST  # still kept, tests as they were


def test_discard_removes_a_kept_run_and_continue_then_refuses(repo: Path, tmp_path: Path) -> None:
    kept = _kept_failed_run(repo, tmp_path)
    branch = next(b.strip() for b in git(repo, "branch", "--list").splitlines() if "greenloop/" in b)
    proc = cli("discard", kept["run_id"][-6:], "--repo", str(repo))
    assert proc.returncode == 0 and "removed the worktree" in proc.stderr
    assert branch not in git(repo, "branch", "--list")
    assert git(repo, "worktree", "list", "--porcelain").count("worktree ") == 1
    again = cli("run", "--continue", kept["run_id"], "--repo", str(repo), "--model", "scripted:x.json")
    assert again.returncode == 2 and "was not kept" in again.stderr
    assert cli("discard", kept["run_id"], "--repo", str(repo)).returncode == 2


def test_undo_of_a_named_kept_run_discards_it(repo: Path, tmp_path: Path) -> None:
    kept = _kept_failed_run(repo, tmp_path)
    proc = cli("undo", kept["run_id"], "--repo", str(repo))
    assert proc.returncode == 0 and "removed the worktree" in proc.stderr
    assert "greenloop/" not in git(repo, "branch", "--list")


def test_continue_and_a_task_together_is_a_usage_error(repo: Path) -> None:
    proc = cli("run", "do it", "--continue", "abc", "--repo", str(repo))
    assert proc.returncode == 2 and "not both" in proc.stderr


def test_run_ids_by_unique_prefix_or_suffix_and_ambiguity_named(repo: Path, tmp_path: Path) -> None:
    first = _kept_failed_run(repo, tmp_path)["run_id"]
    second = _kept_failed_run(repo, tmp_path)["run_id"]
    assert cli("show", first[-6:], "--repo", str(repo)).stdout.startswith(f"run {first}")
    assert cli("show", second[:-4], "--repo", str(repo)).stdout.startswith(f"run {second}")
    shared = first[:9]  # the date: both runs
    proc = cli("show", shared, "--repo", str(repo))
    assert proc.returncode == 2 and "ambiguous" in proc.stderr and first in proc.stderr and second in proc.stderr


def test_cost_in_dollars_from_the_price_table_and_max_cost_ends_the_run(repo: Path) -> None:
    from fakeserver import FakeServer

    replies = [whole(impl=BAD_IMPL), whole(test=None), "feat(textkit): add slugify"]
    with FakeServer(replies) as server:
        s = summary(cli("run", TASK, "--repo", str(repo), "--model", "openai:gpt-4o-mini", "--base-url",
                        f"{server.url}/v1", "--json", env={"OPENAI_API_KEY": ""}))
    assert s["status"] == "success" and s["usage"]["calls"] == 3
    # 3 calls of 11 input and 7 output tokens at $0.15 / $0.60 per million (genai-prices' table for gpt-4o-mini)
    assert abs(s["usage"]["cost_usd"] - (33 * 0.15 + 21 * 0.60) / 1e6) < 1e-8
    with FakeServer(replies) as server:
        proc = cli("run", TASK, "--repo", str(repo), "--model", "openai:gpt-4o-mini", "--base-url",
                   f"{server.url}/v1", "--json", "--max-cost", "0.000001", env={"OPENAI_API_KEY": ""})
    s = summary(proc)
    assert proc.returncode == 1 and s["status"] == "failed" and s["usage"]["calls"] == 1
    assert "cost budget spent" in s["error"] and s["branch"] is None
    assert git(repo, "branch", "--list", "greenloop/*").count("greenloop/") == 1  # the first run's only


def test_max_cost_with_an_unpriced_model_is_a_usage_error(repo: Path, tmp_path: Path) -> None:
    script = write_script(tmp_path / "s.json", [whole()])
    proc = cli("run", TASK, "--repo", str(repo), "--model", f"scripted:{script}", "--max-cost", "1")
    assert proc.returncode == 2 and "has no known price" in proc.stderr


def test_version_flag_and_runs_table_keeps_the_whole_id(repo: Path, tmp_path: Path) -> None:
    from greenloop import __version__

    proc = cli("--version")
    assert proc.returncode == 0 and proc.stdout.strip() == __version__
    run_id = _kept_failed_run(repo, tmp_path)["run_id"]
    import shlex
    import subprocess
    import sys

    command = shlex.join([sys.executable, "-m", "greenloop", "runs", "--repo", str(repo)])
    tty = subprocess.run(["script", "-qec", f"stty cols 80; {command}", "/dev/null"], capture_output=True,
                         text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert "┏" in tty.stdout and run_id in tty.stdout  # the terminal table, id not cut at 80 columns


def test_plain_progress_lines_without_a_terminal_and_quiet(repo: Path, tmp_path: Path) -> None:
    script = write_script(tmp_path / "s.json", [whole(), "feat: slugify"])
    proc = cli("run", TASK, "--repo", str(repo), "--model", f"scripted:{script}", "--json")
    lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("[")]
    assert proc.returncode == 0 and any("] generate attempt 1" in ln for ln in lines)
    assert any("] test attempt 1" in ln for ln in lines)
    assert all(re.match(r"^\[ *\d+\.\ds\] \w+ attempt \d+", ln) for ln in lines)
    script = write_script(tmp_path / "s2.json", [whole(), "feat: slugify"])
    quiet = cli("run", TASK, "--repo", str(repo), "--model", f"scripted:{script}", "--json", "--quiet")
    assert quiet.returncode == 0 and not any(ln.startswith("[") for ln in quiet.stderr.splitlines())


def test_config_show_names_each_settings_layer(repo: Path, tmp_path: Path) -> None:
    home = tmp_path / "cfg"
    (home / "greenloop").mkdir(parents=True)
    (home / "greenloop" / "config.toml").write_text('model = "openai:gpt-4o-mini"\nmax_calls = 9\n')
    (repo / "pyproject.toml").write_text("[tool.greenloop]\nmax_files = 5\ntest_cmd = \"make\"\n")
    proc = cli("config", "show", "--repo", str(repo), env={"XDG_CONFIG_HOME": str(home), "GREENLOOP_MAX_CALLS": "3"})
    lines = dict(ln.split(" = ", 1) for ln in proc.stdout.splitlines())
    assert proc.returncode == 0
    assert lines["model"].endswith("# user config " + str(home / "greenloop" / "config.toml"))
    assert lines["max_calls"] == "3  # env GREENLOOP_MAX_CALLS"  # env over the user config's 9
    assert lines["max_files"] == "5  # repository" and lines["test_cmd"] == "null  # default"  # untrusted: ignored
    assert lines["max_iterations"] == "5  # default"


def test_show_completion_prints_a_bash_script_that_completes_through_the_real_cli(tmp_path: Path) -> None:
    # typer's own switch: the shell is taken from the argument, not detected from the parent processes (which
    # fails when the suite's parents are no shell, e.g. a CI job started in the background)
    fixed = {"_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"}
    script = cli("--show-completion", "bash", env=fixed, timeout=60)
    assert script.returncode == 0, script.stderr
    assert "complete -o default -F _greenloop_completion greenloop" in script.stdout
    assert "_GREENLOOP_COMPLETE=complete_bash" in script.stdout
    # what the script asks the CLI for when the user presses Tab
    for words, cword, expected in (("greenloop ke", "1", "keys"), ("greenloop keys set op", "3", "openai")):
        done = cli(env={"_GREENLOOP_COMPLETE": "complete_bash", "COMP_WORDS": words, "COMP_CWORD": cword},
                   timeout=60)
        assert done.returncode == 0 and done.stdout.split() == [expected], done.stdout + done.stderr
    home = tmp_path / "home"
    home.mkdir()
    installed = cli("--install-completion", "bash", env={"HOME": str(home), **fixed}, timeout=60)
    assert installed.returncode == 0, installed.stderr
    assert (home / ".bash_completions" / "greenloop.sh").read_text().strip() == script.stdout.strip()
    assert "source '" in (home / ".bashrc").read_text()


def test_unknown_greenloop_variables_are_named_with_the_closest_match(repo: Path) -> None:
    clean = {k: None for k in os.environ if k.startswith("GREENLOOP_")}
    proc = cli("config", "show", "--repo", str(repo), env={
        **clean, "GREENLOOP_MAX_ITERATION": "3", "GREENLOOP_WIBBLE": "1", "GREENLOOP_OPENAI_API_KEY": "sk-x",
        "GREENLOOP_max_calls": "4", "GREENLOOP_CACHE_DIR": "/nonexistent"})
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 0 and "max_calls = 4  # env GREENLOOP_MAX_CALLS" in proc.stdout  # read, not warned
    assert lines == [
        "warning: GREENLOOP_MAX_ITERATION is not a greenloop variable, ignored; did you mean GREENLOOP_MAX_ITERATIONS?",
        "warning: GREENLOOP_OPENAI_API_KEY is not a greenloop variable, ignored; API keys come from OPENAI_API_KEY"
        " / ANTHROPIC_API_KEY or `greenloop keys set PROVIDER`",
        "warning: GREENLOOP_WIBBLE is not a greenloop variable, ignored; the variables are GREENLOOP_<SETTING> for"
        " each setting `greenloop config show` lists, and GREENLOOP_CACHE_DIR, GREENLOOP_BENCH_MODEL_DIR",
    ], proc.stderr
    assert "max_iterations = 5  # default" in proc.stdout


def test_a_continued_run_still_knows_how_the_kept_attempts_met_the_tasks_examples(repo: Path, tmp_path: Path) -> None:
    """The kept attempt's missed example comes back with the run: when the continued attempt fails the task's
    example the same way, the failed run asks to check that example (as an uninterrupted run does, test_best)."""
    task = "Add a slugify(text) helper in textkit/slug.py. Example: slugify('Hello World') == 'hello_world'"
    punct = 'from textkit.slug import slugify\n\n\ndef test_punct():\n    assert slugify("  A, b!  ") == "a-b"\n'
    first = write_script(tmp_path / "first.json", [{"step": "generate", "text": whole(test=punct)}])
    proc = cli("run", task, "--repo", str(repo), "--model", f"scripted:{first}", "--max-iterations", "1",
               "--keep-failed")
    assert proc.returncode == 1, proc.stderr
    run_id = cli("runs", "--repo", str(repo)).stdout.splitlines()[-1].split("\t")[0]
    again = write_script(tmp_path / "again.json",
                         [{"text": f"textkit/slug.py\n```python\n{GOOD_IMPL}# draft {i}\n```"} for i in range(8)])
    s = summary(cli("run", "--continue", run_id, "--repo", str(repo), "--model", f"scripted:{again}", "--json",
                    "--max-iterations", "1"))
    assert s["status"] == "failed" and s["attempts"] == 2, s
    assert [w for w in s["warnings"] if "failed the task's example the same way" in w] == [
        "all 2 programs judged failed the task's example the same way (assert slugify('Hello World') == "
        "'hello_world'; got 'hello-world'): check that example; if it is right, this model does not meet it"], s
    kept_attempt = next(e for e in record.read(Path(s["trajectory"]), strict=True).events if e.kind == "attempt")
    assert isinstance(kept_attempt, AttemptEvent) and kept_attempt.missed == 1  # a declared field, read typed
