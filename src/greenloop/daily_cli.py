"""Typer wiring for daily use: continue and discard kept runs (more commands register here)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import typer
from rich.console import Console

from greenloop.errors import UsageError
from greenloop.sanitize import for_terminal

if TYPE_CHECKING:
    from greenloop.gitops import Repo
    from greenloop.resume import KeptRun
    from greenloop.runlog import RunRecord

err = Console(stderr=True, highlight=False)


def fail(message: str, code: int = 2) -> NoReturn:
    """One clean line on stderr naming the problem, then the exit code (2: bad usage, nothing written)."""
    err.print(f"greenloop: error: {for_terminal(message)}", markup=False, soft_wrap=True)
    raise typer.Exit(code)


def opened(path: Path) -> Repo:
    """The repository at `path` for a command; not one is a clean one-line usage error."""
    from greenloop.gitops import open_repo

    try:
        return open_repo(path)
    except UsageError as exc:
        fail(str(exc))


def continued(repo: Repo, run_id: str) -> KeptRun:
    """The kept run to go on with (`run --continue`); UsageError when there is none."""
    from greenloop.resume import load_kept
    from greenloop.runlog import find

    return load_kept(repo, find(repo.common_dir, run_id))


def kept_line(repo: Repo, run_id: str) -> str:
    """Where a kept failed run lives and what to do with it."""
    from greenloop.resume import kept_record

    short = run_id[-6:]
    return (f"kept in {repo.greenloop_dir / 'worktrees' / run_id} ({kept_record(repo, run_id).name}); "
            f"go on with `greenloop run --continue {short}` or remove it with `greenloop discard {short}`")


def discard_run(repo: Repo, rec: RunRecord) -> None:
    from greenloop.resume import discard
    from greenloop.trajectory import Trajectory

    done = discard(repo, rec)
    with Trajectory(rec.path, rec.run_id) as traj:
        traj.event("discard", "discard")
    err.print(for_terminal(done), markup=False)


def warn_unknown_env() -> None:
    """One line on stderr for each GREENLOOP_* variable that greenloop does not read (a typo, most likely)."""
    import os

    if not any(name.startswith("GREENLOOP_") for name in os.environ):
        return  # the common case: no need to load the settings' module (~30 ms of every command's start)
    from greenloop.config import unknown_env_notices

    for notice in unknown_env_notices(os.environ):
        err.print(f"warning: {for_terminal(notice)}", markup=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    @app.command("discard")
    def discard_command(run_id: str = typer.Argument(..., help="The run (a unique prefix or suffix of its id)."),
                        repo: Path = typer.Option(Path("."), "--repo")) -> None:
        """Remove a failed run kept by --keep-failed: its worktree, and its branch unless it has commits."""
        from greenloop.runlog import find

        r = opened(repo)
        try:
            discard_run(r, find(r.common_dir, run_id))
        except UsageError as exc:
            fail(str(exc))


def register_config(app: typer.Typer) -> None:
    config_app = typer.Typer(no_args_is_help=True, help="The resolved settings.")
    app.add_typer(config_app, name="config")

    @config_app.command("show")
    def show(repo: Path = typer.Option(Path("."), "--repo")) -> None:
        """Each effective setting and the layer it came from: default, user config, repository (trusted
        or only tightening), env. Flags apply per run on top of these."""
        import json
        import os

        from greenloop.config import config_sources
        from greenloop.errors import GreenloopError
        from greenloop.gitops import open_repo

        try:
            root = open_repo(repo).root
            rows = config_sources(root, dict(os.environ))
        except GreenloopError as exc:
            fail(str(exc))
        for key, value, where in rows:
            print(for_terminal(f"{key} = {json.dumps(value, default=str)}  # {where}"))
