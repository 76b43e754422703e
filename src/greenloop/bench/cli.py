"""`greenloop bench humaneval`: typer wiring for the benchmark harness."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

bench_app = typer.Typer(no_args_is_help=True, help="Benchmarks: what greenloop adds over the bare model.")
err = Console(stderr=True)


@bench_app.command("humaneval")
def humaneval(
    model: Optional[str] = typer.Option(None, "--model", help="Model SPEC (default: local)."),
    limit: Optional[int] = typer.Option(None, "--limit", help="The first N tasks."),
    tasks: Optional[str] = typer.Option(None, "--tasks", help="Task ids, comma-separated (e.g. 0,1,HumanEval/2)."),
    mode: str = typer.Option("agent", "--mode", help="oneshot or agent."),
    workers: int = typer.Option(1, "--workers", help="Parallel workers (each loads the model once)."),
    executor: str = typer.Option("local", "--executor", help="local (process pool) or ray."),
    ray_address: Optional[str] = typer.Option(None, "--ray-address", help="A Ray cluster; default: local."),
    max_iterations: int = typer.Option(4, "--max-iterations", help="Agent attempts per task."),
    reply_max_tokens: int = typer.Option(768, "--reply-max-tokens", help="Cap on each reply."),
    candidates: int = typer.Option(1, "--candidates", help="Replies sampled per agent attempt (best by execution)."),
    fix_format: str = typer.Option("whole", "--fix-format", help="edits or whole (what fixes ask for)."),
    require_tests: bool = typer.Option(False, "--require-tests", help="The agent writes tests of its own too "
                                       "(default: the visible tests judge, as require_tests = false does)."),
    mutation_budget: float = typer.Option(10.0, "--mutation-budget",
                                          help="Seconds of mutation analysis per green task."),
    as_json: bool = typer.Option(False, "--json", help="Totals as JSON on the last stdout line."),
    report: Optional[Path] = typer.Option(
        None, "--report", help="Write per-task JSONL, an HTML page and each agent task's trajectory here."),
) -> None:
    """HumanEval, one-shot or agent; hidden tests run once, after each task, in the sandbox."""
    from greenloop.bench.executors import run_local, run_ray
    from greenloop.bench.humaneval import AGENT_TEST_CMD, load_problems
    from greenloop.bench.report import totals, write_report
    from greenloop.config import load_settings
    from greenloop.errors import UsageError

    if mode not in ("oneshot", "agent") or executor not in ("local", "ray"):
        err.print("greenloop: error: --mode is oneshot or agent; --executor is local or ray")
        raise typer.Exit(2)
    try:
        settings = load_settings(None, {"max_iterations": max_iterations, "reply_max_tokens": reply_max_tokens,
                                        "fix_format": fix_format, "test_timeout": 30.0, "candidates": candidates,
                                        "commit_message": "template", "test_cmd": AGENT_TEST_CMD,
                                        "require_tests": require_tests, "protected_paths": ("tests/test_visible.py",),
                                        "mutation_budget_s": mutation_budget})
        problems = load_problems(limit, [t.strip() for t in tasks.split(",")] if tasks else None)
        if not problems:
            raise UsageError("no HumanEval task matches --tasks/--limit")
        start = time.monotonic()
        stream = (run_ray(problems, mode, model, settings, workers, ray_address) if executor == "ray"
                  else run_local(problems, mode, model, settings, workers,
                                 report / "trajectories" if report and mode == "agent" else None))
        results = []
        partial = report / f"humaneval-{mode}.partial.jsonl" if report else None
        if partial:  # each task as it ends, so that a run cut off still leaves its results
            report.mkdir(parents=True, exist_ok=True)
            partial.write_text("")
        for r in stream:
            results.append(r)
            if partial:
                with open(partial, "a", encoding="utf-8") as fh:
                    fh.write(json.dumps(r.as_dict()) + "\n")
            err.print(f"{r.task_id}: {'solved' if r.solved else 'not solved'}{' (green)' if r.green else ''}, "
                      f"{r.calls} call(s), {r.seconds:.1f}s  [{len(results)}/{len(problems)}]")
    except UsageError as exc:
        err.print(f"greenloop: error: {exc}")
        raise typer.Exit(2) from None
    order = {p["task_id"]: i for i, p in enumerate(problems)}
    results.sort(key=lambda r: order[r.task_id])
    total = totals(results, mode, model or "local", time.monotonic() - start)
    if report:
        err.print(f"report: {write_report(report, results, total)}")
        if partial:
            partial.unlink()
    if as_json:
        print(json.dumps(total))
    else:
        err.print(f"{total['passed']}/{total['tasks']} solved ({100 * total['pass_rate']:.1f}%), false green "
                  f"{100 * total['false_green']:.1f}%, {total['calls']} calls, {total['seconds']}s")
