"""One run as a self-contained HTML page (`greenloop show RUN --html`) and the index of a repository's runs
(`greenloop runs --html`): inline CSS and SVG, `<details>` for the long parts, no script, no external asset.

Everything in a run record is untrusted (the model's replies, the tests' output, the repository's file names):
it reaches the page only through Jinja with autoescape on, never through string concatenation, and the page's
Content-Security-Policy forbids scripts and remote loads should anything slip through all the same."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from greenloop import record
from greenloop.figures import GradeFigures, parse
from greenloop.runlog import RunRecord, printable_time, when
from greenloop.runstats import Stats
from greenloop.sanitize import for_terminal

CLIP_CHARS = 100_000  # per text block on the page; the trajectory keeps everything
CHART_WIDTH = 260  # pixels of the longest bar
_SETUP = (record.RunStart, record.Worktree, record.Context, record.Continued, record.Baseline)
_END = (record.Grade, record.Commit, record.RunEnd, record.Interrupted, record.Undo, record.Discard)


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    width: int  # pixels, of CHART_WIDTH


@dataclass(frozen=True)
class Section:
    """An attempt: the events up to its `attempt` event (None: events after the last attempt)."""

    attempt: record.AttemptEvent | None
    events: list[record.Event]


@dataclass(frozen=True)
class RunPage:
    rec: RunRecord
    start: record.RunStart | None
    worktree: record.Worktree | None
    context: record.Context | None
    baselines: list[record.Baseline]
    continued: list[record.Continued]
    sections: list[Section]
    grade: GradeFigures | None
    commit: record.Commit | None
    seconds_by_step: list[Bar]
    tokens_by_step: list[Bar]
    warnings: list[str] = field(default_factory=list)


def bars(values: dict[str, float]) -> list[Bar]:
    top = max(values.values(), default=0.0)
    return [Bar(label, round(v, 3), round(CHART_WIDTH * max(0.0, v) / top) if top > 0 else 0)
            for label, v in values.items()]


def per_step(events: Sequence[record.Event]) -> tuple[dict[str, float], dict[str, float]]:
    """Seconds (the time since the previous event, given to this event's step) and tokens (of model replies) by
    step, in the order the steps first appear."""
    seconds: dict[str, float] = {}
    tokens: dict[str, float] = {}
    previous: float | None = None
    for e in events:
        if not printable_time(e.ts):
            continue
        if previous is not None and isinstance(e, record.RunStart):
            previous = None  # a continued run: the pause before it is nobody's step
        seconds[e.step] = seconds.get(e.step, 0.0) + (max(0.0, e.ts - previous) if previous is not None else 0.0)
        previous = e.ts
        if isinstance(e, record.ModelReply):
            tokens[e.step] = tokens.get(e.step, 0.0) + e.input_tokens + e.output_tokens
    return seconds, tokens


def sections(events: Iterable[record.Event]) -> list[Section]:
    out: list[Section] = []
    pending: list[record.Event] = []
    for e in events:
        if isinstance(e, record.AttemptEvent):
            out.append(Section(e, pending))
            pending = []
        elif not isinstance(e, _SETUP + _END):
            pending.append(e)
    if pending:
        out.append(Section(None, pending))
    return out


def run_page(rec: RunRecord) -> RunPage:
    reading = record.read(rec.path)
    graded: record.Grade | None = reading.last(record.Grade)
    grade, why = parse(GradeFigures, graded.quality, "the grade") if graded else (None, [])
    seconds, tokens = per_step(reading.events)
    return RunPage(
        rec=rec, start=reading.first(record.RunStart), worktree=reading.first(record.Worktree),
        context=reading.last(record.Context), baselines=reading.of(record.Baseline),
        continued=reading.of(record.Continued), sections=sections(reading.events), grade=grade,
        commit=reading.last(record.Commit), seconds_by_step=bars(seconds),
        tokens_by_step=bars(tokens), warnings=[*rec.warnings, *why])


def clip(text: str, limit: int = CLIP_CHARS) -> str:
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n[... {len(text) - limit} more characters in the trajectory]"


def diff_class(line: str) -> str:
    if line.startswith(("+++", "---")):
        return "file"
    return {"+": "add", "-": "del", "@": "hunk"}.get(line[:1], "")


def as_json(value: Any) -> str:
    return json.dumps(value, indent=1, ensure_ascii=False, default=str)


def _visible(value: Any) -> Any:
    """Every value the page prints: text from the record without control characters or bidirectional overrides
    (a `\\r` or `ESC[2J` cannot fake a line, U+202E cannot reorder one); autoescape then escapes it."""
    return for_terminal(value) if isinstance(value, str) and not isinstance(value, Markup) else value


def _env() -> Environment:
    env = Environment(loader=PackageLoader("greenloop", "templates"), undefined=StrictUndefined, autoescape=True,
                      finalize=_visible, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(clip=clip, diff_class=diff_class, as_json=as_json, when=when)
    env.globals.update(CHART_WIDTH=CHART_WIDTH, shape=lambda e: type(e).__name__)
    return env


def render_run(page: RunPage) -> str:
    return _env().get_template("run.html.j2").render(page=page, rec=page.rec)


@dataclass(frozen=True)
class IndexRow:
    rec: RunRecord
    href: str  # relative to the index page, percent-encoded


def href(target: Path, page: Path) -> str:
    """A relative link from `page` to `target` that a browser cannot read as a scheme (`javascript:`...)."""
    rel = os.path.relpath(target, page.parent)
    return "./" + quote(Path(rel).as_posix())


def render_index(rows: list[IndexRow], stats: Stats, repo: Path) -> str:
    return _env().get_template("runs.html.j2").render(rows=rows, stats=stats, repo=str(repo))


def default_report(rec: RunRecord) -> Path:
    return rec.path.parent / "report.html"


def write_page(path: Path, text: str) -> Path:
    """Write atomically: a new temporary file (O_EXCL, so nothing planted there is followed) renamed over the
    target (a link at the target is replaced, not followed)."""
    path = path.absolute()
    if path.is_dir():
        raise IsADirectoryError(f"{path} is a directory; name the page's file")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            os.fchmod(fd, 0o644)
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)  # no half-written page left behind
        raise
    return path


def write_run(rec: RunRecord, path: Path | None = None) -> Path:
    return write_page(path or default_report(rec), render_run(run_page(rec)))


def write_index(runs: list[RunRecord], stats: Stats, repo: Path, path: Path) -> Path:
    """The index page at `path`, and every run's report beside its trajectory (rewritten, so links never dangle)."""
    path = path.absolute()
    rows = [IndexRow(rec, href(write_run(rec), path)) for rec in runs]
    return write_page(path, render_index(rows, stats, repo))
