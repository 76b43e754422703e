"""One-shot and agent configurations on the same HumanEval tasks, same model, one machine: the table the
shipped defaults are chosen from.

Usage:
  python benchmarks/humaneval_compare.py [--model local:PATH] [--tasks all|even|0,2,5] [--limit N]
      [--configs oneshot,agent,agent:test_design=true,agent:patience=99] [--name NAME]
  python benchmarks/humaneval_compare.py --assemble DIR [--name NAME]   (the table from runs already made)

A config is `oneshot` or `agent`, then `:key=value` settings joined by `+` (passed as GREENLOOP_KEY, the
way a user sets them); `agent` alone is the shipped defaults. Default model: the benchmark model that
../shared/tools/bench-model prints (Qwen2.5-Coder-0.5B GGUF). Writes benchmarks/results/NAME/<config>/
(per-task JSONL + HTML of each run) and benchmarks/results/NAME.json: per config the solve rate, the
false-green rate, calls and tokens per task, the median seconds per task, and the tasks it won and lost
against one-shot; with the machine, the date and the commit.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

from greenloop.bench.humaneval import TaskResult
from greenloop.bench.report import by_evidence
from greenloop.figures import evidence_of

HERE = Path(__file__).resolve().parent


def bench_model() -> str:
    tool = HERE.parent.parent / "shared" / "tools" / "bench-model"
    proc = subprocess.run([str(tool)], capture_output=True, text=True, check=True, timeout=1800)
    return "local:" + proc.stdout.strip()


def task_ids(spec: str) -> str | None:
    if spec == "all":
        return None
    if spec == "even":
        return ",".join(str(i) for i in range(0, 164, 2))
    return spec


def run_config(config: str, model: str, tasks: str | None, limit: int | None, out: Path) -> None:
    mode, _, sets = config.partition(":")
    env = dict(os.environ)
    for pair in filter(None, sets.split("+")):
        key, _, value = pair.partition("=")
        env["GREENLOOP_" + key.upper()] = value
    cmd = [sys.executable, "-m", "greenloop", "bench", "humaneval", "--model", model, "--mode", mode, "--json",
           "--report", str(out)]
    cmd += ["--tasks", tasks] if tasks else []
    cmd += ["--limit", str(limit)] if limit else []
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=12 * 3600, env=env)
    if proc.returncode != 0:
        sys.exit(f"{config} failed: {proc.stderr[-2000:]}")
    (out / "command.txt").write_text(" ".join(["greenloop", *cmd[3:]]) + f"\nsettings: {sets or 'defaults'}\n")


def row(config: str, results: list[dict], oneshot: dict[str, bool] | None) -> dict:
    n = len(results)
    solved = {r["task_id"]: r["solved"] for r in results}
    greens = [r for r in results if r["green"]]
    out = {
        "config": config, "tasks": n, "solved": sum(solved.values()),
        "solve_rate": round(sum(solved.values()) / max(1, n), 4),
        "false_green": round(sum(not r["solved"] for r in greens) / len(greens), 4) if greens else 0.0,
        "calls_per_task": round(sum(r["calls"] for r in results) / max(1, n), 2),
        "tokens_per_task": round(sum(r["input_tokens"] + r["output_tokens"] for r in results) / max(1, n)),
        "median_seconds": round(statistics.median(r["seconds"] for r in results), 1) if results else 0.0,
    }
    if greens:  # does the evidence a green claims hold on the hidden tests? (run summary `evidence`)
        out["evidence"] = by_evidence([TaskResult(**r) for r in greens])
    if oneshot is not None:
        out["won"] = sorted((t for t, ok in solved.items() if ok and not oneshot.get(t)), key=_num)
        out["lost"] = sorted((t for t, ok in solved.items() if not ok and oneshot.get(t)), key=_num)
        out["oneshot_solved"] = sum(oneshot.get(t, False) for t in solved)  # on the same tasks
        out["points_over_oneshot"] = round(100 * (out["solved"] - out["oneshot_solved"]) / max(1, n), 1)
    return out


def _num(task_id: str) -> int:
    return int(task_id.rsplit("/", 1)[-1])


def load(run_dir: Path) -> list[dict]:
    jsonl = next(run_dir.glob("*.jsonl"))
    records = [json.loads(line) for line in jsonl.read_text().splitlines() if line.strip()]
    for r in records:
        if r["green"] and "evidence" not in r:  # a record from before the field: its trajectory's grade
            name = r["task_id"].replace("/", "-")
            r["evidence"] = evidence_from_trajectory(run_dir / "trajectories" / f"{name}.jsonl")
    return records


def evidence_from_trajectory(path: Path) -> str:
    """The evidence a green run's last grade event gives (figures.evidence_of), for records written before the
    run summary carried it."""
    lines = path.read_text().splitlines() if path.exists() else []
    grades = [e for e in map(json.loads, lines) if e["kind"] == "grade"]
    m = grades[-1]["quality"].get("mutation") if grades else None
    return evidence_of(m["score"], m["total"], m["not_run"]) if m else "unmeasured"


def table(root: Path, configs: list[str]) -> list[dict]:
    runs = {c: load(root / c.replace(":", "_")) for c in configs}
    base = {r["task_id"]: r["solved"] for r in runs["oneshot"]} if "oneshot" in runs else None
    return [row(c, rs, None if c == "oneshot" else base) for c, rs in runs.items()]


def commit() -> str:
    return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=HERE, capture_output=True, text=True,
                          timeout=30).stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default=None)
    parser.add_argument("--tasks", default="all")
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--configs", default="oneshot,agent")
    parser.add_argument("--name", default=None)
    parser.add_argument("--assemble", type=Path, default=None, help="a NAME directory of runs already made")
    args = parser.parse_args()
    date = time.strftime("%Y-%m-%d")
    if args.assemble:
        root = args.assemble.resolve()
        configs = sorted((d.name.replace("_", ":", 1) for d in root.iterdir() if d.is_dir()),
                         key=lambda c: (c != "oneshot", c))
        model, name = args.model or "see each run's command.txt", args.name or root.name
    else:
        model = args.model or bench_model()
        configs = args.configs.split(",")
        name = args.name or f"humaneval-{date}"
        root = HERE / "results" / name
        for config in configs:
            run_config(config, model, task_ids(args.tasks), args.limit, root / config.replace(":", "_"))
    record = {"benchmark": "humaneval: one-shot and agent configurations", "date": date, "commit": commit(),
              "model": model, "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                                          "python": platform.python_version()},
              "table": table(root, configs)}
    out = root.parent / f"{name}.json"
    out.write_text(json.dumps(record, indent=2) + "\n")
    for r in record["table"]:
        print(json.dumps({k: v for k, v in r.items() if k not in ("won", "lost")}))
    print(f"written to {out}")


if __name__ == "__main__":
    main()
