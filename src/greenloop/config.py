"""One settings object: defaults < user config < trusted [tool.greenloop] < GREENLOOP_* env < flags.

The user (their config file, environment and flags) is trusted; the repository is not. A repository key
that weakens safety or redirects data (see `weakening_keys`) counts only once the user has trusted that
exact table (`greenloop trust`, trust.py); until then it is ignored and a one-line notice says so."""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from difflib import get_close_matches
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from greenloop.errors import ConfigError, GuardrailViolation
from greenloop.trust import USER_CONFIG_FILE, TrustState, TrustStore, config_dir, table_hash
from greenloop.workspace import Workspace

ENV_PREFIX = "GREENLOOP_"
REPO_SOURCE = "[tool.greenloop] in pyproject.toml"
FLAGS_SOURCE = "command-line flags"

class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str | None = None
    base_url: str | None = None
    max_iterations: int = Field(5, ge=1, le=100)
    max_calls: int | None = Field(None, ge=1)
    max_tokens: int | None = Field(None, ge=1)
    max_cost: float | None = Field(None, gt=0)  # dollars, for models with a known price (cost.py)
    temperature: float = Field(0.0, ge=0.0, le=2.0)
    retry_temperature: float = Field(0.7, ge=0.0, le=2.0)  # after a reply that changed nothing or repeated itself,
    # and for every sample after the first (candidates, resamples, agreement and crosscheck samples)
    resample: int = Field(4, ge=0, le=16)  # replies sampled, chosen by the task's examples, for a redraft after
    # the greedy framings missed them (instead of asking for a fix: repair rarely mends a small model's logic)
    candidates: int = Field(1, ge=1, le=16)  # replies sampled per attempt, one chosen by execution
    request_timeout: float = Field(600.0, gt=0)
    max_retries: int = Field(4, ge=0, le=20)
    reply_max_tokens: int = Field(4096, ge=64)
    fix_format: Literal["edits", "whole"] = "edits"
    commit_message: Literal["model", "template"] = "model"
    require_tests: bool = True  # tests first; off only where the project's own tests (test_cmd) judge the work
    test_design: bool = True  # tests from a call of their own that never sees the implementation
    lean_first: bool = True  # the first implementation from a first-draft framing (when it need not write tests)
    patience: int = Field(2, ge=1, le=100)  # attempts in a row without a better program before the run stops
    map_tokens: int = Field(1024, ge=0, le=16000)  # the ranked repo map in the generate prompt (0: none)
    agreement: bool = True  # a second implementation settles a model test that the first contradicts
    crosscheck: bool = False  # a green without strong evidence is checked against other implementations (opt-in:
    # on 27 weak HumanEval greens of the 1.5B model it changed no hidden-test outcome, at 54 extra calls)
    crash_check: bool = True  # a green that raises by accident on an input near the task's examples: one fix asked
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
    tmpfs_limit_mb: int = Field(256, ge=16)  # each scratch tmpfs in the jail
    worktree_growth_limit_mb: int = Field(512, ge=16)  # what a run may add to the worktree on disk
    from_ref: str = Field("HEAD", pattern=r"^[^-]")  # a ref, never an option for git
    committer_name: str = "greenloop"
    committer_email: str = "greenloop@localhost"
    mutation_budget_s: float | None = Field(None, ge=0)  # None: the run's own test time or 40% of the run so far,
    # whichever is more, at most 20 s
    mutation: Literal["score", "improve", "off"] = "score"  # improve: surviving mutants back to the test designer


# Keys a repository may set only once trusted: they choose what runs, where, and where data goes.
TRUST_ONLY_KEYS = ("sandbox", "test_cmd", "base_url", "model", "verify")
# Limits: a repository may lower them freely; raising one above the user's value needs trust.
LIMIT_KEYS = (
    "memory_limit_mb", "file_size_limit_mb", "max_processes", "cpu_seconds", "output_limit_bytes",
    "max_file_lines", "max_file_bytes", "max_files", "test_timeout", "tmpfs_limit_mb", "worktree_growth_limit_mb",
    "max_calls", "max_tokens", "max_cost", "max_iterations", "patience", "candidates", "resample",
    "request_timeout",
    "reply_max_tokens", "max_retries", "map_tokens", "mutation_budget_s",
)
AUTO_MUTATION_BUDGET_S = 20.0  # an unset mutation_budget_s is automatic and at most this (grade.default_budget)
# What a limit left unset stands for where it is not "no limit": a repository's value is compared with it.
UNSET_LIMITS = {"mutation_budget_s": AUTO_MUTATION_BUDGET_S}


def _normalized(table: Mapping[str, Any]) -> dict[str, Any]:
    return {str(k).replace("-", "_"): v for k, v in table.items()}


def _toml_file(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: invalid TOML ({exc}); fix the file") from exc


def _repo_pyproject(repo: Path) -> dict[str, Any]:
    """The repository's pyproject.toml, read through the path gate: a link (to /etc/shadow, a FIFO, a huge
    file) is never followed, and such a file holds no settings for greenloop."""
    try:
        text = Workspace(repo).read_text("pyproject.toml")
    except GuardrailViolation:
        return {}
    try:
        return tomllib.loads(text) if text is not None else {}
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{repo / 'pyproject.toml'}: invalid TOML ({exc}); fix the file") from exc


def repo_table(repo: Path) -> dict[str, Any]:
    """`[tool.greenloop]` of the repository's pyproject.toml, exactly as written (keys normalized)."""
    tool = _repo_pyproject(repo).get("tool", {})
    table = tool.get("greenloop", {}) if isinstance(tool, dict) else {}
    if not isinstance(table, dict):
        raise ConfigError(f"{repo / 'pyproject.toml'}: [tool.greenloop] must be a table")
    return _normalized(table)


def user_config_path(environ: Mapping[str, str]) -> Path:
    return config_dir(environ) / USER_CONFIG_FILE


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


# GREENLOOP_* variables that are not settings: the model cache (modelstore.py) and the benchmark model directory
# (tools/bench-model and the test suite).
OTHER_ENV = ("GREENLOOP_CACHE_DIR", "GREENLOOP_BENCH_MODEL_DIR")


def unknown_env_notices(environ: Mapping[str, str]) -> tuple[str, ...]:
    """One line for each GREENLOOP_* variable greenloop does not read (a typo is otherwise silently ignored)."""
    known = [name.upper() for name in (*Settings.model_fields, *(k[len(ENV_PREFIX):] for k in OTHER_ENV))]
    lines = []
    for key in sorted(environ):
        name = key[len(ENV_PREFIX):].upper()
        if not key.startswith(ENV_PREFIX) or name in known:  # read case-insensitively, as _env_table does
            continue
        close = get_close_matches(name, known, n=1, cutoff=0.7)
        if close:
            hint = f"did you mean {ENV_PREFIX}{close[0]}?"
        elif "KEY" in name:
            hint = "API keys come from OPENAI_API_KEY / ANTHROPIC_API_KEY or `greenloop keys set PROVIDER`"
        else:
            hint = (f"the variables are {ENV_PREFIX}<SETTING> for each setting `greenloop config show` lists, "
                    f"and {', '.join(OTHER_ENV)}")
        lines.append(f"{key} is not a greenloop variable, ignored; {hint}")
    return tuple(lines)


def weakening_keys(lower: Settings, candidate: Settings, table: Mapping[str, Any]) -> tuple[str, ...]:
    """The keys of `table` that make `candidate` weaker than `lower` (or redirect data), in table order."""
    weak = []
    for key in table:
        before, after = getattr(lower, key), getattr(candidate, key)
        if key in TRUST_ONLY_KEYS:
            weak.append(key)
        elif key == "require_tests" and before and not after:
            weak.append(key)
        elif key == "allowed_extensions" and not set(after) <= set(before):
            weak.append(key)
        elif key in LIMIT_KEYS:
            before = UNSET_LIMITS.get(key) if before is None else before
            if before is not None and (after is None or after > before):
                weak.append(key)
    return tuple(weak)


@dataclass(frozen=True)
class RepoTrust:
    """What the repository asks for and whether the user has trusted it."""

    root: Path
    table: dict[str, Any]
    sha256: str
    state: TrustState  # absent: no table; trusted; untrusted: never trusted; changed: trusted once, edited since
    weakening: tuple[str, ...]  # keys that count only when trusted

    @property
    def ignored(self) -> tuple[str, ...]:
        return () if self.state == "trusted" else self.weakening

    def notice(self) -> str | None:
        if not self.ignored:
            return None
        why = "it changed since you trusted it" if self.state == "changed" else "not trusted yet"
        return (f"{self.root / 'pyproject.toml'}: ignored [tool.greenloop] {', '.join(self.ignored)} ({why}); "
                f"review them and run `greenloop trust --repo {self.root}` to use them")


@dataclass(frozen=True)
class ResolvedSettings:
    settings: Settings
    notices: tuple[str, ...]  # one line each, for stderr and the run summary's warnings
    repo: RepoTrust | None


def _check(merged: Mapping[str, Any], table: Mapping[str, Any], source: str) -> Settings:
    try:
        return Settings(**{**merged, **table})
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "settings"
        raise ConfigError(f"{source}: {where}: {err['msg']}") from exc


def _refuse_no_sandbox(table: Mapping[str, Any], source: str) -> None:
    if source != FLAGS_SOURCE and table.get("sandbox") == "none":
        raise ConfigError(f'{source}: sandbox = "none" is honored only from the command line; '
                          "pass --sandbox none for this run, or remove the setting")


def user_settings(environ: Mapping[str, str]) -> Settings:
    """Defaults and the user's config file: the layers a repository's settings are compared with."""
    path = user_config_path(environ)
    table = _normalized(_toml_file(path))
    _refuse_no_sandbox(table, f"user config {path}")
    return _check({}, table, f"user config {path}")


def repo_trust(root: Path, lower: Settings, environ: Mapping[str, str]) -> RepoTrust:
    table = repo_table(root)
    candidate = _check(lower.model_dump(exclude_unset=True), table, REPO_SOURCE)
    weak = weakening_keys(lower, candidate, table)
    state = TrustStore.of(environ).state(root, table) if table else "absent"
    return RepoTrust(root, table, table_hash(table), state, weak)


def resolve_settings(
    repo: Path | None,
    flags: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> ResolvedSettings:
    """Merge the five layers; a bad value becomes a one-line ConfigError naming where it came from."""
    env = os.environ if environ is None else environ
    lower = user_settings(env)
    merged = lower.model_dump(exclude_unset=True)
    trust: RepoTrust | None = None
    if repo is not None:
        trust = repo_trust(repo, lower, env)
        table = {k: v for k, v in trust.table.items() if k not in trust.ignored}
        _refuse_no_sandbox(table, REPO_SOURCE)
        if "protected_paths" in table:  # added protection only: merged with, never replacing, the user's
            paths = (*merged.get("protected_paths", ()), *table["protected_paths"])
            table["protected_paths"] = tuple(dict.fromkeys(paths))
        merged = _check(merged, table, REPO_SOURCE).model_dump(exclude_unset=True)
    for source, table in (("environment (GREENLOOP_*)", _env_table(env)),
                          (FLAGS_SOURCE, {k: v for k, v in (flags or {}).items() if v is not None})):
        _refuse_no_sandbox(table, source)
        merged = _check(merged, table, source).model_dump(exclude_unset=True)
    notice = trust.notice() if trust else None
    return ResolvedSettings(Settings(**merged), (notice,) if notice else (), trust)


def load_settings(
    repo: Path | None,
    flags: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """The settings alone (see resolve_settings for the notices that come with them)."""
    return resolve_settings(repo, flags, environ).settings


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


def config_sources(root: Path | None, environ: Mapping[str, str]) -> list[tuple[str, object, str]]:
    """Each effective setting, its value (secrets masked) and the layer it came from (`config show`)."""
    source: dict[str, str] = {}
    path = user_config_path(environ)
    source.update({k: f"user config {path}" for k in _normalized(_toml_file(path))})
    if root is not None:
        trust = repo_trust(root, user_settings(environ), environ)
        layer = "repository (trusted)" if trust.state == "trusted" else "repository"
        source.update({k: layer for k in trust.table if k not in trust.ignored})
    source.update({k: f"env GREENLOOP_{k.upper()}" for k in _env_table(environ)})
    values = redacted(resolve_settings(root, {}, environ).settings)
    return [(k, v, source.get(k, "default")) for k, v in values.items()]
