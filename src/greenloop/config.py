"""One settings object: defaults < [tool.greenloop] in the target pyproject < GREENLOOP_* env < flags."""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from greenloop.errors import ConfigError

ENV_PREFIX = "GREENLOOP_"


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str | None = None
    base_url: str | None = None
    max_iterations: int = Field(5, ge=1, le=100)
    max_calls: int | None = Field(None, ge=1)
    max_tokens: int | None = Field(None, ge=1)
    temperature: float = Field(0.0, ge=0.0, le=2.0)
    retry_temperature: float = Field(0.7, ge=0.0, le=2.0)  # after a reply that changed nothing or repeated itself
    candidates: int = Field(1, ge=1, le=16)  # first drafts sampled at generate/rewrite, chosen by execution
    request_timeout: float = Field(600.0, gt=0)
    max_retries: int = Field(4, ge=0, le=20)
    reply_max_tokens: int = Field(4096, ge=64)
    fix_format: Literal["edits", "whole"] = "edits"
    commit_message: Literal["model", "template"] = "model"
    require_tests: bool = True  # tests first; off only where the project's own tests (test_cmd) judge the work
    test_cmd: str | None = None
    test_timeout: float = Field(120.0, gt=0)
    sandbox: Literal["auto", "bwrap", "process", "none"] = "auto"
    memory_limit_mb: int = Field(2048, ge=64)
    file_size_limit_mb: int = Field(100, ge=1)
    max_processes: int = Field(256, ge=8)
    cpu_seconds: int = Field(600, ge=1)
    output_limit_bytes: int = Field(1024 * 1024, ge=1024)
    max_file_lines: int = Field(500, ge=10)
    max_file_bytes: int = Field(200_000, ge=1000)
    max_files: int = Field(20, ge=1)
    allowed_extensions: tuple[str, ...] = (
        ".py", ".pyi", ".js", ".mjs", ".cjs", ".ts", ".tsx", ".jsx", ".json", ".md", ".txt",
        ".toml", ".cfg", ".ini", ".yaml", ".yml", ".html", ".css",
    )
    protected_paths: tuple[str, ...] = ()
    keep_failed: bool = False
    verify: bool = False
    from_ref: str = "HEAD"
    committer_name: str = "greenloop"
    committer_email: str = "greenloop@localhost"


def _pyproject_table(repo: Path) -> dict[str, Any]:
    path = repo / "pyproject.toml"
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: invalid TOML ({exc}); fix the file or remove [tool.greenloop]") from exc
    table = data.get("tool", {}).get("greenloop", {})
    return {k.replace("-", "_"): v for k, v in table.items()}


def _env_table(environ: Mapping[str, str]) -> dict[str, Any]:
    fields = Settings.model_fields
    out: dict[str, Any] = {}
    for key, value in environ.items():
        if not key.startswith(ENV_PREFIX):
            continue
        name = key[len(ENV_PREFIX):].lower()
        if name not in fields:
            continue  # GREENLOOP_* variables that are not settings (e.g. cache dirs) are ignored
        if fields[name].annotation == tuple[str, ...]:
            out[name] = tuple(v.strip() for v in value.split(",") if v.strip())
        else:
            out[name] = value
    return out


def load_settings(
    repo: Path | None,
    flags: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Merge the four layers; a bad value becomes a one-line ConfigError naming where it came from."""
    layers: list[tuple[str, dict[str, Any]]] = []
    if repo is not None:
        layers.append(("[tool.greenloop] in pyproject.toml", _pyproject_table(repo)))
    layers.append(("environment (GREENLOOP_*)", _env_table(os.environ if environ is None else environ)))
    layers.append(("command-line flags", {k: v for k, v in (flags or {}).items() if v is not None}))
    merged: dict[str, Any] = {}
    for source, table in layers:
        try:
            Settings(**{**merged, **table})
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err["loc"]) or "settings"
            raise ConfigError(f"{source}: {where}: {err['msg']}") from exc
        merged.update(table)
    return Settings(**merged)


_SECRET_KEY = re.compile(r"(key|token|secret|password)", re.I)
_URL_CREDENTIALS = re.compile(r"(//)[^/@\s]+@")


def redacted(settings: Settings) -> dict[str, Any]:
    """The resolved configuration for the trajectory, with anything secret-looking masked."""
    out: dict[str, Any] = {}
    for key, value in settings.model_dump().items():
        if _SECRET_KEY.search(key) and value and key not in {"max_tokens", "reply_max_tokens"}:
            out[key] = "***"
        elif isinstance(value, str):
            out[key] = _URL_CREDENTIALS.sub(r"\1***@", value)
        else:
            out[key] = value
    return out
