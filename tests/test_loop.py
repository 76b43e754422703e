"""The real loop: scripted model, real git, real sandbox, real pytest."""

from __future__ import annotations

from pathlib import Path

from conftest import BAD_IMPL, GOOD_IMPL, TASK, cli, events, git, snapshot, summary, whole, write_script


def test_wrong_first_implementation_is_fixed_from_the_failure_output(repo: Path, tmp_path: Path) -> None:
    script = write_script(tmp_path / "s.json", [
        {"step": "generate", "text": whole(impl=BAD_IMPL)},
        {"step": "fix", "text": "Here is the fix:\n```json\n" + whole(test=None) + "\n```"},
        {"step": "commit_message", "text": "feat(textkit): add slugify helper\n\nWords joined by dashes."},
    ])
    before = snapshot(repo)
    proc = cli("run", TASK, "--repo", str(repo), "--model", f"scripted:{script}", "--json")
    assert proc.returncode == 0, proc.stderr
    s = summary(proc)
    assert s["status"] == "success" and s["attempts"] == 2
    assert s["tests"] == {"passed": 2, "failed": 0, "new_passed": 2, "new_failed": 0, "baseline_passed": 0, "regressions": 0}
    assert s["files"] == ["tests/test_slug.py", "textkit/slug.py"]
    assert s["usage"]["calls"] == 4 and s["usage"]["input_tokens"] > 0  # test design, generate, fix, message
    assert snapshot(repo) == before  # the user's checkout is untouched
    assert git(repo, "rev-parse", f"{s['commit']}^").strip() == git(repo, "rev-parse", "main").strip()
    assert git(repo, "show", f"{s['commit']}:textkit/slug.py") == GOOD_IMPL
    message = git(repo, "log", "-1", "--format=%B", s["commit"])
    assert message.startswith("feat(textkit): add slugify helper")
    assert "Generated-by: greenloop" in message and "tests/test_slug.py" in message
    assert git(repo, "log", "-1", "--format=%an|%cn", s["commit"]).strip() == "Dev|greenloop"
    evs = events(s["trajectory"])
    assert evs[0]["kind"] == "run_start" and evs[0]["prompt_version"] and "config" in evs[0]
    fix_request = next(e for e in evs if e["kind"] == "model_request" and e["step"] == "fix")
    fix_prompt = fix_request["messages"][-1]["content"]
    assert "assert '--a,-b!--' == 'a-b'" in fix_prompt  # the failure output reached the model
    assert "attempt 1 (generate)" in fix_prompt  # and the attempt history
    tests = [e for e in evs if e["kind"] == "test_run"]
    assert [t["exit_code"] for t in tests] == [1, 0] and "pytest" in " ".join(tests[0]["command"])
    assert all({"ts", "run_id", "step", "kind"} <= set(e) for e in evs)


def test_unparseable_reply_is_a_failed_attempt_and_recovers(repo: Path, tmp_path: Path) -> None:
    script = write_script(tmp_path / "s.json", [
        {"step": "generate", "text": "Sure! I would write a slugify function that lowercases things."},
        {"step": "fix", "text": whole()},
        {"step": "commit_message", "text": "not a conventional message"},
    ])
    proc = cli("run", TASK, "--repo", str(repo), "--model", f"scripted:{script}", "--json")
    s = summary(proc)
    assert proc.returncode == 0 and s["status"] == "success" and s["attempts"] == 2
    evs = events(s["trajectory"])
    fix_prompt = next(e for e in evs if e["kind"] == "model_request" and e["step"] == "fix")["messages"][-1]["content"]
    assert "No file edits found in the reply" in fix_prompt
    assert git(repo, "log", "-1", "--format=%s", s["commit"]).startswith("feat: Add a slugify")  # template


def test_budget_exhausted_ends_failed_with_repository_untouched(repo: Path, tmp_path: Path) -> None:
    (repo / "notes.txt").write_text("uncommitted work\n")
    script = write_script(tmp_path / "s.json", [{"text": whole(impl=BAD_IMPL)}] * 5)
    before = snapshot(repo)
    proc = cli("run", TASK, "--repo", str(repo), "--model", f"scripted:{script}", "--json", "--max-calls", "2")
    s = summary(proc)
    assert proc.returncode == 1 and s["status"] == "failed"
    assert "call budget spent" in s["error"] and s["usage"]["calls"] == 2 and s["branch"] is None
    assert snapshot(repo) == before
    assert "greenloop/" not in git(repo, "branch", "--list")


def test_max_iterations_ends_failed(repo: Path, tmp_path: Path) -> None:
    script = write_script(tmp_path / "s.json", [{"text": whole(impl=BAD_IMPL)}] * 3)
    proc = cli("run", TASK, "--repo", str(repo), "--model", f"scripted:{script}", "--json", "--max-iterations", "2")
    s = summary(proc)
    assert proc.returncode == 1 and s["status"] == "failed" and s["attempts"] == 2
    assert "still failing after 2 attempt(s)" in s["error"] and s["tests"]["failed"] == 1


def test_the_same_failure_again_leads_to_a_rewrite_request(repo: Path, tmp_path: Path) -> None:
    variant = BAD_IMPL.replace("return", "# the same idea again\n    return")
    script = write_script(tmp_path / "s.json", [
        {"step": "generate", "text": whole(impl=BAD_IMPL)},
        {"step": "fix", "text": whole(test=None, impl=variant)},
        # the same failure again in a task with no example: agreement samples once; the same program is no witness
        {"step": "generate", "text": whole(test=None, impl=BAD_IMPL + "\n# sampled\n")},
        {"step": "fix", "text": whole(test=None, impl=BAD_IMPL)},  # the same failure as attempt 1
        {"step": "rewrite", "text": whole()},
        {"step": "commit_message", "text": "feat: add slugify"},
    ])
    proc = cli("run", TASK, "--repo", str(repo), "--model", f"scripted:{script}", "--json",
               env={"GREENLOOP_PATIENCE": "5"})  # no early stop: three attempts in a row score the same
    s = summary(proc)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    steps = [e["step"] for e in events(s["trajectory"]) if e["kind"] == "model_request"]
    assert steps == ["test_design", "generate", "fix", "generate", "fix", "rewrite", "commit_message"]
    rewrite = next(e for e in events(s["trajectory"]) if e["kind"] == "model_request"
                   and e["step"] == "rewrite")["messages"][-1]["content"]
    assert "Start from scratch" in rewrite


def test_syntax_error_never_reaches_the_test_runner(repo: Path, tmp_path: Path) -> None:
    broken = "def slugify(text):\n    return (text.lower()\n\nx = 1\n"
    script = write_script(tmp_path / "s.json", [
        {"step": "generate", "text": whole(impl=broken)},
        {"step": "fix", "text": whole(test=None)},
        {"step": "commit_message", "text": "feat: add slugify"},
    ])
    s = summary(cli("run", TASK, "--repo", str(repo), "--model", f"scripted:{script}", "--json"))
    evs = events(s["trajectory"])
    assert s["status"] == "success"
    assert len([e for e in evs if e["kind"] == "test_run"]) == 1  # only after the fix
    fix_prompt = next(e for e in evs if e["kind"] == "model_request" and e["step"] == "fix")["messages"][-1]["content"]
    assert "textkit/slug.py:2:" in fix_prompt and "SyntaxError" in fix_prompt
    validation = [e for e in evs if e["kind"] == "validation"][0]
    assert validation["written"] == ["tests/test_slug.py"]  # the valid test landed, the broken file did not


def test_hostile_paths_are_refused_while_legitimate_files_succeed(repo: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (repo / "link").symlink_to(outside)
    git(repo, "add", "link")
    git(repo, "commit", "-qm", "link")
    hostile = {"../x.py": "X = 1\n", str(tmp_path / "abs.py"): "X = 1\n", "link/escape.py": "X = 1\n",
               ".git/hooks/x.py": "X = 1\n", ".env": "SECRET=1\n", ".github/workflows/ci.yml": "on: push\n"}
    script = write_script(tmp_path / "s.json", [
        {"step": "generate", "text": whole(**hostile)},
        {"step": "commit_message", "text": "feat: add slugify"},
    ])
    s = summary(cli("run", TASK, "--repo", str(repo), "--model", f"scripted:{script}", "--json"))
    assert s["status"] == "success", s
    assert s["files"] == ["tests/test_slug.py", "textkit/slug.py"]
    assert sum("refused" in w for w in s["warnings"]) == len(hostile)
    assert not (tmp_path / "x.py").exists() and not (tmp_path / "abs.py").exists()
    assert list(outside.iterdir()) == []
    assert not (repo / ".git" / "hooks" / "x.py").exists() and not (repo / ".env").exists()
    tree = git(repo, "ls-tree", "-r", "--name-only", s["commit"])
    assert ".env" not in tree and ".github" not in tree and "x.py" not in tree


def test_failed_edits_twice_ask_for_whole_files(repo: Path, tmp_path: Path) -> None:
    bad_block = "textkit/slug.py\n<<<<<<< SEARCH\nnothing like this\n=======\nx = 1\n>>>>>>> REPLACE\n"
    script = write_script(tmp_path / "s.json", [
        {"step": "generate", "text": whole(impl=BAD_IMPL)},
        {"step": "fix", "text": bad_block},
        {"step": "fix", "text": bad_block},
        {"step": "fix", "text": whole(test=None)},
        {"step": "commit_message", "text": "feat: add slugify"},
    ])
    s = summary(cli("run", TASK, "--repo", str(repo), "--model", f"scripted:{script}", "--json"))
    assert s["status"] == "success"
    requests = [e for e in events(s["trajectory"]) if e["kind"] == "model_request" and e["step"] == "fix"]
    assert "did not match. Did you mean" in requests[1]["messages"][-1]["content"]
    assert "Send every file you change whole" in requests[2]["messages"][-1]["content"]
    assert "prefer SEARCH/REPLACE" in requests[0]["messages"][-1]["content"]


def test_search_replace_fix_applies_to_the_written_file(repo: Path, tmp_path: Path) -> None:
    block = ("textkit/slug.py\n<<<<<<< SEARCH\n    return text.lower().replace(\" \", \"-\")\n=======\n"
             "    import re\n    return re.sub(r\"[^a-z0-9]+\", \"-\", text.lower()).strip(\"-\")\n>>>>>>> REPLACE\n")
    script = write_script(tmp_path / "s.json", [
        {"step": "generate", "text": whole(impl=BAD_IMPL)}, {"step": "fix", "text": block},
        {"step": "commit_message", "text": "fix: slugify punctuation"}])
    s = summary(cli("run", TASK, "--repo", str(repo), "--model", f"scripted:{script}", "--json"))
    assert s["status"] == "success" and s["attempts"] == 2
    edits = [e for e in events(s["trajectory"]) if e["kind"] == "edits"]
    assert edits[-1]["format"] == "search_replace" and "+    import re" in edits[-1]["diffs"]["textkit/slug.py"]


def test_script_exhausted_is_an_error_and_cleans_up(repo: Path, tmp_path: Path) -> None:
    script = write_script(tmp_path / "s.json", [{"text": whole(impl=BAD_IMPL)}])
    before = snapshot(repo)
    s = summary(cli("run", TASK, "--repo", str(repo), "--model", f"scripted:{script}", "--json"))
    assert s["status"] == "error" and "no reply left" in s["error"]
    assert snapshot(repo) == before and "greenloop/" not in git(repo, "branch", "--list")


def test_human_output_without_json(repo: Path, tmp_path: Path) -> None:
    script = write_script(tmp_path / "s.json", [{"text": whole()}, {"text": "feat: add slugify"}])
    proc = cli("run", TASK, "--repo", str(repo), "--model", f"scripted:{script}")
    assert proc.returncode == 0
    assert "success after 1 attempt(s)" in proc.stderr and "trajectory:" in proc.stderr


def test_a_reply_that_changes_nothing_makes_the_next_call_sample(repo: Path, tmp_path: Path) -> None:
    """With an example the code meets (and agreement off), the fix is asked again at retry_temperature; without
    one, fresh drafts are sampled instead (test_redraft.py)."""
    script = write_script(tmp_path / "s.json", [
        {"step": "generate", "text": whole(impl=BAD_IMPL)},
        {"step": "fix", "text": whole(test=None, impl=BAD_IMPL)},  # no change: a greedy model's fixed point
        {"step": "fix", "text": whole(test=None)},
        {"step": "commit_message", "text": "feat: add slugify"},
    ])
    s = summary(cli("run", TASK + ". Example: slugify('Hello World') == 'hello-world'", "--repo", str(repo),
                    "--model", f"scripted:{script}", "--json", env={"GREENLOOP_AGREEMENT": "false"}))
    assert s["status"] == "success" and s["attempts"] == 3
    requests = [e for e in events(s["trajectory"]) if e["kind"] == "model_request"]
    assert [r["temperature"] for r in requests] == [None, None, None, 0.7, None]  # test design first
    attempts = [e for e in events(s["trajectory"]) if e["kind"] == "attempt"]
    assert attempts[1]["outcome"] == "unchanged" and "changes no file" in attempts[1]["errors"][0]
    third = requests[3]["messages"][-1]["content"]  # the test failure is still shown, not only "changes no file"
    assert "changes no file" in third and "The code still fails as before" in third and "AssertionError" in third
