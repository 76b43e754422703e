"""The sampling seed of a model call, for the providers that take one (llama.cpp in-process, OpenAI-compatible
servers). A call's draws then follow its prompt, not how many calls the process made before it."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Sequence

from greenloop.types import Message


def sample_seed(messages: Sequence[Message], sampled: Counter[bytes]) -> int:
    """The sampling seed of a call: from its prompt, and how many times this model sampled that same prompt
    before (counted in `sampled`). A task's draws then do not depend on the calls of the tasks before it in
    the process (a benchmark worker keeps one model for all its tasks), and samples of one prompt still differ."""
    key = hashlib.sha256("\0".join(f"{m.role}\0{m.content}" for m in messages).encode()).digest()
    seed = (int.from_bytes(key[:4], "big") + sampled[key]) % 2**31
    sampled[key] += 1
    return seed
