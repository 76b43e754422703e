"""Counts every call and token, logs requests and replies to the trajectory, and enforces the budget."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from greenloop.errors import BudgetExceeded
from greenloop.protocols import Model
from greenloop.trajectory import Trajectory
from greenloop.types import Completion, Message, Step


@dataclass
class UsageCount:
    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0


class MeteredModel:
    def __init__(self, model: Model, trajectory: Trajectory, max_calls: int | None,
                 max_tokens: int | None) -> None:
        self.model = model
        self.name = model.name
        self.trajectory = trajectory
        self.max_calls = max_calls
        self.max_tokens = max_tokens
        self.usage = UsageCount()

    def check_budget(self) -> None:
        if self.max_calls is not None and self.usage.calls >= self.max_calls:
            raise BudgetExceeded(f"call budget spent ({self.usage.calls} of --max-calls {self.max_calls})")
        spent = self.usage.input_tokens + self.usage.output_tokens
        if self.max_tokens is not None and spent >= self.max_tokens:
            raise BudgetExceeded(f"token budget spent ({spent} of --max-tokens {self.max_tokens})")

    def complete(self, messages: Sequence[Message], step: Step, temperature: float | None = None) -> Completion:
        self.check_budget()
        self.trajectory.event(step, "model_request", model=self.name, temperature=temperature,
                              messages=[{"role": m.role, "content": m.content} for m in messages])
        start = time.monotonic()
        completion = self.model.complete(messages, step, temperature)
        self.usage.calls += 1
        self.usage.input_tokens += completion.usage.input_tokens
        self.usage.output_tokens += completion.usage.output_tokens
        self.trajectory.event(step, "model_reply", model=self.name, text=completion.text,
                              input_tokens=completion.usage.input_tokens,
                              output_tokens=completion.usage.output_tokens,
                              seconds=round(time.monotonic() - start, 3))
        return completion
