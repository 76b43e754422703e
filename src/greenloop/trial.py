"""Files tried in the run's place after a green: recorded, judged by the whole verdict (the project's tests and
the run's own frozen ones), kept when it is green and the test run changed no checked file, else put back.
Used by crosscheck.py (another implementation) and strengthen.py (stronger tests)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from greenloop.config import Settings
from greenloop.edits import AppliedFile
from greenloop.judge import Verdict, judge
from greenloop.protocols import Sandbox
from greenloop.state import State
from greenloop.workspace import Workspace


@dataclass(frozen=True)
class Trial:
    kept: bool
    verdict: Verdict
    drifted: list[str]  # checked files the test run changed (the trial then does not count)


def try_files(st: State, sandbox: Sandbox, ws: Workspace, settings: Settings, python: Path,
              written: Mapping[str, AppliedFile]) -> Trial:
    """`written` in the run's files; when kept, its verdict is the run's."""
    before = {p: replace(e) if (e := st.ledger.entries.get(p)) else None for p in written}
    st.ledger.record(written)
    st.ledger.reset(ws)
    verdict = judge(sandbox, ws.root, python, settings.test_cmd, settings.test_timeout, st.baseline_or_absent,
                    st.ledger.tests, st.frozen_ids, st.runner)
    drifted = st.ledger.drifted(ws)
    if verdict.green and not drifted:
        st.verdict = verdict
        return Trial(True, verdict, drifted)
    for path, entry in before.items():
        if entry is None:
            del st.ledger.entries[path]
        else:
            st.ledger.entries[path] = entry
    st.ledger.reset(ws)
    return Trial(False, verdict, drifted)
