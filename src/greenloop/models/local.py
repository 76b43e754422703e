"""`local[:PATH.gguf]`: llama.cpp in-process (extra `greenloop[local]`). Loaded once per process."""

from __future__ import annotations

import atexit
import functools
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from greenloop.errors import ModelError, ModelUnavailable
from greenloop.modelstore import CATALOGUE, default_local_model, fetched_path
from greenloop.types import Completion, Message, Step, Usage

if TYPE_CHECKING:
    from greenloop.config import Settings

CONTEXT_TOKENS = 8192
LOOP_WINDOW = 400  # a reply whose last 400 characters already occurred in it is looping: stop it there
LOOP_LINES, LOOP_PREFIX = 12, 48  # or whose last 12 lines share their first 48 characters
LOOP_KEEP = 3  # of those lines, the first three stay in the reply
LOOP_BLOCKS, LOOP_SHAPE = 8, 10  # or whose last lines are one block of lines, 8 times, each line the same shape


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
        self.calls = 0  # the sampling seed: reproducible runs, yet each sample of a step differs
        self.on_text: Callable[[str], None] | None = None  # StreamingModel: each piece of the reply as it comes

    def preflight(self) -> None:
        _load(str(self.path), CONTEXT_TOKENS)

    def complete(self, messages: Sequence[Message], step: Step, temperature: float | None = None) -> Completion:
        llm = _load(str(self.path), CONTEXT_TOKENS)
        self.calls += 1
        parts: list[str] = []
        try:
            stream = llm.create_chat_completion(
                messages=[{"role": m.role, "content": m.content} for m in messages],
                temperature=self.settings.temperature if temperature is None else temperature,
                max_tokens=self.settings.reply_max_tokens,
                seed=self.calls,
                stream=True,
            )
            stopped = False
            for n, chunk in enumerate(stream, 1):
                piece = chunk["choices"][0]["delta"].get("content") or ""
                parts.append(piece)
                if self.on_text is not None and piece:
                    self.on_text(piece)
                if n % 32 == 0 and looping("".join(parts)):
                    stopped = True  # a small model repeating itself would otherwise run to reply_max_tokens
                    break
        except (ValueError, RuntimeError) as exc:
            raise ModelError(f"{self.name} failed at step {step}: {exc}") from exc
        completion_tokens = len(parts)
        text = before_the_loop("".join(parts)) if stopped else "".join(parts)
        return Completion(text=text, usage=Usage(max(llm.n_tokens - completion_tokens, 0), completion_tokens))


def before_the_loop(text: str) -> str:
    """A reply stopped for looping, cut where the loop began (the repeated lines kept LOOP_KEEP times, whole
    lines only) and its open code fence closed: the files written before the loop still count."""
    first = _repeat_start(text)
    whole = text.splitlines(keepends=True)[:-1]
    period = _block_period([line.rstrip("\n") for line in whole])
    if first is not None:  # an exact repeat: keep one copy
        lines = text[:first + LOOP_WINDOW].splitlines(keepends=True)[:-1]
    elif period:  # a block repeated with growing variations: keep its first LOOP_KEEP copies
        start = len(whole) - LOOP_BLOCKS * period
        while start >= period and all(_shape(whole[start - period + i]) == _shape(whole[start + i])
                                      for i in range(period)):
            start -= period
        lines = whole[:start + LOOP_KEEP * period]
    else:
        lines = text.splitlines(keepends=True)[:-1]  # the last line was cut mid-way
        prefix, start = lines[-1][:LOOP_PREFIX] if lines else "", len(lines)
        while start > 0 and lines[start - 1][:LOOP_PREFIX] == prefix:
            start -= 1
        lines = lines[:start + LOOP_KEEP]
    cut = "".join(lines)
    return cut + ("```\n" if cut.count("```") % 2 else "")


def _repeat_start(text: str) -> int | None:
    """Where the reply's last LOOP_WINDOW characters first occurred, if they occurred before (an exact loop)."""
    if len(text) < 3 * LOOP_WINDOW:
        return None
    first = text.find(text[-LOOP_WINDOW:])
    return first if first < len(text) - LOOP_WINDOW else None


def _shape(line: str) -> str:
    return line.strip()[:LOOP_SHAPE]


def _block_period(lines: list[str]) -> int:
    """The length of a block of 2-8 lines (of at least two shapes) that the last LOOP_BLOCKS blocks repeat line
    by line in shape (the first LOOP_SHAPE characters), each no shorter than the one before: a model writing one
    test after another, each a longer variant of the one before, with no end. 0 when there is none."""
    for period in range(2, 9):
        last = lines[-LOOP_BLOCKS * period:]
        tail = [_shape(line) for line in last]
        sizes = [sum(map(len, last[i:i + period])) for i in range(0, len(last), period)]
        if len(tail) == LOOP_BLOCKS * period and len(set(tail[:period])) > 1 and all(
                tail[i] == tail[i + period] for i in range(len(tail) - period)) and sizes == sorted(sizes):
            return period  # and each block at least as long as the one before: a loop, not a table of tests
    return 0


def looping(text: str) -> bool:
    """A reply that repeats itself: its last 400 characters occurred earlier, its last LOOP_LINES lines all
    start with the same LOOP_PREFIX characters (a model writing ever longer variants of one assert), or its last
    lines repeat one block of lines LOOP_BLOCKS times in shape (ever longer variants of one test)."""
    if _repeat_start(text) is not None or _block_period(text.splitlines()[:-1]):
        return True
    lines = text.splitlines()[-LOOP_LINES - 1:-1]  # complete lines only
    return len(lines) == LOOP_LINES and len(lines[0]) >= LOOP_PREFIX and len(
        {line[:LOOP_PREFIX] for line in lines}) == 1
