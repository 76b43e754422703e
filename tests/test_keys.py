"""`greenloop keys set|list|remove` through the real CLI (issue 15): a hidden prompt or stdin, never argv;
keys.toml 0600 in a 0700 config directory; refused input writes nothing; a repository cannot set a key."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest
from conftest import TASK, cli, git, on_a_terminal, summary
from fakeserver import FakeServer

KEY = "sk-stored-0123456789abcdefWXYZ"


def user_env(tmp_path: Path) -> dict[str, str | None]:
    """The test's own config directory and home; no key exported (the user's real ones are never touched)."""
    return {"XDG_CONFIG_HOME": str(tmp_path / "xdg"), "HOME": str(tmp_path / "home"),
            "OPENAI_API_KEY": None, "ANTHROPIC_API_KEY": None, "OPENAI_BASE_URL": None, "ANTHROPIC_BASE_URL": None}


def keys_file(tmp_path: Path) -> Path:
    return tmp_path / "xdg" / "greenloop" / "keys.toml"


def test_set_list_remove_with_0600_file_in_a_0700_directory(tmp_path: Path) -> None:
    env = user_env(tmp_path)
    stored = cli("keys", "set", "openai", env=env, input=KEY + "\n")
    assert stored.returncode == 0, stored.stderr
    assert "sk-…WXYZ" in stored.stdout and str(keys_file(tmp_path)) in stored.stdout and KEY not in stored.stdout
    assert stat.S_IMODE(keys_file(tmp_path).stat().st_mode) == 0o600
    assert stat.S_IMODE(keys_file(tmp_path).parent.stat().st_mode) == 0o700
    assert cli("keys", "set", "anthropic", env=env, input="sk-ant-abcdefghijklmnop").returncode == 0
    assert [p.name for p in keys_file(tmp_path).parent.iterdir()] == ["keys.toml"]  # no temporary file left

    listed = cli("keys", "list", env=env)
    rows = {ln.split()[0]: ln for ln in listed.stdout.splitlines()}
    assert listed.returncode == 0 and KEY not in listed.stdout
    assert "sk-…WXYZ" in rows["openai"] and f"stored in {keys_file(tmp_path)}" in rows["openai"]
    assert "sk-…mnop" in rows["anthropic"]
    shadowed = cli("keys", "list", env={**env, "OPENAI_API_KEY": "sk-env-zyxwvutsrqpo9876"})
    assert "sk-…9876  env OPENAI_API_KEY (wins over the stored key sk-…WXYZ" in shadowed.stdout

    removed = cli("keys", "remove", "openai", env=env)
    assert removed.returncode == 0 and "removed the stored openai key" in removed.stdout
    assert stat.S_IMODE(keys_file(tmp_path).stat().st_mode) == 0o600
    after = cli("keys", "list", env=env).stdout
    assert "openai     -         not set: export OPENAI_API_KEY or run `greenloop keys set openai`" in after
    assert "sk-…mnop" in after
    again = cli("keys", "remove", "openai", env=env)
    assert again.returncode == 0 and "no openai key is stored" in again.stdout


def test_models_list_counts_a_stored_key_as_a_key(tmp_path: Path) -> None:
    env = user_env(tmp_path)
    before = cli("models", "list", env=env).stdout
    assert "needs OPENAI_API_KEY" in before
    assert cli("keys", "set", "openai", env=env, input=KEY + "\n").returncode == 0
    listed = cli("models", "list", env=env)
    row = next(ln for ln in listed.stdout.splitlines() if "openai:MODEL" in ln)
    assert row.split("\t")[:2] == ["openai:MODEL", f"key stored in {keys_file(tmp_path)}"]  # a script's line: no wrap
    assert listed.returncode == 0 and "key stored" in row and "needs OPENAI_API_KEY" not in row, listed.stdout
    assert KEY not in listed.stdout and "needs ANTHROPIC_API_KEY" in listed.stdout
    keys_file(tmp_path).write_text("{not toml")
    broken = cli("models", "list", env=env)
    assert broken.returncode == 0 and "Traceback" not in broken.stderr, broken.stderr
    assert "keys.toml unreadable" in next(ln for ln in broken.stdout.splitlines() if "openai:MODEL" in ln)
    assert broken.stderr.splitlines() == [f"{keys_file(tmp_path)}: invalid TOML (Invalid statement (at line 1, "
                                          "column 1)); delete it and run `greenloop keys set` again"], broken.stderr
    exported = cli("models", "list", env={**env, "OPENAI_API_KEY": "sk-env-zyxwvutsrqpo9876"})
    assert exported.stderr == broken.stderr  # an exported key does not read the file: the error is still named


def test_a_key_file_others_can_read_is_named_by_list(tmp_path: Path) -> None:
    env = user_env(tmp_path)
    cli("keys", "set", "openai", env=env, input=KEY)
    keys_file(tmp_path).chmod(0o644)
    listed = cli("keys", "list", env=env)
    assert listed.returncode == 0 and f"(mode 0644); run `chmod 600 {keys_file(tmp_path)}`" in listed.stderr
    cli("keys", "set", "openai", env=env, input=KEY)  # a new write is 0600 again
    assert stat.S_IMODE(keys_file(tmp_path).stat().st_mode) == 0o600


@pytest.mark.parametrize("args, stdin, fragment", [
    (("keys", "set", "opnai"), KEY, "unknown provider 'opnai'; did you mean openai? use one of: openai, anthropic"),
    (("keys", "set", "openai"), "", "the key is empty; type it at the prompt, or pipe it in"),
    (("keys", "set", "openai"), " \n\t\n", "the key is empty"),
    (("keys", "set", "openai"), "sk-with a space", "that is not an API key"),
    (("keys", "set", "openai"), "x" * 5000, "that is not an API key"),
    (("keys", "set", "openai", KEY), "", "a key given as an argument shows in `ps` and your shell history"),
    (("keys", "set", "openai", f"--key={KEY}"), "", "a key given as an argument shows in `ps`"),
    (("keys", "remove", "gemini"), "", "unknown provider 'gemini'"),
])
def test_refused_input_is_one_line_exit_2_and_nothing_written(tmp_path: Path, args: tuple[str, ...], stdin: str,
                                                              fragment: str) -> None:
    proc = cli(*args, env=user_env(tmp_path), input=stdin)
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert proc.returncode == 2 and len(lines) == 1 and fragment in lines[0], proc.stderr
    assert lines[0].endswith("; nothing written") and KEY not in proc.stderr + proc.stdout  # the key is not echoed
    assert not (tmp_path / "xdg").exists()


def test_refused_input_keeps_the_stored_keys(tmp_path: Path) -> None:
    env = user_env(tmp_path)
    cli("keys", "set", "openai", env=env, input=KEY)
    before = keys_file(tmp_path).read_bytes()
    assert cli("keys", "set", "openai", env=env, input="").returncode == 2
    assert keys_file(tmp_path).read_bytes() == before


def test_on_a_terminal_the_key_is_read_from_a_hidden_prompt(tmp_path: Path) -> None:
    env = {k: v for k, v in {**os.environ, **user_env(tmp_path)}.items() if v is not None}
    code, shown = on_a_terminal([sys.executable, "-m", "greenloop", "keys", "set", "openai"], env,
                                prompt=b"(input hidden)", answer=KEY, timeout=60)
    assert code == 0, shown
    assert "openai API key (input hidden):" in shown and "stored the openai key sk-…WXYZ" in shown
    assert KEY not in shown  # not echoed while typed
    assert f'openai = "{KEY}"' in keys_file(tmp_path).read_text()


def test_a_repository_cannot_set_a_key(repo: Path, tmp_path: Path) -> None:
    """[tool.greenloop] has no key setting (refused as unknown, nothing sent), and a `.env` is never read."""
    env = user_env(tmp_path)
    with FakeServer(["x"]) as server:
        (repo / "pyproject.toml").write_text('[tool.greenloop]\nopenai_api_key = "sk-repo-canary"\n')
        git(repo, "add", "pyproject.toml")
        git(repo, "commit", "-qm", "a key")
        proc = cli("run", TASK, "--repo", str(repo), "--model", "openai:x", "--base-url", f"{server.url}/v1",
                   "--json", env=env)
        assert proc.returncode == 2 and "openai_api_key" in summary(proc)["error"]
        git(repo, "rm", "-q", "pyproject.toml")
        git(repo, "commit", "-qm", "no key")
        (repo / ".env").write_text("OPENAI_API_KEY=sk-repo-canary\nANTHROPIC_API_KEY=sk-repo-canary\n")
        listed = cli("keys", "list", cwd=repo, env=env)
        missing = cli("run", TASK, "--repo", str(repo), "--model", "anthropic:x", "--json", cwd=repo, env=env)
        requests = list(server.requests)
    assert "sk-r" not in listed.stdout and listed.stdout.count("not set: export") == 2
    assert missing.returncode == 2 and "ANTHROPIC_API_KEY is not set" in summary(missing)["error"]
    assert all("sk-repo-canary" not in str(r["headers"]) for r in requests)
