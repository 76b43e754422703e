"""Deterministic models that ship in the package: replies replayed from a file, or a function."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from greenloop.errors import ConfigError, ScriptExhausted
from greenloop.types import Completion, Message, Step, Usage

if TYPE_CHECKING:
    from greenloop.config import Settings


def estimate_tokens(text: str) -> int:
    return max(1, len(text) // 4)


class FunctionModel:
    """The model is a function of (messages, step) -> reply text. Requests are kept for inspection."""

    def __init__(self, fn: Callable[[Sequence[Message], Step], str], name: str = "function") -> None:
        self.fn = fn
        self.name = name
        self.requests: list[tuple[Step, list[Message]]] = []
        self.temperatures: list[float | None] = []

    def preflight(self) -> None:
        return None

    def complete(self, messages: Sequence[Message], step: Step, temperature: float | None = None) -> Completion:
        self.requests.append((step, list(messages)))
        self.temperatures.append(temperature)
        text = self.fn(messages, step)
        prompt = sum(estimate_tokens(m.content) for m in messages)
        return Completion(text=text, usage=Usage(prompt, estimate_tokens(text)))


def load_script(path: Path) -> list[dict[str, Any]]:
    """A script is JSON: a list of replies, or {"replies": [...]}. A reply is a string or
    {"text": ..., "step": optional expected step}."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"scripted:{path}: no such file; give the path of a JSON reply script") from exc
    except json.JSONDecodeError as exc:
        raise ConfigError(f"scripted:{path}: not valid JSON ({exc.msg} at line {exc.lineno})") from exc
    replies = data.get("replies") if isinstance(data, dict) else data
    if not isinstance(replies, list):
        raise ConfigError(f"scripted:{path}: expected a list of replies or {{\"replies\": [...]}}")
    out = []
    for i, r in enumerate(replies):
        entry = {"text": r} if isinstance(r, str) else r
        if not isinstance(entry, dict) or not isinstance(entry.get("text"), str):
            raise ConfigError(f"scripted:{path}: reply {i} must be a string or an object with \"text\"")
        out.append(entry)
    return out


class ScriptedModel(FunctionModel):
    """`scripted:FILE`: replies in order. A reply that names a `step` must be asked for at that step
    (a script that drifts from the loop fails loudly instead of answering the wrong question).

    The test-design call and the generate call after it are one turn of a script: unless the reply there names
    `test_design`, the reply for `generate` answers both (the test design keeps its test files, the generate call
    its implementation), so a script of a run's replies replays with `test_design` on or off."""

    def __init__(self, name: str, settings: Settings | None = None,
                 replies: list[dict[str, Any]] | None = None) -> None:
        self.replies = replies if replies is not None else load_script(Path(name))
        self.position = 0
        self.shared = False  # the reply at `position` answered a test-design call; the generate call gets it too
        super().__init__(self._next, name=f"scripted:{name}")

    def _next(self, messages: Sequence[Message], step: Step) -> str:
        if self.shared and step != "generate":
            self.position += 1  # the turn ended at its test design (no generate call followed)
        self.shared = False
        if self.position >= len(self.replies):
            raise ScriptExhausted(f"the script has no reply left for step '{step}' "
                                  f"(it had {len(self.replies)})")
        entry = self.replies[self.position]
        expected = entry.get("step")
        if step == "test_design" and expected in (None, "generate"):
            self.shared = True
            return str(entry["text"])
        if expected and expected != step:
            raise ScriptExhausted(f"script reply {self.position} is for step '{expected}', "
                                  f"but the loop asked for '{step}'")
        self.position += 1
        return str(entry["text"])
