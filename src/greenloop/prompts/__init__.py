"""Versioned prompt templates (package data), rendered with Jinja's StrictUndefined."""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

_FENCES = {".js": "javascript", ".mjs": "javascript", ".cjs": "javascript", ".jsx": "jsx", ".ts": "typescript",
           ".tsx": "tsx", ".json": "json"}


def fence(path: str) -> str:
    """The code fence's language for a file (python unless it is a JS/TS/JSON file)."""
    dot = path.rfind(".")
    return _FENCES.get(path[dot:], "python") if dot >= 0 else "python"


def _env() -> Environment:
    env = Environment(loader=PackageLoader("greenloop", "prompts"), undefined=StrictUndefined,
                      keep_trailing_newline=True, autoescape=False)
    env.globals["fence"] = fence
    return env


def render(name: str, **values: Any) -> str:
    return _env().get_template(f"{name}.j2").render(**values)
