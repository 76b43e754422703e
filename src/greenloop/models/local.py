"""`local[:PATH.gguf]`: llama.cpp in-process (extra `greenloop[local]`). Loaded once per process."""

from __future__ import annotations

import atexit
import functools
import os
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from greenloop.errors import ModelError, ModelUnavailable
from greenloop.models.loops import read_stream
from greenloop.models.seeds import sample_seed
from greenloop.modelstore import CATALOGUE, default_local_model, fetched_path
from greenloop.types import Completion, Message, Step, Usage

if TYPE_CHECKING:
    from greenloop.config import Settings

CONTEXT_TOKENS = 8192


@functools.lru_cache(maxsize=2)
def _load(path: str, n_ctx: int) -> Any:
    """One Llama per (file, context) per process: a benchmark worker loads it once, not per task."""
    try:
        from llama_cpp import Llama
    except ImportError as exc:
        raise ModelUnavailable("local models need llama-cpp-python: pip install 'greenloop[local]' "
                               "(it compiles for about 9 minutes the first time)") from exc
    try:
        llm = Llama(model_path=path, n_ctx=n_ctx, n_threads=os.cpu_count() or 2, verbose=False, seed=0)
    except ValueError as exc:
        raise ModelUnavailable(f"cannot load {path}: {exc}; is it a GGUF file?") from exc
    # Free it before interpreter shutdown: llama-cpp-python's own finalizer fails once modules are torn down.
    atexit.register(llm.close)
    return llm


class LocalModel:
    def __init__(self, name: str, settings: Settings) -> None:
        self.settings = settings
        if not name:
            self.path = default_local_model()
        elif name in CATALOGUE:
            fetched = fetched_path(CATALOGUE[name])
            if fetched is None:
                raise ModelUnavailable(f"{name} is not fetched yet; run `greenloop models fetch {name}`")
            self.path = fetched
        else:
            self.path = Path(name).expanduser()
            if not self.path.is_file():
                raise ModelUnavailable(f"local:{name}: no such file; give the path of a .gguf model")
        self.name = f"local:{self.path.name}"
        self.sampled: Counter[bytes] = Counter()  # prompts sampled so far, for each call's seed (sample_seed)
        self.on_text: Callable[[str], None] | None = None  # StreamingModel: each piece of the reply as it comes

    def preflight(self) -> None:
        _load(str(self.path), CONTEXT_TOKENS)

    def complete(self, messages: Sequence[Message], step: Step, temperature: float | None = None) -> Completion:
        llm = _load(str(self.path), CONTEXT_TOKENS)
        try:
            stream = llm.create_chat_completion(
                messages=[{"role": m.role, "content": m.content} for m in messages],
                temperature=self.settings.temperature if temperature is None else temperature,
                max_tokens=self.settings.reply_max_tokens,
                seed=sample_seed(messages, self.sampled),
                stream=True,
            )
            got = read_stream((chunk["choices"][0]["delta"].get("content") or "" for chunk in stream), self.on_text)
        except (ValueError, RuntimeError) as exc:
            raise ModelError(f"{self.name} failed at step {step}: {exc}") from exc
        return Completion(text=got.text, usage=Usage(max(llm.n_tokens - got.pieces, 0), got.pieces))
