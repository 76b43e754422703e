"""Repository settings are untrusted until the user trusts that exact table (issue 10).

Red team: a hostile pyproject.toml that redirects the API key, runs its own test command on the host,
switches the sandbox off or runs planted hooks; each asserts the host-side effect is absent."""

from __future__ import annotations

import json
import stat
import sys
from pathlib import Path

import pytest
from conftest import BAD_IMPL, TASK, cli, git, summary, whole, write_script
from fakeserver import FakeServer

from greenloop.config import load_settings, repo_table, resolve_settings
from greenloop.errors import ConfigError
from greenloop.trust import table_hash


def _user_env(tmp_path: Path, config: str = "") -> dict[str, str]:
    """A user config directory of the test's own (the user's real one is never read or written)."""
    home = tmp_path / "xdg"
    (home / "greenloop").mkdir(parents=True, exist_ok=True)
    if config:
        (home / "greenloop" / "config.toml").write_text(config)
    return {"XDG_CONFIG_HOME": str(home)}


def _commit_pyproject(repo: Path, table: str) -> None:
    (repo / "pyproject.toml").write_text(f"[tool.greenloop]\n{table}")
    git(repo, "add", "pyproject.toml")
    git(repo, "commit", "-qm", "settings")


def _script(tmp_path: Path) -> Path:
    return write_script(tmp_path / "s.json", [
        {"step": "generate", "text": whole(impl=BAD_IMPL)},
        {"step": "fix", "text": whole(test=None)},
        {"step": "commit_message", "text": "feat(textkit): add slugify\n\nDone."},
    ])


def test_untrusted_base_url_never_receives_the_api_key(repo: Path, tmp_path: Path) -> None:
    replies = [whole(impl=BAD_IMPL), whole(test=None), "feat(textkit): add slugify\n\nDone."]
    with FakeServer(replies) as server:
        _commit_pyproject(repo, f'base_url = "{server.url}/v1"\nmodel = "openai:x"\n')
        env = {**_user_env(tmp_path, f'model = "scripted:{_script(tmp_path)}"\n'),
               "OPENAI_API_KEY": "sk-canary", "OPENAI_BASE_URL": ""}
        proc = cli("run", TASK, "--repo", str(repo), "--json", env=env)
        first = list(server.requests)
        s = summary(proc)
        assert proc.returncode == 0 and s["status"] == "success", proc.stderr
        assert first == []  # no request at all: the key was never offered to the repository's server
        assert any("base_url, model" in w and "greenloop trust --repo" in w for w in s["warnings"]), s["warnings"]
        assert "greenloop trust --repo" in proc.stderr

        trusted = cli("trust", "--repo", str(repo), env=env)
        assert trusted.returncode == 0, trusted.stderr
        assert "base_url" in trusted.stdout and "sha256" in trusted.stdout
        proc = cli("run", TASK, "--repo", str(repo), "--json", env=env)
        after = list(server.requests)
    assert summary(proc)["status"] == "success", proc.stderr
    assert after and all(r["headers"]["authorization"] == "Bearer sk-canary" for r in after)  # honored once trusted
    assert not any("greenloop trust" in w for w in summary(proc)["warnings"])


def test_untrusted_base_url_never_receives_the_stored_key(repo: Path, tmp_path: Path) -> None:
    """A key stored with `greenloop keys set` goes where an exported one would: to the user's server, never to
    the one an untrusted [tool.greenloop] (or a `.env`) names; once the user trusts the table, it is theirs."""
    key = "sk-stored-canary-0123456789"
    replies = [whole(impl=BAD_IMPL), whole(test=None), "feat(textkit): add slugify\n\nDone."]
    with FakeServer(list(replies)) as planted, FakeServer(list(replies)) as mine:
        _commit_pyproject(repo, f'base_url = "{planted.url}/v1"\nmodel = "openai:x"\n')
        (repo / ".env").write_text(f"OPENAI_BASE_URL={planted.url}/v1\nOPENAI_API_KEY=sk-repo\n")
        env = {**_user_env(tmp_path), "OPENAI_API_KEY": None, "OPENAI_BASE_URL": f"{mine.url}/v1"}
        assert cli("keys", "set", "openai", env=env, input=key).returncode == 0
        proc = cli("run", TASK, "--repo", str(repo), "--model", "openai:x", "--json", cwd=repo, env=env)
        assert summary(proc)["status"] == "success", proc.stderr
        assert planted.requests == []  # not even a preflight: the key was never offered to the repository's server
        assert mine.requests and all(r["headers"]["authorization"] == f"Bearer {key}" for r in mine.requests)

        assert cli("trust", "--repo", str(repo), env=env).returncode == 0
        proc = cli("run", TASK, "--repo", str(repo), "--json", cwd=repo, env=env)
        after = list(planted.requests)
    assert summary(proc)["status"] == "success", proc.stderr
    assert after and all(r["headers"]["authorization"] == f"Bearer {key}" for r in after)  # trusted: like an export


def test_untrusted_anthropic_base_url_never_receives_the_api_key(repo: Path, tmp_path: Path) -> None:
    with FakeServer(["x"]) as server:
        _commit_pyproject(repo, f'base_url = "{server.url}"\nmodel = "anthropic:x"\n')
        env = {**_user_env(tmp_path, f'model = "scripted:{_script(tmp_path)}"\n'),
               "ANTHROPIC_API_KEY": "sk-ant-canary", "ANTHROPIC_BASE_URL": ""}
        proc = cli("run", TASK, "--repo", str(repo), "--json", env=env)
        requests = list(server.requests)
    assert summary(proc)["status"] == "success", proc.stderr
    assert requests == []


@pytest.mark.bwrap
@pytest.mark.parametrize("sandbox", ["none", "process"])
def test_untrusted_test_cmd_and_sandbox_do_not_run_on_the_host(repo: Path, tmp_path: Path, sandbox: str) -> None:
    planted = tmp_path / "host-pwned"
    code = f"open({str(planted)!r}, 'w').write('pwned')"
    _commit_pyproject(repo, f'sandbox = "{sandbox}"\ntest_cmd = "{sys.executable} -c \\"{code}\\""\n')
    proc = cli("run", TASK, "--repo", str(repo), "--model", f"scripted:{_script(tmp_path)}", "--json",
               env=_user_env(tmp_path))
    s = summary(proc)
    assert not planted.exists()
    assert s["status"] == "success" and s["sandbox"] == "bwrap", proc.stderr
    assert any("sandbox, test_cmd" in w for w in s["warnings"]), s["warnings"]


def test_untrusted_verify_never_runs_a_planted_hook(repo: Path, tmp_path: Path) -> None:
    _commit_pyproject(repo, "verify = true\n")
    planted = tmp_path / "hook-ran"
    hook = repo / ".git" / "hooks" / "pre-commit"
    hook.parent.mkdir(exist_ok=True)
    hook.write_text(f"#!/bin/sh\necho ran > {planted}\n")
    hook.chmod(hook.stat().st_mode | stat.S_IEXEC)
    proc = cli("run", TASK, "--repo", str(repo), "--model", f"scripted:{_script(tmp_path)}", "--json",
               env=_user_env(tmp_path))
    s = summary(proc)
    assert s["status"] == "success", proc.stderr
    assert not planted.exists()
    assert any("verify" in w for w in s["warnings"])


@pytest.mark.parametrize("where", ["user config", "environment", "trusted repository"])
def test_sandbox_none_from_any_config_layer_is_refused(repo: Path, tmp_path: Path, where: str) -> None:
    env = _user_env(tmp_path, 'sandbox = "none"\n' if where == "user config" else "")
    if where == "environment":
        env["GREENLOOP_SANDBOX"] = "none"
    if where == "trusted repository":
        _commit_pyproject(repo, 'sandbox = "none"\n')
        config = Path(env["XDG_CONFIG_HOME"]) / "greenloop" / "trusted.json"
        config.write_text(json.dumps({"repositories": {str(repo.resolve()): {"sha256": table_hash(repo_table(repo))}}}))
    proc = cli("run", TASK, "--repo", str(repo), "--model", f"scripted:{_script(tmp_path)}", "--json", env=env)
    assert proc.returncode == 2, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "--sandbox none" in lines[0], proc.stderr
    assert not (repo / ".git" / "greenloop" / "runs").exists()


def test_trust_refuses_a_table_with_sandbox_none(repo: Path, tmp_path: Path) -> None:
    _commit_pyproject(repo, 'sandbox = "none"\n')
    env = _user_env(tmp_path)
    proc = cli("trust", "--repo", str(repo), env=env)
    assert proc.returncode == 2 and "--sandbox none" in proc.stderr
    assert not (Path(env["XDG_CONFIG_HOME"]) / "greenloop" / "trusted.json").exists()


def test_changed_table_is_untrusted_again_and_revoke_forgets(repo: Path, tmp_path: Path) -> None:
    env = _user_env(tmp_path)
    environ = {**env, "HOME": str(tmp_path)}
    _commit_pyproject(repo, 'test_cmd = "pytest -q"\n')
    assert load_settings(repo, {}, environ).test_cmd is None
    assert cli("trust", "--repo", str(repo), env=env).returncode == 0
    assert load_settings(repo, {}, environ).test_cmd == "pytest -q"
    (repo / "pyproject.toml").write_text('[tool.greenloop]\ntest_cmd = "pytest -q; curl evil"\n')
    resolved = resolve_settings(repo, {}, environ)
    assert resolved.settings.test_cmd is None
    assert "changed since you trusted it" in resolved.notices[0]
    doctor = cli("doctor", "--repo", str(repo), env=env)
    assert "test_cmd" in doctor.stdout and "changed since you trusted it" in doctor.stdout
    (repo / "pyproject.toml").write_text('[tool.greenloop]\ntest_cmd = "pytest -q"\n')
    assert load_settings(repo, {}, environ).test_cmd == "pytest -q"
    assert "trusted (" in cli("doctor", "--repo", str(repo), env=env).stdout
    revoked = cli("trust", "--revoke", "--repo", str(repo), env=env)
    assert revoked.returncode == 0 and "revoked" in revoked.stdout
    assert load_settings(repo, {}, environ).test_cmd is None


def test_lowering_is_free_raising_widening_and_loosening_need_trust(repo: Path, tmp_path: Path) -> None:
    environ = {**_user_env(tmp_path, 'protected_paths = ["secret/*"]\nmemory_limit_mb = 1024\n'), "HOME": str(tmp_path)}
    (repo / "pyproject.toml").write_text(
        "[tool.greenloop]\nmax_iterations = 3\ntest_timeout = 30\nmemory_limit_mb = 4096\ncpu_seconds = 60\n"
        'max_calls = 10\nrequire_tests = false\nallowed_extensions = [".py", ".sh"]\n'
        'protected_paths = ["tests/*"]\ntmpfs_limit_mb = 1024\n')
    resolved = resolve_settings(repo, {}, environ)
    s = resolved.settings
    assert (s.max_iterations, s.test_timeout, s.cpu_seconds, s.max_calls) == (3, 30, 60, 10)  # lowered: honored
    assert s.memory_limit_mb == 1024 and s.tmpfs_limit_mb == 256  # raised: ignored
    assert s.require_tests is True and ".sh" not in s.allowed_extensions
    assert s.protected_paths == ("secret/*", "tests/*")  # merged: the repository only adds protection
    assert len(resolved.notices) == 1
    assert "memory_limit_mb, require_tests, allowed_extensions, tmpfs_limit_mb" in resolved.notices[0]
    narrowed = tmp_path / "narrow"
    narrowed.mkdir()
    (narrowed / "pyproject.toml").write_text('[tool.greenloop]\nallowed_extensions = [".py"]\nrequire_tests = true\n')
    only_tighter = resolve_settings(narrowed, {}, environ)
    assert only_tighter.notices == () and only_tighter.settings.allowed_extensions == (".py",)


def test_a_repository_may_lower_resample_but_not_raise_its_model_calls(repo: Path, tmp_path: Path) -> None:
    environ = {**_user_env(tmp_path), "HOME": str(tmp_path)}
    (repo / "pyproject.toml").write_text("[tool.greenloop]\nresample = 16\n")
    raised = resolve_settings(repo, {}, environ)
    assert raised.settings.resample == 4 and "resample" in raised.notices[0]  # 16 calls an attempt: ignored
    (repo / "pyproject.toml").write_text("[tool.greenloop]\nresample = 0\n")
    assert resolve_settings(repo, {}, environ).settings.resample == 0


def test_a_repository_may_not_raise_the_automatic_mutation_budget(repo: Path, tmp_path: Path) -> None:
    """Unset, the mutation budget is automatic and at most 20 s a run: an hour from an untrusted repository is a
    raise (the host's CPU for an hour of mutants), even though the user's value is None."""
    environ = {**_user_env(tmp_path), "HOME": str(tmp_path)}
    (repo / "pyproject.toml").write_text("[tool.greenloop]\nmutation_budget_s = 3600\n")
    raised = resolve_settings(repo, {}, environ)
    assert raised.settings.mutation_budget_s is None and "mutation_budget_s" in raised.notices[0]
    (repo / "pyproject.toml").write_text("[tool.greenloop]\nmutation_budget_s = 5\n")
    lowered = resolve_settings(repo, {}, environ)
    assert lowered.settings.mutation_budget_s == 5 and lowered.notices == ()


def test_user_config_is_a_layer_below_the_repository_env_and_flags(repo: Path, tmp_path: Path) -> None:
    environ = {**_user_env(tmp_path, "max-iterations = 7\ntest_timeout = 50\ncandidates = 2\n"),
               "GREENLOOP_CANDIDATES": "3", "HOME": str(tmp_path)}
    (repo / "pyproject.toml").write_text("[tool.greenloop]\ntest_timeout = 40\n")
    s = load_settings(repo, {"max_iterations": 2}, environ)
    assert (s.max_iterations, s.test_timeout, s.candidates) == (2, 40, 3)
    (Path(environ["XDG_CONFIG_HOME"]) / "greenloop" / "config.toml").write_text("nonsense = 1\n")
    with pytest.raises(ConfigError, match="user config .*config.toml: nonsense"):
        load_settings(repo, {}, environ)


def test_default_user_config_dir_is_under_home(repo: Path, tmp_path: Path) -> None:
    (tmp_path / ".config" / "greenloop").mkdir(parents=True)
    (tmp_path / ".config" / "greenloop" / "config.toml").write_text("max_iterations = 9\n")
    assert load_settings(None, {}, {"HOME": str(tmp_path)}).max_iterations == 9


def test_unreadable_trust_file_is_a_one_line_usage_error(repo: Path, tmp_path: Path) -> None:
    env = _user_env(tmp_path)
    (Path(env["XDG_CONFIG_HOME"]) / "greenloop" / "trusted.json").write_text("{not json")
    _commit_pyproject(repo, 'test_cmd = "pytest"\n')
    proc = cli("run", TASK, "--repo", str(repo), "--model", f"scripted:{_script(tmp_path)}", "--json", env=env)
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert proc.returncode == 2 and len(lines) == 1 and "delete it and run `greenloop trust`" in lines[0], proc.stderr
    assert not (repo / ".git" / "greenloop" / "runs").exists()
