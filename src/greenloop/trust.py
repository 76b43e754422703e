"""Which repository settings the user has trusted: the sha256 of the exact `[tool.greenloop]` table, by
repository root, kept in the user's config directory (never in the repository, which cannot vouch for itself).
A table that changes in any way is untrusted again."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from greenloop.errors import ConfigError

TRUST_FILE = "trusted.json"
USER_CONFIG_FILE = "config.toml"

TrustState = Literal["absent", "trusted", "untrusted", "changed"]


def config_dir(environ: Mapping[str, str]) -> Path:
    """`$XDG_CONFIG_HOME/greenloop`, else `~/.config/greenloop` (the XDG base directory rule)."""
    xdg = environ.get("XDG_CONFIG_HOME", "")
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else Path(environ.get("HOME") or Path.home()) / ".config"
    return base / "greenloop"


def write_private(path: Path, body: str) -> None:
    """Replace `path` atomically with `body`, readable by its owner only: a temporary file created 0600 beside it,
    flushed to disk, then renamed over it (a reader sees the old file or the new one, never half of one); the
    directory is made 0700."""
    folder = path.parent
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(folder, stat.S_IMODE(folder.stat().st_mode) & 0o700)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=".tmp", dir=folder)  # mode 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(body)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)  # left only when the write or the rename failed


def table_hash(table: Mapping[str, Any]) -> str:
    """sha256 of the table's canonical JSON (sorted keys, no spaces; TOML dates as their text)."""
    canonical = json.dumps(table, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class TrustStore:
    """`trusted.json` in the user's config directory: {"repositories": {root: {"sha256": ...}}}."""

    path: Path

    @classmethod
    def of(cls, environ: Mapping[str, str]) -> TrustStore:
        return cls(config_dir(environ) / TRUST_FILE)

    def _read(self) -> dict[str, str]:
        if not self.path.is_file():
            return {}
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            entries = data["repositories"]
            return {str(root): str(entry["sha256"]) for root, entry in entries.items()}
        except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError, AttributeError) as exc:
            raise ConfigError(f"{self.path}: unreadable trust file ({exc.__class__.__name__}); "
                              "delete it and run `greenloop trust` again") from exc

    def _write(self, entries: dict[str, str]) -> None:
        body = json.dumps({"repositories": {root: {"sha256": digest} for root, digest in sorted(entries.items())}},
                          indent=2) + "\n"
        write_private(self.path, body)

    def state(self, root: Path, table: Mapping[str, Any]) -> TrustState:
        if not table:
            return "absent"
        recorded = self._read().get(_key(root))
        if recorded is None:
            return "untrusted"
        return "trusted" if recorded == table_hash(table) else "changed"

    def trust(self, root: Path, table: Mapping[str, Any]) -> str:
        digest = table_hash(table)
        self._write({**self._read(), _key(root): digest})
        return digest

    def revoke(self, root: Path) -> bool:
        entries = self._read()
        if entries.pop(_key(root), None) is None:
            return False
        self._write(entries)
        return True


def _key(root: Path) -> str:
    return str(root.resolve())
