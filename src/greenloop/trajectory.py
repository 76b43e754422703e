"""The run's event log: JSON Lines, appended and flushed to disk after every step."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from greenloop.record import Event, RecordError, check


class Trajectory:
    """Append-only writer. Each event has at least ts, run_id, step, kind; its kind is declared in record.py.
    strict (tests): an undeclared kind or fields that do not match the declaration raise RecordError. Otherwise
    such an event is written whole all the same (it reads back as a GenericEvent): the record never loses data."""

    def __init__(self, path: Path, run_id: str, strict: bool = False) -> None:
        self.path = path
        self.run_id = run_id
        self.strict = strict
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = open(path, "a", encoding="utf-8")  # noqa: SIM115 - closed in close()

    def event(self, step: str, kind: str, **data: Any) -> None:
        if self.strict:
            why = check(kind, data, declared_only=True)
            if why:
                raise RecordError(why)
        self._append({"ts": round(time.time(), 3), "run_id": self.run_id, "step": step, "kind": kind, **data})

    def write(self, event: Event) -> None:
        """A typed event (its ts and run_id are this trajectory's)."""
        record = event.to_json()
        self._append({**record, "ts": round(time.time(), 3), "run_id": self.run_id})

    def _append(self, record: dict[str, Any]) -> None:
        self._fh.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
        self._fh.flush()
        os.fsync(self._fh.fileno())

    def close(self) -> None:
        if not self._fh.closed:
            self._fh.close()

    def __enter__(self) -> Trajectory:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_events(path: Path) -> Iterator[dict[str, Any]]:
    """Events of a trajectory; a torn last line (crash mid-write) is skipped."""
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            line = line.strip()
            if not line:
                continue
            try:
                yield json.loads(line)
            except json.JSONDecodeError:
                continue


def runs_dir(git_common_dir: Path) -> Path:
    return git_common_dir / "greenloop" / "runs"
