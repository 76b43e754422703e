"""`openai:MODEL`: the official SDK; any OpenAI-compatible server through --base-url/OPENAI_BASE_URL."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING

from greenloop.errors import ModelError, ModelUnavailable
from greenloop.keys import api_key
from greenloop.models.capped import ReplyTooLarge, capped_client, too_large
from greenloop.models.loops import read_reply
from greenloop.models.seeds import sample_seed
from greenloop.types import Completion, Message, Step, Usage

if TYPE_CHECKING:
    from greenloop.config import Settings

STEP_HEADER = "X-Greenloop-Step"
PREFLIGHT_TIMEOUT_S = 10.0


class OpenAIModel:
    def __init__(self, name: str, settings: Settings) -> None:
        import openai

        self._openai = openai
        self.model = name
        self.settings = settings
        self.base_url = settings.base_url or os.environ.get("OPENAI_BASE_URL") or None
        key = api_key("openai")  # the environment's, else the stored one; never from the repository
        if key is None and not self.base_url:
            raise ModelUnavailable("OPENAI_API_KEY is not set; export it, store it with `greenloop keys set "
                                   "openai`, or pass --base-url URL for a local OpenAI-compatible server "
                                   "(Ollama, vLLM, llama.cpp)")
        self.key_source = key.source if key else "no key"
        self.on_text: Callable[[str], None] | None = None  # StreamingModel: set, the reply is streamed
        self.sampled: Counter[bytes] = Counter()  # prompts sampled so far, for each call's seed (seeds.py)
        self.name = f"openai:{name}"
        self.client = openai.OpenAI(api_key=key.value if key else "not-needed", base_url=self.base_url,
                                    max_retries=settings.max_retries, timeout=settings.request_timeout,
                                    http_client=capped_client(openai.DefaultHttpxClient, settings.reply_max_tokens))

    def preflight(self) -> None:
        where = self.base_url or "api.openai.com"
        client = self.client.with_options(max_retries=1, timeout=PREFLIGHT_TIMEOUT_S)
        try:
            client.models.list(extra_headers={STEP_HEADER: "preflight"})
        except self._openai.APIConnectionError as exc:
            raise ModelUnavailable(f"cannot reach the model server at {where}; start it or fix "
                                   "--base-url / OPENAI_BASE_URL") from exc
        except self._openai.AuthenticationError as exc:
            raise ModelUnavailable(f"{where} refused the API key ({self.key_source}); check it, or replace it "
                                   "with `greenloop keys set openai`") from exc
        except self._openai.NotFoundError:
            return  # some compatible servers have no /models; the first real call will tell
        except self._openai.APIStatusError as exc:
            if exc.status_code >= 500:
                raise ModelUnavailable(f"the model server at {where} answers {exc.status_code}; "
                                       "try again when it is healthy") from exc

    def complete(self, messages: Sequence[Message], step: Step, temperature: float | None = None) -> Completion:
        request = dict(model=self.model, messages=[{"role": m.role, "content": m.content} for m in messages],
                       temperature=self.settings.temperature if temperature is None else temperature,
                       max_tokens=self.settings.reply_max_tokens, seed=sample_seed(messages, self.sampled),
                       extra_headers={STEP_HEADER: step})
        try:
            return self._streamed(request, self.on_text)
        except (self._openai.APIError, ReplyTooLarge) as exc:
            raise ModelError(f"{self.name} failed at step {step}: {too_large(exc) or exc}") from exc

    def _streamed(self, request: dict[str, object], on_text: Callable[[str], None] | None) -> Completion:
        """The reply as server-sent chunks, always (a whole body would be read into memory however large the
        server makes it), each piece shown as it comes when `on_text` is set; the usage from the last chunk
        (`include_usage`), or, from a server that sends none, the pieces counted as output tokens. A reply that
        loops, or runs past what reply_max_tokens allows, is stopped (the connection closed: a local server stops
        generating) and cut (loops.py)."""
        usage = None
        stream = self.client.chat.completions.create(**request, stream=True,  # type: ignore[call-overload]
                                                     stream_options={"include_usage": True})

        def pieces() -> Iterator[str]:
            nonlocal usage
            for chunk in stream:
                usage = chunk.usage or usage
                if piece := chunk.choices[0].delta.content or "" if chunk.choices else "":
                    yield piece
        got = read_reply(pieces(), on_text, self.settings)
        if got.stopped:
            stream.close()
        return Completion(text=got.text, usage=Usage(usage.prompt_tokens if usage else 0,
                                                     usage.completion_tokens if usage and not got.stopped
                                                     else got.pieces))
