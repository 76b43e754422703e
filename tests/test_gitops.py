"""Git safety: the user's checkout is never touched; clean-up after failure and SIGKILL; undo."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import BAD_IMPL, GOOD_IMPL, TASK, cli, git, snapshot, summary, wait_until_testing, whole, write_script
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from greenloop import loop
from greenloop.config import load_settings
from greenloop.models.scripted import FunctionModel
from greenloop.sandboxes.common import Limits
from greenloop.sandboxes.select import choose


def make_busy(repo: Path) -> None:
    """A developer in the middle of work: feature branch, staged change, unstaged change, untracked file."""
    git(repo, "checkout", "-q", "-b", "feature/wip")
    (repo / "README.md").write_text("# textkit\nstaged edit\n")
    git(repo, "add", "README.md")
    (repo / "README.md").write_text("# textkit\nstaged edit\nunstaged edit\n")
    (repo / "scratch.py").write_text("print('untracked')\n")
    (repo / "textkit" / "__init__.py").write_text("VERSION = 'dirty'\n")
    (repo / "textkit" / "slug.py").write_text("# the user's own untracked draft\n")
    git(repo, "stash", "push", "-q", "--", "textkit/__init__.py")
    (repo / "textkit" / "__init__.py").write_text("VERSION = 'dirty again'\n")


def no_leftovers(repo: Path) -> None:
    assert git(repo, "worktree", "list", "--porcelain").count("worktree ") == 1
    wts = repo / ".git" / "greenloop" / "worktrees"
    assert not wts.exists() or list(wts.iterdir()) == []
    active = repo / ".git" / "greenloop" / "active"
    assert not active.exists() or list(active.iterdir()) == []
    assert not list((repo / ".git").glob("**/*.lock"))


def test_success_on_a_busy_checkout_changes_nothing_of_the_user(repo: Path, tmp_path: Path) -> None:
    make_busy(repo)
    head = git(repo, "rev-parse", "HEAD").strip()
    before = snapshot(repo)
    script = write_script(tmp_path / "s.json", [{"text": whole()}, {"text": "feat: add slugify"}])
    s = summary(cli("run", TASK, "--repo", str(repo), "--model", f"scripted:{script}", "--json"))
    assert s["status"] == "success"
    assert snapshot(repo) == before
    assert git(repo, "rev-parse", f"{s['commit']}^").strip() == head  # parent is the user's HEAD
    assert git(repo, "show", f"{s['commit']}:textkit/slug.py") == GOOD_IMPL
    no_leftovers(repo)


def test_failed_run_on_a_busy_checkout_changes_nothing(repo: Path, tmp_path: Path) -> None:
    make_busy(repo)
    before = snapshot(repo)
    branches = git(repo, "branch", "--list")
    script = write_script(tmp_path / "s.json", [{"text": whole(impl=BAD_IMPL)}])
    s = summary(cli("run", TASK, "--repo", str(repo), "--model", f"scripted:{script}", "--json", "--max-iterations", "1"))
    assert s["status"] == "failed" and s["branch"] is None
    assert snapshot(repo) == before and git(repo, "branch", "--list") == branches
    no_leftovers(repo)


def test_keep_failed_keeps_worktree_and_branch(repo: Path, tmp_path: Path) -> None:
    script = write_script(tmp_path / "s.json", [{"text": whole(impl=BAD_IMPL)}])
    s = summary(cli("run", TASK, "--repo", str(repo), "--model", f"scripted:{script}", "--json",
                    "--max-iterations", "1", "--keep-failed"))
    assert s["status"] == "failed" and s["branch"].startswith("greenloop/")
    assert s["branch"] in git(repo, "branch", "--list")
    wt = repo / ".git" / "greenloop" / "worktrees" / s["run_id"]
    assert (wt / "textkit" / "slug.py").read_text() == BAD_IMPL
    # a later run does not prune a kept run
    script2 = write_script(tmp_path / "s2.json", [{"text": whole()}, {"text": "feat: x"}])
    assert summary(cli("run", TASK, "--repo", str(repo), "--model", f"scripted:{script2}", "--json"))["status"] == "success"
    assert s["branch"] in git(repo, "branch", "--list")


def test_sigkill_mid_run_is_cleaned_up_at_the_next_start(repo: Path, tmp_path: Path) -> None:
    make_busy(repo)
    before = snapshot(repo)
    slow = "import time\n\n\ndef test_slow():\n    time.sleep(30)\n"
    write_script(tmp_path / "slow.json", [{"text": whole(test=slow)}])
    proc = subprocess.Popen([sys.executable, "-m", "greenloop", "run", TASK, "--repo", str(repo), "--model",
                             f"scripted:{tmp_path / 'slow.json'}", "--json"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    wait_until_testing(repo)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert git(repo, "worktree", "list").count("\n") == 2  # the killed run's worktree is still there
    time.sleep(1.0)
    ps = subprocess.run(["ps", "-eo", "stat=,args="], capture_output=True, text=True, timeout=10).stdout
    assert not [ln for ln in ps.splitlines() if "time.sleep" in ln or ("pytest" in ln and "test_slug" in ln and not ln.startswith("Z"))]
    script = write_script(tmp_path / "s.json", [{"text": whole()}, {"text": "feat: add slugify"}])
    s = summary(cli("run", TASK, "--repo", str(repo), "--model", f"scripted:{script}", "--json"))
    assert s["status"] == "success"
    assert snapshot(repo) == before
    assert [b for b in git(repo, "branch", "--list").split() if b.startswith("greenloop/")] == [s["branch"]]
    no_leftovers(repo)


def test_detached_head_and_from_ref(repo: Path, tmp_path: Path) -> None:
    first = git(repo, "rev-parse", "HEAD").strip()
    (repo / "later.txt").write_text("x\n")
    git(repo, "add", "later.txt")
    git(repo, "commit", "-qm", "later")
    git(repo, "checkout", "-q", "--detach", "HEAD")
    script = write_script(tmp_path / "s.json", [{"text": whole()}, {"text": "feat: x"}])
    s = summary(cli("run", TASK, "--repo", str(repo), "--model", f"scripted:{script}", "--json", "--from", first))
    assert s["status"] == "success" and git(repo, "rev-parse", f"{s['commit']}^").strip() == first
    bad = cli("run", TASK, "--repo", str(repo), "--model", f"scripted:{script}", "--json", "--from", "nope")
    assert bad.returncode == 2 and "--from nope: not a commit" in bad.stderr


def test_hooks_do_not_run_unless_verify(repo: Path, tmp_path: Path) -> None:
    marker = tmp_path / "hook-ran"
    hook = repo / ".git" / "hooks" / "pre-commit"
    hook.write_text(f"#!/bin/sh\ntouch {marker}\n")
    hook.chmod(0o755)
    post = repo / ".git" / "hooks" / "post-checkout"
    post.write_text(f"#!/bin/sh\ntouch {marker}-checkout\n")
    post.chmod(0o755)
    script = write_script(tmp_path / "s.json", [{"text": whole()}, {"text": "feat: x"}] * 2)
    assert summary(cli("run", TASK, "--repo", str(repo), "--model", f"scripted:{script}", "--json"))["status"] == "success"
    assert not marker.exists() and not Path(f"{marker}-checkout").exists()
    script = write_script(tmp_path / "s2.json", [{"text": whole()}, {"text": "feat: x"}])
    assert summary(cli("run", TASK, "--repo", str(repo), "--model", f"scripted:{script}", "--json", "--verify"))["status"] == "success"
    assert marker.exists()


def test_undo_removes_the_branch_and_nothing_else(repo: Path, tmp_path: Path) -> None:
    script = write_script(tmp_path / "s.json", [{"text": whole()}, {"text": "feat: x"}])
    s = summary(cli("run", TASK, "--repo", str(repo), "--model", f"scripted:{script}", "--json"))
    before = snapshot(repo)
    other_branches = [b for b in git(repo, "branch", "--list").split() if b != s["branch"]]
    proc = cli("undo", "--repo", str(repo))
    assert proc.returncode == 0 and s["branch"] in proc.stderr
    assert s["branch"] not in git(repo, "branch", "--list")
    assert [b for b in git(repo, "branch", "--list").split()] == other_branches
    assert snapshot(repo) == before
    again = cli("undo", s["run_id"], "--repo", str(repo))
    assert again.returncode == 2 and "already undone" in again.stderr
    listing = cli("runs", "--repo", str(repo))
    assert s["run_id"] in listing.stdout and "undone" in listing.stdout


def test_undo_refuses_a_moved_or_merged_branch(repo: Path, tmp_path: Path) -> None:
    script = write_script(tmp_path / "s.json", [{"text": whole()}, {"text": "feat: x"}])
    shout = "from textkit.slug import shout\n\n\ndef test_shout():\n    assert shout('a') == 'A'\n"
    script2 = write_script(tmp_path / "s2.json", [  # run 1's test is the project's own now: a new test file
        {"text": whole(test=None, impl=GOOD_IMPL + "\n\ndef shout(t):\n    return t.upper()\n",
                       **{"tests/test_shout.py": shout})}, {"text": "feat: y"}])
    s1 = summary(cli("run", TASK, "--repo", str(repo), "--model", f"scripted:{script}", "--json"))
    git(repo, "merge", "-q", "--ff-only", s1["branch"])
    proc = cli("undo", s1["run_id"], "--repo", str(repo))
    assert proc.returncode == 2 and "already merged into main" in proc.stderr
    assert s1["branch"] in git(repo, "branch", "--list")
    s2 = summary(cli("run", TASK + " again", "--repo", str(repo), "--model", f"scripted:{script2}", "--json"))
    git(repo, "checkout", "-q", s2["branch"])
    (repo / "extra.txt").write_text("mine\n")
    git(repo, "add", "extra.txt")
    git(repo, "commit", "-qm", "mine")
    git(repo, "checkout", "-q", "main")
    proc = cli("undo", s2["run_id"], "--repo", str(repo))
    assert proc.returncode == 2 and "has moved since the run" in proc.stderr


def test_show_prints_the_story(repo: Path, tmp_path: Path) -> None:
    script = write_script(tmp_path / "s.json", [{"text": whole(impl=BAD_IMPL)}, {"text": whole(test=None)}, {"text": "feat: x"}])
    s = summary(cli("run", TASK, "--repo", str(repo), "--model", f"scripted:{script}", "--json"))
    out = cli("show", s["run_id"][-6:], "--repo", str(repo)).stdout
    assert "attempt 1 (generate): tests_failed" in out and "attempt 2 (fix): passed" in out
    assert f"commit {s['commit'][:12]}" in out and "+++ b/textkit/slug.py" in out


FAST_TEST = ('from textkit.slug import slugify\n\n\ndef test_basic():\n    assert slugify("A, b!") == "a-b"\n\n\n'
             'if __name__ == "__main__":\n    test_basic()\n    print("1 passed in 0.01s")\n')


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(["run", "fail", "undo", "dirty"]), min_size=1, max_size=4))
def test_property_random_run_fail_undo_sequences_leave_no_trace(tmp_path_factory: pytest.TempPathFactory,
                                                                 ops: list[str]) -> None:
    root = tmp_path_factory.mktemp("prop")
    (root / "textkit").mkdir()
    (root / "textkit" / "__init__.py").write_text("")
    git(root, "init", "-q", "-b", "main")
    git(root, "-c", "user.name=a", "-c", "user.email=a@b", "commit", "-q", "--allow-empty", "-m", "i")
    git(root, "add", "-A")
    git(root, "-c", "user.name=a", "-c", "user.email=a@b", "commit", "-q", "-m", "pkg")
    box, _ = choose("auto", Limits())
    cfg = load_settings(root, {"max_iterations": 1, "test_cmd": f"{sys.executable} tests/test_slug.py"})
    done: list[str] = []
    for i, op in enumerate(ops):
        if op == "dirty":
            (root / f"user-{i}.txt").write_text("user work\n")
            continue
        before = snapshot(root)
        if op == "undo":
            proc = cli("undo", "--repo", str(root))
            assert proc.returncode == (0 if done else 2)
            if done:
                done.pop()
        else:
            impl = GOOD_IMPL if op == "run" else BAD_IMPL
            model = FunctionModel(lambda m, step, impl=impl: whole(test=FAST_TEST, impl=impl) if step != "commit_message" else "feat: x")
            result = loop.run(TASK, root, cfg, model, box)
            assert result.status == ("success" if op == "run" else "failed")
            if result.status == "success":
                done.append(result.branch or "")
        assert snapshot(root) == before
        no_leftovers(root)
        assert sorted(b for b in git(root, "branch", "--list").split() if b.startswith("greenloop/")) == sorted(done)


def test_read_only_repository_is_refused(repo: Path, tmp_path: Path) -> None:
    greenloop_dir = repo / ".git" / "greenloop"
    greenloop_dir.mkdir()
    (greenloop_dir / "runs").mkdir()
    # A read-only bind mount is what a read-only file system looks like to greenloop; root ignores mode bits.
    script = write_script(tmp_path / "s.json", [{"text": whole()}])
    ro = subprocess.run(["bwrap", "--dev-bind", "/", "/", "--ro-bind", str(repo / ".git"), str(repo / ".git"), "--",
                         sys.executable, "-m", "greenloop", "run", TASK, "--repo", str(repo), "--model",
                         f"scripted:{script}", "--json"], capture_output=True, text=True, timeout=120)
    if "bwrap:" in ro.stderr:
        pytest.skip(f"cannot make a read-only mount here: {ro.stderr.strip()}")
    assert ro.returncode == 2 and "run greenloop on a writable clone" in ro.stderr
    assert json.loads(ro.stdout.strip().splitlines()[-1])["status"] == "error"
