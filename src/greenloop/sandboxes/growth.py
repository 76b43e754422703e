"""The worktree growth cap: a watcher thread measures the worktree while the command runs.

RLIMIT_FSIZE caps one file; this caps the sum (many files, many empty files). The walk is iterative and
never follows links; the pause between walks is at least twice the last walk's duration, so the watcher
costs at most about a third of a core however big the tree is. A directory the program made unlistable
stops the run as well: its size cannot be known.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from greenloop.sandboxes.tree import Unmeasurable, disk_usage

MIN_INTERVAL_S = 0.2
MiB = 1024**2


class GrowthWatch:
    def __init__(self, root: Path, limit_bytes: int) -> None:
        self.root = root
        self.limit = limit_bytes
        self.tripped = threading.Event()
        self.reason = ""
        self.baseline = self._measure() or 0  # before the command starts
        if self.reason:
            self.tripped.set()  # a tree that cannot be measured is not run in
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="greenloop-growth", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def check(self) -> bool:
        """Measure once; True (and `reason` set) if the tree grew past the cap or cannot be measured."""
        usage = self._measure()
        if usage is None:
            return True
        grown = usage - self.baseline
        if grown > self.limit:
            self.reason = (f"greenloop: stopped: the worktree grew by {grown / MiB:.1f} MiB, over the cap of "
                           f"{self.limit / MiB:.0f} MiB (worktree_growth_limit_mb)")
            return True
        return False

    def _measure(self) -> int | None:
        try:
            return disk_usage(self.root)
        except Unmeasurable as exc:
            self.reason = (f"greenloop: stopped: {exc.strerror}: the worktree's size cannot be measured "
                           "(a directory was made unreadable)")
            return None

    def _watch(self) -> None:
        while not self._stop.is_set():
            start = time.monotonic()
            if self.check():
                self.tripped.set()
                return
            self._stop.wait(max(MIN_INTERVAL_S, 2 * (time.monotonic() - start)))
