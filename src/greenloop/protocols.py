"""The extension contracts. Providers and sandboxes are found by entry points
(`greenloop.models`, `greenloop.sandboxes`); built-ins register the same way."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

from greenloop.types import Completion, Message, SandboxResult, Step


@runtime_checkable
class Model(Protocol):
    name: str

    def complete(self, messages: Sequence[Message], step: Step, temperature: float | None = None) -> Completion:
        """One chat completion; `temperature` overrides the configured one for this call (None: keep it).
        Raises ModelError after the provider's retries are spent."""
        ...

    def preflight(self) -> None:
        """Cheap check that the model can be reached/loaded. Raises ModelUnavailable."""
        ...


@runtime_checkable
class Sandbox(Protocol):
    name: str

    def run(
        self,
        argv: Sequence[str],
        workdir: Path,
        timeout_s: float,
        env: Mapping[str, str] | None = None,
    ) -> SandboxResult:
        """Run argv (no shell) in workdir; never raises for the command's own failure."""
        ...
