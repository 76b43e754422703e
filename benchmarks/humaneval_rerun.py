"""A change that acts only after a failed first draft, measured by running again only the tasks it can touch.

A task whose first generate attempt was green in a base run ends the same way under any change that acts after
a failed draft (resample, redraft, fix), so only the other tasks need running again. This prints the table of
the whole task set: the base run's records for the untouched tasks (minus the calls of `--drop-steps`, e.g. a
feature that was on in the base run and is off now), the rerun's records for the rest, and one-shot beside it.

A change with a narrower reach (it acts only where agreement dropped an assert, or only on tasks with no example)
names the tasks it can touch from the base run's trajectories, reruns only those, and names them in `--touched`.

Usage:
  python benchmarks/humaneval_rerun.py --base DIR --rerun DIR [--rerun DIR ...] --oneshot FILE.jsonl
      [--drop-steps crosscheck] [--touched 70,110] [--out FILE.json]
DIR: a `greenloop bench humaneval --report DIR` directory (humaneval-agent.jsonl or .partial.jsonl, and
trajectories/).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import time
from pathlib import Path

from humaneval_same_tasks import records as task_records

from greenloop.trajectory import read_events


def records(path: Path) -> dict[str, dict]:
    name = "humaneval-agent.jsonl" if (path / "humaneval-agent.jsonl").exists() else "humaneval-agent.partial.jsonl"
    return task_records([path / name])


def events(run: Path, task: str) -> list[dict]:
    return list(read_events(run / "trajectories" / f"{task.replace('/', '-')}.jsonl"))


def first_green(run: Path, task: str) -> bool:
    attempts = [e for e in events(run, task) if e["kind"] == "attempt"]
    return bool(attempts) and attempts[0]["step"] == "generate" and attempts[0]["outcome"] == "passed"


def dropped_calls(run: Path, task: str, steps: set[str]) -> int:
    return sum(1 for e in events(run, task) if e["kind"] == "model_request" and e["step"] in steps)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", type=Path, required=True)
    parser.add_argument("--rerun", type=Path, required=True, action="append",
                        help="repeatable: a task in a later rerun replaces its record from an earlier one")
    parser.add_argument("--oneshot", type=Path, required=True)
    parser.add_argument("--drop-steps", default="")
    parser.add_argument("--touched", default="",
                        help="comma-separated ids of every task the change can touch (found from the base's "
                             "trajectories, e.g. where agreement dropped an assert): every other task keeps its "
                             "base record, and a touched task missing from the reruns is listed as not run")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    drop = {s for s in args.drop_steps.split(",") if s}
    touched = {t if t.startswith("HumanEval/") else f"HumanEval/{t}" for t in args.touched.split(",") if t}
    base, rerun = records(args.base), {t: r for run in args.rerun for t, r in records(run).items()}
    oneshot = task_records([args.oneshot])
    rows: dict[str, dict] = {}
    for task, r in base.items():
        if task not in rerun and ((touched and task not in touched) or (not touched and first_green(args.base, task))):
            rows[task] = {**r, "calls": r["calls"] - dropped_calls(args.base, task, drop), "from": "base"}
    missing = [t for t in base if t not in rows and t not in rerun]
    rows.update({t: {**r, "from": "rerun"} for t, r in rerun.items()})
    tasks = [t for t in rows if t in oneshot]
    green = [t for t in tasks if rows[t]["green"]]
    false_green = [t for t in green if not rows[t]["solved"]]
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=30,
                            cwd=Path(__file__).parent).stdout.strip()
    table = {
        "machine": platform.node(), "date": time.strftime("%Y-%m-%d"), "commit": commit,
        "base": str(args.base), "reruns": [str(r) for r in args.rerun], "touched": sorted(touched),
        "tasks": len(tasks), "from_base": sum(rows[t]["from"] == "base" for t in tasks),
        "from_rerun": sum(rows[t]["from"] == "rerun" for t in tasks), "not_run": missing,
        "agent_solved": sum(rows[t]["solved"] for t in tasks),
        "oneshot_solved": sum(oneshot[t]["solved"] for t in tasks),
        "green": len(green), "false_green": len(false_green),
        "false_green_rate": round(len(false_green) / len(green), 3) if green else None,
        "false_greens": false_green,
        "red": [t for t in tasks if not rows[t]["green"]],
        "calls_per_task": round(sum(rows[t]["calls"] for t in tasks) / len(tasks), 2),
        "median_seconds_rerun": statistics.median(rows[t]["seconds"] for t in tasks if rows[t]["from"] == "rerun"),
        "won_vs_oneshot": [t for t in tasks if rows[t]["solved"] and not oneshot[t]["solved"]],
        "lost_vs_oneshot": [t for t in tasks if oneshot[t]["solved"] and not rows[t]["solved"]],
        "rerun_tasks": {t: {"solved": rows[t]["solved"], "green": rows[t]["green"], "calls": rows[t]["calls"],
                            "base_solved": base[t]["solved"] if t in base else None} for t in rerun},
    }
    table["points_over_oneshot"] = round(100 * (table["agent_solved"] - table["oneshot_solved"]) / len(tasks), 1)
    text = json.dumps(table, indent=1)
    if args.out:
        args.out.write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
