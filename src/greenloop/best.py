"""The best program so far. Every judged attempt gets a score, anchors first: how many of the task's own
examples it meets, then how many tests of the project it broke, then how many tests pass. An attempt that
scores below the best is undone (its source files go back to the best version), so a fix round can never
leave the run worse than an earlier round; the run finishes with the best program. Early stop: after
`patience` attempts in a row without a better score, more rounds are unlikely to help."""

from __future__ import annotations

from dataclasses import dataclass, field

from greenloop.judge import Verdict
from greenloop.ledger import Entry, Ledger


@dataclass(frozen=True, order=True)
class Score:
    anchors: int  # the task's own examples met
    unbroken: int  # minus the baseline tests broken (and frozen tests lost)
    passing: int  # tests passed minus tests failed, over every test run of the verdict

    def describe(self, examples: int) -> str:
        parts = [f"{self.anchors} of {examples} task example(s) met"] if examples else []
        if self.unbroken:
            parts.append(f"{-self.unbroken} earlier-passing test(s) broken")
        return ", ".join(parts + [f"{self.passing:+d} tests (passed minus failed)"])


def score(verdict: Verdict, examples: int, missed: int, broken: int) -> Score:
    """`broken`: the project's earlier-passing tests this attempt broke (not the run's own failing tests,
    which `passing` already counts)."""
    report = verdict.report
    return Score(examples - missed, -broken, report.passed - report.failed - report.errors)


@dataclass
class Best:
    """The best-scoring attempt: its number, score, source files (path -> entry) and failure text."""

    attempt: int = 0
    score: Score | None = None
    sources: dict[str, Entry] = field(default_factory=dict)
    failure: str = ""
    verdict: Verdict | None = None  # its verdict: the run's verdict again when a worse attempt is undone
    stale: int = 0  # attempts in a row since the best one that did not beat it

    def consider(self, attempt: int, new: Score, ledger: Ledger, failure: str) -> bool:
        """Record attempt `attempt` if it beats the best (ties go to the newer one, which has seen more
        feedback). Returns False when it is worse than the best, which the caller then undoes."""
        if self.score is not None and new < self.score:
            self.stale += 1
            return False
        self.stale = 0 if self.score is None or new > self.score else self.stale + 1
        self.attempt, self.score, self.failure = attempt, new, failure
        self.sources = {p: Entry(**vars(e)) for p, e in ledger.entries.items() if not e.is_test}
        return True

    def restore_into(self, ledger: Ledger) -> list[str]:
        """Put the best attempt's source files back into the ledger (the disk follows at the next reset);
        source files created since are dropped. Tests stay: they only grow and freeze. Returns the paths."""
        changed = []
        for path, entry in list(ledger.entries.items()):
            if entry.is_test:
                continue
            kept = self.sources.get(path)
            if kept is None:
                del ledger.entries[path]
                changed.append(path)
            elif kept.current != entry.current:
                ledger.entries[path] = Entry(**vars(kept))
                changed.append(path)
        for path, kept in self.sources.items():
            if path not in ledger.entries:
                ledger.entries[path] = Entry(**vars(kept))
                changed.append(path)
        return sorted(changed)
