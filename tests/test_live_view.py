"""The live view on a real pseudo-terminal 80 columns wide, with a model that streams (the OpenAI SDK against
the fake server on 127.0.0.1): the reply's rate and tail show while it comes, and the end of the run prints the
branch and commit on one line each, never cut or wrapped."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest
from conftest import BAD_IMPL, TASK, git, on_a_terminal, whole
from fakeserver import FakeServer

from greenloop.config import load_settings
from greenloop.models import resolve
from greenloop.types import Message

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def test_a_streamed_reply_comes_in_pieces_and_the_usage_from_the_last_chunk() -> None:
    settings = load_settings(None, {})
    with FakeServer(["the whole reply, in pieces of eight characters"]) as server:
        model = resolve("openai:m", settings.model_copy(update={"base_url": server.url}))
        pieces: list[str] = []
        model.on_text = pieces.append  # type: ignore[attr-defined]
        out = model.complete([Message("user", "hi")], "generate")
        body = server.requests[-1]["body"]
    assert len(pieces) == 6 and "".join(pieces) == out.text == "the whole reply, in pieces of eight characters"
    assert (out.usage.input_tokens, out.usage.output_tokens) == (11, 7)
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}


def test_an_anthropic_reply_is_streamed_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "test-key")
    with FakeServer(["the Messages API streams this reply"]) as server:
        model = resolve("anthropic:claude-test", load_settings(None, {"base_url": server.url}))
        pieces: list[str] = []
        model.on_text = pieces.append  # type: ignore[attr-defined]
        out = model.complete([Message("system", "be brief"), Message("user", "hi")], "generate")
        body = server.requests[-1]["body"]
    assert len(pieces) == 5 and "".join(pieces) == out.text == "the Messages API streams this reply"
    assert (out.usage.input_tokens, out.usage.output_tokens) == (11, 7) and body["stream"] is True


def test_the_live_view_at_80_columns_shows_the_reply_as_it_comes(repo: Path) -> None:
    replies = [whole(impl=BAD_IMPL), whole(test=None), "feat(textkit): add slugify"]
    env = {k: v for k, v in os.environ.items() if k != "OPENAI_API_KEY"}
    with FakeServer(replies, chunk_delay=0.02) as server:
        code, raw = on_a_terminal([sys.executable, "-m", "greenloop", "run", TASK, "--repo", str(repo),
                                   "--model", "openai:test-model", "--base-url", f"{server.url}/v1"], env)
    shown = ANSI.sub("", raw)
    assert code == 0, shown
    assert re.search(r"\d+\.\d tok/s", shown), shown  # the streaming line showed while a reply came
    assert "generate" in shown and "attempt 1/5" in shown
    branch = git(repo, "for-each-ref", "--format=%(refname:short)", "refs/heads/greenloop/").split()[-1]
    commit = git(repo, "rev-parse", branch).strip()[:12]
    assert f"branch {branch}  commit {commit}" in shown.replace("\r\n", "\n"), shown
