"""Model providers, found through the `greenloop.models` entry points (built-ins included)."""

from __future__ import annotations

from importlib.metadata import entry_points
from typing import TYPE_CHECKING

from greenloop.errors import ConfigError

if TYPE_CHECKING:
    from greenloop.config import Settings
    from greenloop.protocols import Model

SPEC_HELP = "use openai:MODEL, anthropic:MODEL, local[:PATH.gguf] or scripted:FILE"


def resolve(spec: str | None, settings: Settings) -> Model:
    """A model from a SPEC like `openai:gpt-4o-mini`. Nothing is loaded or contacted here."""
    spec = (spec or "local").strip()
    provider, _, name = spec.partition(":")
    found = {ep.name: ep for ep in entry_points(group="greenloop.models")}
    if provider not in found:
        raise ConfigError(f"unknown model spec '{spec}'; {SPEC_HELP}")
    if provider in ("openai", "anthropic", "scripted") and not name:
        raise ConfigError(f"model spec '{spec}' needs a name after the colon; {SPEC_HELP}")
    cls = found[provider].load()
    return cls(name, settings)  # type: ignore[no-any-return]
