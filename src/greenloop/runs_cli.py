"""Typer wiring for reading past runs: `runs` (table, JSON, --stats, --html index) and `show` (story, --html)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Optional

import typer
from rich.console import Console

from greenloop.daily_cli import fail, opened
from greenloop.errors import UsageError
from greenloop.tables import cells, print_table

if TYPE_CHECKING:
    from greenloop.runlog import RunRecord

err = Console(stderr=True, highlight=False)
FILE_HELP = "With --html: where to write the page."


def _written(write: Callable[[], Path]) -> Path:
    """The page `write` wrote; a file that cannot be written (a directory, no permission) is a usage error."""
    try:
        return write()
    except OSError as exc:
        fail(f"cannot write the page: {exc}")


def _list(runs: list[RunRecord], as_json: bool) -> None:
    from greenloop.runlog import when
    from greenloop.runstats import run_json

    if as_json:
        print(json.dumps([run_json(rec) for rec in runs]))
        return
    header = ("run", "time", "task", "status", "branch", "attempts", "model")
    rows = [(rec.run_id, when(rec.started)[:16], rec.task[:50], rec.status + (" (undone)" if rec.undone else ""),
             rec.branch or "-", str(rec.attempts), rec.model) for rec in runs]
    print_table(header, cells(rows), keep_first=True)


def register_runs(app: typer.Typer) -> None:
    @app.command()
    def runs(file: Optional[Path] = typer.Argument(None, metavar="[FILE]", show_default=False,
                                                   help=FILE_HELP + " Default: .git/greenloop/runs/index.html."),
             repo: Path = typer.Option(Path("."), "--repo"),
             html: bool = typer.Option(False, "--html", help="Write an HTML index of the runs, linking to each "
                                                             "run's report (written too); print its path."),
             stats: bool = typer.Option(False, "--stats", help="Figures over the runs: solve rate, medians, "
                                                               "mutation score, complexity."),
             as_json: bool = typer.Option(False, "--json", help="JSON: the runs, or with --stats the figures."),
             ) -> None:
        """List runs: id, time, task, status, branch, attempts, model (or --stats, or an --html index)."""
        from greenloop.report import write_index
        from greenloop.runlog import all_runs
        from greenloop.runstats import stats as figures
        from greenloop.trajectory import runs_dir

        if file is not None and not html:
            fail(f"{file}: a file is written only with --html")
        if html and (stats or as_json):
            fail("--html writes a page; --stats and --json print: give one of them")
        r = opened(repo)
        found = all_runs(r.common_dir)
        if html:
            print(_written(lambda: write_index(found, figures(found), r.root,
                                               file or runs_dir(r.common_dir) / "index.html")))
        elif stats and as_json:
            print(json.dumps(figures(found).to_json()))
        elif stats:
            print_table(("figure", "value"), figures(found).rows())
        else:
            _list(found, as_json)

    @app.command()
    def show(run_id: str = typer.Argument(..., help="The run (a unique prefix or suffix of its id)."),
             file: Optional[Path] = typer.Argument(None, metavar="[FILE]", show_default=False,
                                                   help=FILE_HELP + " Default: report.html beside the trajectory."),
             repo: Path = typer.Option(Path("."), "--repo"),
             html: bool = typer.Option(False, "--html", help="Write the run as one self-contained HTML page "
                                                             "and print its path.")) -> None:
        """Print a run's story: steps, attempts, test results, the final diff (or write it as an HTML page)."""
        from greenloop.runlog import find, story

        if file is not None and not html:
            fail(f"{file}: a file is written only with --html")
        r = opened(repo)
        try:
            rec = find(r.common_dir, run_id)
        except UsageError as exc:
            fail(str(exc))
        if html:
            from greenloop.report import write_run

            print(_written(lambda: write_run(rec, file)))
            return
        print("\n".join(story(rec)))
