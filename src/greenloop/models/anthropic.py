"""`anthropic:MODEL`: the official Anthropic SDK.

Sampling parameters are not sent: API version 2026-10-21 (the SDK 2.x default) rejects temperature,
top_p and top_k with a 400 even at default values, and the SDK no longer accepts them."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from greenloop.errors import ModelError, ModelUnavailable
from greenloop.keys import api_key
from greenloop.models.capped import ReplyTooLarge, capped_client, too_large
from greenloop.models.loops import read_reply
from greenloop.models.openai import PREFLIGHT_TIMEOUT_S, STEP_HEADER
from greenloop.types import Completion, Message, Step, Usage

if TYPE_CHECKING:
    from greenloop.config import Settings


class AnthropicModel:
    def __init__(self, name: str, settings: Settings) -> None:
        import anthropic

        self._anthropic = anthropic
        key = api_key("anthropic")  # the environment's, else the stored one; never from the repository
        if key is None:
            raise ModelUnavailable("ANTHROPIC_API_KEY is not set; export it or store it with "
                                   "`greenloop keys set anthropic` to use anthropic:MODEL")
        self.key_source = key.source
        self.on_text: Callable[[str], None] | None = None  # StreamingModel: set, the reply is streamed
        self.model = name
        self.name = f"anthropic:{name}"
        self.settings = settings
        self.base_url = settings.base_url or os.environ.get("ANTHROPIC_BASE_URL") or None
        self.client = anthropic.Anthropic(api_key=key.value, base_url=self.base_url,
                                          max_retries=settings.max_retries, timeout=settings.request_timeout,
                                          http_client=capped_client(anthropic.DefaultHttpxClient,
                                                                    settings.reply_max_tokens))

    def preflight(self) -> None:
        client = self.client.with_options(max_retries=1, timeout=PREFLIGHT_TIMEOUT_S)
        try:
            client.models.list(limit=1, extra_headers={STEP_HEADER: "preflight"})
        except self._anthropic.APIConnectionError as exc:
            raise ModelUnavailable(f"cannot reach {self.base_url or 'api.anthropic.com'}; check the network "
                                   "or ANTHROPIC_BASE_URL") from exc
        except self._anthropic.AuthenticationError as exc:
            raise ModelUnavailable(f"Anthropic refused the API key ({self.key_source}); check it, or replace it "
                                   "with `greenloop keys set anthropic`") from exc
        except self._anthropic.NotFoundError:
            return

    def complete(self, messages: Sequence[Message], step: Step, temperature: float | None = None) -> Completion:
        """`temperature` is accepted for the protocol and not sent (the API refuses it, see above)."""
        system = "\n\n".join(m.content for m in messages if m.role == "system")
        chat = [{"role": m.role, "content": m.content} for m in messages if m.role != "system"]
        request = dict(model=self.model, system=system, messages=chat, max_tokens=self.settings.reply_max_tokens,
                       extra_headers={STEP_HEADER: step})
        try:  # always streamed, each piece shown when on_text is set; one past the token cap is stopped and cut
            with self.client.messages.stream(**request) as stream:  # type: ignore[arg-type]
                got = read_reply(stream.text_stream, self.on_text, self.settings)
                if got.stopped:
                    input_tokens = stream.current_message_snapshot.usage.input_tokens
                    return Completion(text=got.text, usage=Usage(input_tokens, got.pieces))
                resp = stream.get_final_message()
        except (self._anthropic.APIError, ReplyTooLarge) as exc:
            raise ModelError(f"{self.name} failed at step {step}: {too_large(exc) or exc}") from exc
        text = "".join(getattr(block, "text", "") for block in resp.content)
        return Completion(text=text, usage=Usage(resp.usage.input_tokens, resp.usage.output_tokens))
