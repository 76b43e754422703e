"""Counts every call and token, logs requests and replies to the trajectory, and enforces the budget.

The budget is enforced before a request is sent: its input tokens are estimated conservatively (a token per
3 characters; real tokenizers give about 4 for English and code), and a request whose estimate would take
the run past --max-tokens is never made. A request over MAX_PROMPT_CHARS is refused even without a budget:
no single prompt may carry megabytes of context."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from greenloop.cost import call_cost
from greenloop.errors import BudgetExceeded
from greenloop.protocols import Model, StreamingModel
from greenloop.trajectory import Trajectory
from greenloop.types import Completion, Message, Step

MAX_PROMPT_CHARS = 2_000_000  # hard cap on one request, with or without --max-tokens
CHARS_PER_TOKEN = 3  # conservative: over-estimates the tokens of English and code


def estimate_tokens(messages: Sequence[Message]) -> int:
    """An upper-leaning estimate of a request's input tokens."""
    chars = sum(len(m.content) for m in messages)
    return -(-chars // CHARS_PER_TOKEN)


@dataclass
class UsageCount:
    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float | None = 0.0  # None once a call had no known price (cost.py)


class MeteredModel:
    def __init__(self, model: Model, trajectory: Trajectory, max_calls: int | None,
                 max_tokens: int | None, max_cost: float | None = None,
                 on_text: Callable[[str], None] | None = None) -> None:
        self.model = model
        if on_text is not None and isinstance(model, StreamingModel):
            model.on_text = on_text  # the live view shows the reply as it comes
        self.name = model.name
        self.trajectory = trajectory
        self.max_calls = max_calls
        self.max_tokens = max_tokens
        self.max_cost = max_cost
        self.usage = UsageCount()

    def check_budget(self) -> None:
        if self.max_calls is not None and self.usage.calls >= self.max_calls:
            raise BudgetExceeded(f"call budget spent ({self.usage.calls} of --max-calls {self.max_calls})")
        spent = self.usage.input_tokens + self.usage.output_tokens
        if self.max_tokens is not None and spent >= self.max_tokens:
            raise BudgetExceeded(f"token budget spent ({spent} of --max-tokens {self.max_tokens})")
        if self.max_cost is not None and self.usage.cost_usd is not None and self.usage.cost_usd >= self.max_cost:
            raise BudgetExceeded(f"cost budget spent (${self.usage.cost_usd:.4f} of --max-cost {self.max_cost})")

    def check_request(self, messages: Sequence[Message], step: Step) -> None:
        """BudgetExceeded, before anything is sent, for a request over the hard cap or one whose estimated
        input would take the run past --max-tokens. The refusal is recorded without the request's text."""
        chars = sum(len(m.content) for m in messages)
        estimate = estimate_tokens(messages)
        spent = self.usage.input_tokens + self.usage.output_tokens
        if chars > MAX_PROMPT_CHARS:
            why = (f"the {step} request has {chars} characters, over the {MAX_PROMPT_CHARS}-character limit "
                   "of one request; it was not sent")
        elif self.max_tokens is not None and spent + estimate > self.max_tokens:
            why = (f"the {step} request needs about {estimate} tokens and {spent} are spent: over --max-tokens "
                   f"{self.max_tokens}; it was not sent")
        else:
            return
        self.trajectory.event(step, "request_refused", model=self.name, characters=chars,
                              estimated_tokens=estimate, spent_tokens=spent, reason=why)
        raise BudgetExceeded(why)

    def complete(self, messages: Sequence[Message], step: Step, temperature: float | None = None) -> Completion:
        self.check_budget()
        self.check_request(messages, step)
        self.trajectory.event(step, "model_request", model=self.name, temperature=temperature,
                              messages=[{"role": m.role, "content": m.content} for m in messages])
        start = time.monotonic()
        completion = self.model.complete(messages, step, temperature)
        self.usage.calls += 1
        self.usage.input_tokens += completion.usage.input_tokens
        self.usage.output_tokens += completion.usage.output_tokens
        cost = call_cost(self.name, completion.usage.input_tokens, completion.usage.output_tokens)
        self.usage.cost_usd = None if cost is None or self.usage.cost_usd is None else self.usage.cost_usd + cost
        self.trajectory.event(step, "model_reply", model=self.name, text=completion.text,
                              input_tokens=completion.usage.input_tokens,
                              output_tokens=completion.usage.output_tokens,
                              seconds=round(time.monotonic() - start, 3))
        return completion
