"""Versioned prompt templates (package data), rendered with Jinja's StrictUndefined."""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined


def _env() -> Environment:
    return Environment(loader=PackageLoader("greenloop", "prompts"), undefined=StrictUndefined,
                       keep_trailing_newline=True, autoescape=False)


def render(name: str, **values: Any) -> str:
    return _env().get_template(f"{name}.j2").render(**values)
