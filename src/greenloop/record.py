"""The run record's typed events: one frozen dataclass per kind (declared in events.py), written and read through
the same types.

A line of the trajectory is `{"ts", "run_id", "step", "kind", **fields}`. Every kind greenloop writes is declared
in events.py (a test checks every `.event(...)` call in src/ against these declarations). Writing never loses data: an
event whose kind is not declared, or whose fields do not match its declaration (a newer or older greenloop), is
written as it is and read back as a `GenericEvent` that keeps every field. A line that is not an event at all (not
JSON, no kind) is skipped with a warning, never a crash.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, fields
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from greenloop import events
from greenloop.events import (  # the kinds are read back by name from here: record.Grade
    BASE_FIELDS,
    AttemptEvent,
    Baseline,
    Candidates,
    Commit,
    Context,
    Continued,
    Discard,
    Event,
    GenericEvent,
    Grade,
    Interrupted,
    ModelReply,
    RunEnd,
    RunStart,
    TaskExamples,
    TestRun,
    Undo,
    Worktree,
)

__all__ = [  # the reader, and the kinds other modules read back by name
    "RECORD_VERSION", "KINDS", "Reading", "RecordError", "check", "declared_fields", "parse_lines", "read", "typed",
    "AttemptEvent", "Baseline", "Candidates", "Commit", "Context", "Continued", "Discard", "Event", "GenericEvent",
    "Grade", "Interrupted", "ModelReply", "RunEnd", "RunStart", "TaskExamples", "TestRun", "Undo", "Worktree",
]

RECORD_VERSION = 1  # bump when a declared kind changes incompatibly; written in run_start


class RecordError(ValueError):
    """An event that does not match its declaration (raised only when reading strictly)."""




def _declared(cls: type[Event]) -> list[type[Event]]:
    return [c for sub in cls.__subclasses__() for c in (sub, *_declared(sub))]


KINDS: dict[str, type[Event]] = {cls.KIND: cls for cls in _declared(events.Event) if cls.KIND}


def declared_fields(kind: str) -> set[str]:
    return {f.name for f in fields(KINDS[kind])} - set(BASE_FIELDS)


@cache
def _adapter(kind: str) -> TypeAdapter[Any]:
    return TypeAdapter(KINDS[kind])


def _generic(line: Mapping[str, Any]) -> GenericEvent:
    """A line kept whole; a timestamp that is not a number (a foreign line) reads as 0."""
    ts = line["ts"]
    return GenericEvent(ts=float(ts) if isinstance(ts, (int, float)) and not isinstance(ts, bool) else 0.0,
                        run_id=str(line["run_id"]), step=str(line["step"]), kind_name=str(line["kind"]),
                        data={k: v for k, v in line.items() if k not in BASE_FIELDS})


def typed(line: Mapping[str, Any]) -> Event:
    """The typed event of one decoded line; raises RecordError when a declared kind does not match."""
    kind = str(line["kind"])
    cls = KINDS.get(kind)
    body = {k: v for k, v in line.items() if k != "kind"}
    if cls is None:
        return _generic(line)
    try:
        return _adapter(kind).validate_python(body)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise RecordError(f"'{kind}' event: {where}: {err['msg']}") from exc


def check(kind: str, data: Mapping[str, Any], declared_only: bool = False) -> str | None:
    """Why `data` does not match the declaration of `kind` (None: it does). An undeclared kind is fine unless
    `declared_only`."""
    if kind not in KINDS:
        return f"kind '{kind}' is not declared in greenloop.record" if declared_only else None
    try:
        typed({"ts": 0.0, "run_id": "", "step": "", "kind": kind, **json.loads(json.dumps(data, default=str))})
    except RecordError as exc:
        return str(exc)
    return None


@dataclass
class Reading:
    """A trajectory read back: its events in order, and one warning per line that was skipped or kept untyped."""

    events: list[Event]
    warnings: list[str]

    def of(self, cls: type[Any]) -> list[Any]:
        return [e for e in self.events if isinstance(e, cls)]

    def first(self, cls: type[Any]) -> Any:
        return next((e for e in self.events if isinstance(e, cls)), None)

    def last(self, cls: type[Any]) -> Any:
        return next((e for e in reversed(self.events) if isinstance(e, cls)), None)


def _decode(raw: str, number: int) -> dict[str, Any] | str:
    try:
        line = json.loads(raw)
    except json.JSONDecodeError:
        return f"line {number}: not JSON (a torn write or a foreign file); skipped"
    if not isinstance(line, dict) or any(k not in line for k in BASE_FIELDS):
        return f"line {number}: not a greenloop event (needs {', '.join(BASE_FIELDS)}); skipped"
    return line


def parse_lines(lines: Iterator[str] | list[str], strict: bool = False) -> Reading:
    out = Reading([], [])
    for number, raw in enumerate(lines, 1):
        if not raw.strip():
            continue
        line = _decode(raw, number)
        if isinstance(line, str):
            if strict:
                raise RecordError(line)
            out.warnings.append(line)
            continue
        try:
            event = typed(line)
        except RecordError as exc:
            if strict:
                raise RecordError(f"line {number}: {exc}") from exc
            out.warnings.append(f"line {number}: {exc}; kept untyped")
            event = _generic(line)
        if strict and isinstance(event, GenericEvent):
            raise RecordError(f"line {number}: kind '{event.kind}' is not declared in greenloop.record")
        if isinstance(event, RunStart) and event.record_version > RECORD_VERSION:
            out.warnings.append(f"line {number}: written by a newer greenloop (record version "
                                f"{event.record_version} > {RECORD_VERSION}); unknown fields are kept untyped")
        out.events.append(event)
    return out


def read(path: Path, strict: bool = False) -> Reading:
    """A trajectory file, typed. strict: any line that is not a declared, matching event raises RecordError."""
    with open(path, encoding="utf-8") as fh:
        return parse_lines(list(fh), strict)
