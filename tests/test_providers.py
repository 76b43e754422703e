"""HTTP providers against a local server: real SDKs, real sockets, no patching."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from conftest import BAD_IMPL, TASK, cli, summary, whole
from fakeserver import FakeServer

from greenloop.config import load_settings
from greenloop.errors import ModelError, ModelUnavailable
from greenloop.models import resolve
from greenloop.types import Message


def test_openai_compatible_server_runs_the_loop_with_step_headers(repo: Path) -> None:
    # the test design (its tests kept), the generate call (its wrong code), the fix, the commit message
    replies = [whole(impl=BAD_IMPL), whole(impl=BAD_IMPL), whole(test=None), "feat(textkit): add slugify\n\nDone."]
    with FakeServer(replies) as server:
        proc = cli("run", TASK, "--repo", str(repo), "--model", "openai:test-model", "--base-url",
                   f"{server.url}/v1", "--json", env={"OPENAI_API_KEY": ""})
        steps = server.steps()
        chats = [r for r in server.requests if r["path"].endswith("/chat/completions")]
    s = summary(proc)
    assert proc.returncode == 0 and s["status"] == "success", proc.stderr
    assert steps == ["preflight", "test_design", "generate", "fix", "commit_message"]
    assert all(r["body"]["temperature"] == 0 and r["body"]["model"] == "test-model" for r in chats)
    assert s["usage"] == {"calls": 4, "input_tokens": 44, "output_tokens": 28, "cost_usd": None}  # unpriced


def test_openai_provider_retries_429_then_succeeds() -> None:
    settings = load_settings(None, {"max_retries": 3})
    with FakeServer(["hello"], fail_first=2, fail_status=429) as server:
        model = resolve("openai:m", settings.model_copy(update={"base_url": server.url}))
        out = model.complete([Message("user", "hi")], "generate")
        posts = [r for r in server.requests if r["body"] is not None]
    assert out.text == "hello" and len(posts) == 3


def test_openai_provider_retries_5xx() -> None:
    settings = load_settings(None, {"max_retries": 2})
    with FakeServer(["ok"], fail_first=1, fail_status=503) as server:
        model = resolve("openai:m", settings.model_copy(update={"base_url": server.url}))
        assert model.complete([Message("user", "hi")], "fix").text == "ok"
        assert server.steps()[-1] == "fix"


def test_an_openai_compatible_server_gets_the_prompts_seed() -> None:
    """llama.cpp's server, vLLM and Ollama take `seed`: a resample's draws follow the prompt, as in-process."""
    settings = load_settings(None, {})
    task, other = [Message("user", "def f(x):")], [Message("user", "def g(x):")]
    with FakeServer(["a", "b", "c", "d"]) as server:
        first = resolve("openai:m", settings.model_copy(update={"base_url": server.url}))
        first.complete(task, "resample", 0.7)
        first.complete(task, "resample", 0.7)
        fresh = resolve("openai:m", settings.model_copy(update={"base_url": server.url}))
        fresh.complete(other, "generate")
        fresh.complete(task, "resample", 0.7)
        seeds = [r["body"]["seed"] for r in server.requests if r["body"] is not None]
    assert seeds[0] != seeds[1]  # a prompt sampled again draws anew
    assert seeds[3] == seeds[0] and seeds[2] != seeds[0]  # the calls before it do not move it


def test_a_looping_reply_from_a_server_is_stopped_and_cut() -> None:
    """A small model behind llama-server or Ollama loops as it does in-process: the stream is closed once the
    reply repeats itself (the server stops generating), and the reply is cut where the loop began."""
    head = "textkit/slug.py\n```python\ndef slugify(text):\n    return text\n```\n\ntests/test_slug.py\n```python\n"
    loop = "".join(f"assert slugify('a{'b' * i}') == 'a{'b' * i}'\n" for i in range(1, 400))
    with FakeServer([head + loop], chunk_delay=0.002) as server:
        model = resolve("openai:m", load_settings(None, {"base_url": server.url}))
        model.on_text = lambda piece: None  # type: ignore[attr-defined]  # streamed, as in every run
        out = model.complete([Message("user", "hi")], "generate")
    total = -(-len(head + loop) // 8)
    assert server.chunks_sent < total // 4, (server.chunks_sent, total)  # stopped, not run to the end
    assert out.text.startswith(head) and out.text.endswith("```\n")  # cut at a whole line, its fence closed
    assert len(out.text) < len(head + loop) // 8
    assert out.usage.output_tokens < total // 4


def test_anthropic_provider_against_local_messages_server(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "test-key")  # the provider reads its key from the environment
    with FakeServer(["the reply"]) as server:
        settings = load_settings(None, {"base_url": server.url})
        model = resolve("anthropic:claude-test", settings)
        model.preflight()
        out = model.complete([Message("system", "be brief"), Message("user", "hi")], "generate")
        post = [r for r in server.requests if r["body"] is not None][0]
    assert out.text == "the reply" and out.usage.input_tokens == 11
    assert post["body"]["system"] == "be brief" and post["body"]["messages"] == [{"role": "user", "content": "hi"}]
    assert post["headers"]["x-greenloop-step"] == "generate"


ENDLESS = "".join(f"line {i}: {i * 7919 % 104729:x} and more of a reply that never repeats\n" for i in range(40000))


@pytest.mark.parametrize(("provider", "streamed"), [("openai", True), ("openai", False), ("anthropic", True),
                                                    ("anthropic", False)])
def test_a_provider_that_ignores_max_tokens_cannot_send_an_endless_reply(
        monkeypatch: pytest.MonkeyPatch, provider: str, streamed: bool) -> None:
    """Red team: a compromised provider ignores max_tokens and streams a reply without end (here 2.6 MB that
    never repeats, so no loop check stops it). The client stops reading once the reply is longer than the token
    cap allows, hangs up (the server sends no more), and keeps whole lines within the cap; with or without the
    live view (a whole non-streamed body would have been read into memory, however large)."""
    monkeypatch.setenv("ANTHROPIC_API_KEY", "test-key")
    with FakeServer([ENDLESS]) as server:
        model = resolve(f"{provider}:m", load_settings(None, {"base_url": server.url, "reply_max_tokens": 256}))
        if streamed:
            model.on_text = lambda piece: None  # type: ignore[attr-defined]
        out = model.complete([Message("user", "hi")], "generate")
    total = -(-len(ENDLESS) // 8)
    assert server.chunks_sent < total // 20, (server.chunks_sent, total)  # the server was cut off early
    assert 0 < len(out.text) <= 256 * 16 and out.text.endswith("\n") and ENDLESS.startswith(out.text)
    assert out.usage.output_tokens < total // 20


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_a_provider_cannot_send_one_endless_event_either(monkeypatch: pytest.MonkeyPatch, provider: str) -> None:
    """Red team: the whole endless reply in one server-sent event. The SDK reads an event whole before greenloop
    sees a piece of it, so the transport stops reading past what any reply of the token cap needs: the call fails
    with a clear error instead of buffering whatever the provider sends."""
    monkeypatch.setenv("ANTHROPIC_API_KEY", "test-key")
    with FakeServer([ENDLESS], chunk_size=len(ENDLESS)) as server:
        model = resolve(f"{provider}:m", load_settings(None, {"base_url": server.url, "reply_max_tokens": 256,
                                                             "max_retries": 0}))
        with pytest.raises(ModelError, match="the provider sent more than 1310720 bytes for one reply"):
            model.complete([Message("user", "hi")], "generate")


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_a_provider_that_trickles_a_reply_is_stopped_at_the_deadline(monkeypatch: pytest.MonkeyPatch,
                                                                     provider: str) -> None:
    """Red team: a reply that keeps coming, slowly, within every per-read timeout. After three request timeouts
    the client hangs up and keeps the whole lines it has."""
    monkeypatch.setenv("ANTHROPIC_API_KEY", "test-key")
    with FakeServer([ENDLESS[:40000]], chunk_delay=0.01) as server:
        model = resolve(f"{provider}:m", load_settings(None, {"base_url": server.url, "request_timeout": 0.5}))
        out = model.complete([Message("user", "hi")], "generate")
    total = -(-40000 // 8)
    assert server.chunks_sent < total // 4, (server.chunks_sent, total)  # 1.5 s of 50 s of trickle
    assert out.text and ENDLESS.startswith(out.text) and out.text.endswith("\n")


def test_unreachable_server_is_a_usage_error() -> None:
    settings = load_settings(None, {"base_url": "http://127.0.0.1:9/v1"})
    with pytest.raises(ModelUnavailable, match="cannot reach the model server"):
        resolve("openai:m", settings).preflight()


def test_scripted_model_checks_steps(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text(json.dumps(["a", {"text": "b", "step": "fix"}]))
    model = resolve(f"scripted:{path}", load_settings(None))
    assert model.complete([Message("user", "x")], "generate").text == "a"
    with pytest.raises(Exception, match="is for step 'fix'"):
        model.complete([Message("user", "x")], "rewrite")


@pytest.mark.parametrize("provider", ["openai", "anthropic"])  # both SDKs send `Authorization: Bearer KEY`
def test_a_stored_key_is_sent_when_the_environment_has_none_and_the_environment_wins(
        repo: Path, tmp_path: Path, provider: str) -> None:
    """`greenloop keys set` then a run with the user's --base-url: the stored key is the one the server sees, and
    it never reaches the trajectory, the summary, the output, `config show` or a prompt."""
    variable = f"{provider.upper()}_API_KEY"
    stored = f"sk-stored-{provider}-0123456789abcdef"
    env = {"XDG_CONFIG_HOME": str(tmp_path / "xdg"), variable: None, f"{provider.upper()}_BASE_URL": None}
    assert cli("keys", "set", provider, env=env, input=stored).returncode == 0
    assert stat.S_IMODE((tmp_path / "xdg" / "greenloop" / "keys.toml").stat().st_mode) == 0o600
    replies = [whole(impl=BAD_IMPL), whole(impl=BAD_IMPL), whole(test=None), "feat(textkit): add slugify\n\nDone."]
    base = "/v1" if provider == "openai" else ""
    with FakeServer(replies) as server:
        proc = cli("run", TASK, "--repo", str(repo), "--model", f"{provider}:x", "--base-url", f"{server.url}{base}",
                   "--json", env=env)
        seen = [r["headers"].get("authorization") for r in server.requests]
        bodies = json.dumps([r["body"] for r in server.requests])
    s = summary(proc)
    assert proc.returncode == 0 and s["status"] == "success", proc.stderr
    assert seen and all(h == f"Bearer {stored}" for h in seen)
    shown = cli("config", "show", "--repo", str(repo), env=env).stdout + cli("show", s["run_id"], "--repo", str(repo)).stdout
    everything = proc.stdout + proc.stderr + Path(s["trajectory"]).read_text() + bodies + shown
    assert stored not in everything and stored[-12:] not in everything

    exported = f"sk-env-{provider}-fedcba9876543210"
    with FakeServer([whole(), whole(), "feat: slugify"]) as server:  # test design, generate, message
        proc = cli("run", TASK, "--repo", str(repo), "--model", f"{provider}:x", "--base-url", f"{server.url}{base}",
                   "--json", env={**env, variable: exported})
        seen = [r["headers"].get("authorization") for r in server.requests]
    assert summary(proc)["status"] == "success", proc.stderr
    assert seen and all(h == f"Bearer {exported}" for h in seen)  # the environment wins over the store
