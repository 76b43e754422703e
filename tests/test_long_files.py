"""Long files: shown as an outline, edited by SEARCH/REPLACE, never truncated into a commit."""

from __future__ import annotations

from pathlib import Path

from conftest import cli, events, git, summary, write_script

TASK = "In textkit/big.py, make scale(x) return x * 3 instead of x * 2."
SCALE = "def scale(x):\n    return x * 2\n"
TEST = "tests/test_big.py\n```python\nfrom textkit.big import scale\n\n\ndef test_scale():\n    assert scale(2) == 6\n```\n"
SR = "textkit/big.py\n<<<<<<< SEARCH\ndef scale(x):\n    return x * 2\n=======\ndef scale(x):\n    return x * 3\n>>>>>>> REPLACE\n"


def _big(repo: Path) -> str:
    note = "  # kept as the old interface had it, see the changelog"
    head = "".join(f"def fn_{i}(x):\n    return x + {i}{note}\n\n\n" for i in range(112))
    tail = "".join(f"def fn_{i}(x):\n    return x - {i}{note}\n\n\n" for i in range(112, 224))
    text = '"""A long module."""\n\n\n' + head + SCALE + "\n\n" + tail.rstrip("\n") + "\n"
    (repo / "textkit" / "big.py").write_text(text)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "big module")
    return text


def _run(repo: Path, tmp_path: Path, replies: list[dict]) -> dict:
    script = write_script(tmp_path / "s.json", replies)
    proc = cli("run", TASK, "--repo", str(repo), "--model", f"scripted:{script}", "--json")
    assert proc.stdout.strip(), proc.stderr
    return summary(proc)


def _requests(s: dict, step: str) -> list[str]:
    return [e["messages"][-1]["content"] for e in events(s["trajectory"])
            if e["kind"] == "model_request" and e["step"] == step]


def test_one_search_replace_edit_of_a_900_line_module_is_committed_and_nothing_else_changes(
        repo: Path, tmp_path: Path) -> None:
    original = _big(repo)
    assert original.count("\n") > 900 and len(original) > 12_000  # over the prompt's budget for one file
    s = _run(repo, tmp_path, [{"step": "generate", "text": SR + "\n" + TEST},
                              {"step": "commit_message", "text": "fix(big): scale by three"}])
    assert s["status"] == "success", s
    committed = git(repo, "show", f"{s['commit']}:textkit/big.py")
    assert committed == original.replace("    return x * 2\n", "    return x * 3\n")
    old_lines, new_lines = original.split("\n"), committed.split("\n")
    assert len(old_lines) == len(new_lines)
    assert [n for n, (a, b) in enumerate(zip(old_lines, new_lines, strict=True)) if a != b] == \
        [old_lines.index("def scale(x):") + 1]  # every other line byte-identical
    prompt = _requests(s, "generate")[0]
    assert "textkit/big.py has 901 lines" in prompt and "never send this file whole" in prompt
    assert "def scale(x):" in prompt and "return x - 223" not in prompt  # the asked-about definition, not all


def test_a_truncated_whole_file_reply_is_completed_from_the_users_file_and_never_committed_short(
        repo: Path, tmp_path: Path) -> None:
    """A copy cut after 50 of 225 functions, then the changed one: what it left out is the user's and is put
    back in its place (omitted.py), so the commit is the file with only the asked change."""
    original = _big(repo)
    truncated = "".join(original.splitlines(keepends=True)[:203]) + "def scale(x):\n    return x * 3\n"
    whole_reply = f"textkit/big.py\n```python\n{truncated}```\n\n{TEST}"
    s = _run(repo, tmp_path, [{"step": "generate", "text": whole_reply},
                              {"step": "commit_message", "text": "fix(big): scale by three"}])
    assert s["status"] == "success" and s["attempts"] == 1, s
    assert git(repo, "show", f"{s['commit']}:textkit/big.py") == original.replace("x * 2\n", "x * 3\n")
    assert any("kept fn_50, fn_51" in w for w in s["warnings"]), s["warnings"]
    for sha in git(repo, "rev-list", "--all").split():
        blob = git(repo, "ls-tree", sha, "textkit/big.py").split()
        assert not blob or git(repo, "cat-file", "-p", blob[2]).count("\n") >= 900  # no truncated copy in any commit
