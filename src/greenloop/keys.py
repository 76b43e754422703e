"""API keys stored by `greenloop keys set`: `keys.toml` in the user's config directory, mode 0600, written
atomically. The environment wins: a stored key is used only when the provider's variable is absent or empty.

Only the user puts a key here (a hidden prompt or stdin, never argv). Nothing in a repository is read for keys:
not its `.env`, not its `[tool.greenloop]` (whose `base_url` counts only once trusted, config.py), so a stored
key goes to the same servers an exported one would."""

from __future__ import annotations

import os
import stat
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from difflib import get_close_matches
from pathlib import Path

from greenloop.errors import ConfigError, UsageError
from greenloop.trust import config_dir, write_private

KEYS_FILE = "keys.toml"
PROVIDERS: dict[str, str] = {"openai": "OPENAI_API_KEY", "anthropic": "ANTHROPIC_API_KEY"}
MAX_KEY_CHARS = 4096
_HEADER = "# API keys stored by `greenloop keys set` (mode 0600). Exported OPENAI_API_KEY / ANTHROPIC_API_KEY win.\n"


@dataclass(frozen=True)
class ApiKey:
    value: str
    source: str  # "env OPENAI_API_KEY" or "stored in /home/me/.config/greenloop/keys.toml"


def provider_of(name: str) -> str:
    """`name` if it is a provider that takes a key; else a UsageError naming the providers (and the closest)."""
    if name in PROVIDERS:
        return name
    close = get_close_matches(name.lower(), PROVIDERS, n=1)
    hint = f"did you mean {close[0]}? " if close else ""
    raise UsageError(f"unknown provider '{name}'; {hint}use one of: {', '.join(PROVIDERS)}")


def checked_key(text: str) -> str:
    """The key the user typed or piped, without the surrounding whitespace; refused when it cannot be one."""
    key = text.strip()
    if not key:
        raise UsageError("the key is empty; type it at the prompt, or pipe it in: "
                         "printf %s \"$KEY\" | greenloop keys set PROVIDER")
    if len(key) > MAX_KEY_CHARS or not all("!" <= ch <= "~" for ch in key):
        raise UsageError(f"that is not an API key (keys are up to {MAX_KEY_CHARS} printable ASCII characters "
                         "without spaces); copy it again from your provider's console")
    return key


def masked(key: str) -> str:
    """Enough to recognise a key, never enough to use it: `sk-…wxyz`; short keys are all stars."""
    return f"{key[:3]}…{key[-4:]}" if len(key) >= 16 else "****"


@dataclass(frozen=True)
class KeyStore:
    path: Path

    @classmethod
    def of(cls, environ: Mapping[str, str]) -> KeyStore:
        return cls(config_dir(environ) / KEYS_FILE)

    def read(self) -> dict[str, str]:
        if not self.path.is_file():
            return {}
        try:
            table = tomllib.loads(self.path.read_text(encoding="utf-8")).get("keys", {})
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{self.path}: invalid TOML ({exc}); delete it and run `greenloop keys set` "
                              "again") from exc
        except OSError as exc:  # no permission to read it: a one-line error, not a traceback
            raise ConfigError(f"{self.path}: cannot be read ({exc.strerror}); run `chmod 600 {self.path}` as its "
                              "owner") from exc
        if not isinstance(table, dict):
            raise ConfigError(f"{self.path}: [keys] must be a table; delete the file and run `greenloop keys set`")
        return {str(k): str(v) for k, v in table.items() if k in PROVIDERS and isinstance(v, str) and v}

    def loose_permissions(self) -> int | None:
        """The file's mode when others than its owner may read or write it (else None)."""
        mode = stat.S_IMODE(self.path.stat().st_mode) if self.path.is_file() else 0
        return mode if mode & 0o077 else None

    def set(self, provider: str, key: str) -> None:
        name, value = provider_of(provider), checked_key(key)  # refused input: nothing is read or written
        self._write({**self.read(), name: value})

    def remove(self, provider: str) -> bool:
        keys = self.read()
        if keys.pop(provider_of(provider), None) is None:
            return False
        self._write(keys)
        return True

    def _write(self, keys: Mapping[str, str]) -> None:
        body = _HEADER + "[keys]\n" + "".join(f'{name} = "{_toml_escaped(value)}"\n'
                                               for name, value in sorted(keys.items()))
        write_private(self.path, body)


def _toml_escaped(value: str) -> str:
    """The body of a TOML basic string for any text (a hand-edited file may hold more than checked_key allows)."""
    return "".join("\\" + ch if ch in '"\\' else f"\\u{ord(ch):04x}" if ch < " " or ch == "\x7f" else ch
                   for ch in value)


def api_key(provider: str, environ: Mapping[str, str] | None = None) -> ApiKey | None:
    """The key a provider's client gets: the exported variable, else the stored key, else None."""
    env = os.environ if environ is None else environ
    variable = PROVIDERS[provider]
    if env.get(variable):
        return ApiKey(env[variable], f"env {variable}")
    store = KeyStore.of(env)
    stored = store.read().get(provider)
    return ApiKey(stored, f"stored in {store.path}") if stored else None
