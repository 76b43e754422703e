"""The grade of a green result, after the tests pass and before the commit: the quality metrics of every written
Python file (quality.py), recorded as a `grade` event and returned for the run summary. Data, not a gate."""

from __future__ import annotations

import time

from greenloop import record
from greenloop.ledger import Ledger
from greenloop.quality import measure
from greenloop.trajectory import Trajectory


def grade(ledger: Ledger, traj: Trajectory) -> dict[str, object]:
    """`{"files": {path: metrics}}` for the implementation files the run wrote (tests are not graded)."""
    started = time.monotonic()
    written = {p: e.current for p, e in ledger.entries.items() if not e.is_test and not e.protected}
    quality: dict[str, object] = {"files": measure(written, {p: ledger.entries[p].original for p in written})}
    traj.write(record.Grade(ts=0, run_id="", step="grade", quality=quality,
                            seconds=round(time.monotonic() - started, 3)))
    return quality
