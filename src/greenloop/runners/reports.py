"""Machine-readable reports of the JavaScript runners -> per-test outcomes with ids `file::suite::name`.
Every parser is total: a report that is not what it should be (the tests can write it) gives no outcomes."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from greenloop.types import TestOutcome, TestStatus

MESSAGE_CHARS = 4000


def relative(file: str, workdir: Path) -> str:
    path = Path(file)
    if path.is_absolute():
        try:
            return path.relative_to(workdir.resolve()).as_posix()
        except ValueError:
            try:
                return path.relative_to(workdir).as_posix()
            except ValueError:
                return file
    return path.as_posix()


def _outcome(file: str, titles: Iterable[object], status: TestStatus, message: object) -> TestOutcome:
    names = [str(t) for t in titles if t not in (None, "")]
    text = message if isinstance(message, str) else ""
    return TestOutcome("::".join([file, *names]), file, status, text[:MESSAGE_CHARS])


def node_lines(text: str, workdir: Path) -> tuple[TestOutcome, ...]:
    """greenloop's node --test reporter (node_reporter.mjs): one JSON object a line."""
    out = []
    for line in text.splitlines():
        try:
            item = json.loads(line)
        except (ValueError, RecursionError):  # the tests wrote this file: `[[[...` nested deep
            continue
        if not isinstance(item, dict) or item.get("status") not in ("passed", "failed", "skipped"):
            continue
        titles = item.get("titles")
        titles = titles if isinstance(titles, list) else []
        status = item["status"]
        if titles == [item.get("file")] and status == "failed":  # the file itself failed to load or run
            titles, status = ["<collection>"], "error"
        out.append(_outcome(relative(str(item.get("file") or ""), workdir), titles, status, item.get("message")))
    return tuple(out)


def _load(text: str) -> dict[str, object]:
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return {}
    return data if isinstance(data, dict) else {}


def mocha_json(text: str, workdir: Path) -> tuple[TestOutcome, ...]:
    """mocha --reporter json: `tests` with `file`, `fullTitle`, `title`, `err` ({} when it passed)."""
    data = _load(text)
    tests = data.get("tests")
    raw_pending = data.get("pending")
    pending = {(t.get("file"), t.get("fullTitle")) for t in raw_pending if isinstance(t, dict)} \
        if isinstance(raw_pending, list) else set()
    out = []
    for t in tests if isinstance(tests, list) else []:
        if not isinstance(t, dict):
            continue
        err = t.get("err") if isinstance(t.get("err"), dict) else {}
        full, title = str(t.get("fullTitle") or ""), str(t.get("title") or "")
        suites = full[: -len(title)].strip() if title and full.endswith(title) else ""
        skipped = (t.get("file"), t.get("fullTitle")) in pending
        status: TestStatus = "skipped" if skipped else ("failed" if err else "passed")
        message = "\n".join(str(err[k]) for k in ("message", "stack") if isinstance(err, dict) and err.get(k))
        out.append(_outcome(relative(str(t.get("file") or ""), workdir), [suites, title], status, message))
    return tuple(out)


_JEST_STATUS: dict[str, TestStatus] = {"passed": "passed", "failed": "failed", "pending": "skipped",
                                       "skipped": "skipped", "todo": "skipped", "disabled": "skipped"}


def jest_json(text: str, workdir: Path) -> tuple[TestOutcome, ...]:
    """jest --json and vitest --reporter=json (the same shape): `testResults[].assertionResults[]`. A file
    that failed to load (a syntax error, a missing module) has no assertions: it is one error outcome."""
    data = _load(text)
    results = data.get("testResults")
    out: list[TestOutcome] = []
    for result in results if isinstance(results, list) else []:
        if not isinstance(result, dict):
            continue
        file = relative(str(result.get("name") or result.get("testFilePath") or ""), workdir)
        cases = result.get("assertionResults") or result.get("testResults")
        cases = cases if isinstance(cases, list) else []
        for case in cases:
            if not isinstance(case, dict):
                continue
            ancestors = case.get("ancestorTitles")
            status = _JEST_STATUS.get(str(case.get("status")), "error")
            messages = case.get("failureMessages")
            message = "\n".join(str(m) for m in messages) if isinstance(messages, list) else ""
            out.append(_outcome(file, [*(ancestors if isinstance(ancestors, list) else []), case.get("title")],
                                status, message))
        if not cases and result.get("status") == "failed":
            out.append(_outcome(file, ["<collection>"], "error", result.get("message")))
    return tuple(out)
