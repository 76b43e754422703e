"""One-shot vs agent on the first N HumanEval tasks, same model, one machine, one session.

Usage: python benchmarks/humaneval_compare.py [--limit 40] [--model local:PATH] [--candidates N]
Default model: the benchmark model that ../shared/tools/bench-model prints (Qwen2.5-Coder-0.5B GGUF).
With --candidates N > 1 a third run, the agent sampling N replies per attempt, joins the two.
Writes benchmarks/results/humaneval-<date>[-cN]/ (per-task JSONL + HTML for each run) and
benchmarks/results/humaneval-<date>[-cN].json (the totals, the machine, the date, the commands).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def bench_model() -> str:
    tool = HERE.parent.parent / "shared" / "tools" / "bench-model"
    proc = subprocess.run([str(tool)], capture_output=True, text=True, check=True, timeout=1800)
    return "local:" + proc.stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--limit", type=int, default=40)
    parser.add_argument("--model", default=None)
    parser.add_argument("--candidates", type=int, default=1)
    args = parser.parse_args()
    model = args.model or bench_model()
    date = time.strftime("%Y-%m-%d")
    name = f"humaneval-{date}" + (f"-c{args.candidates}" if args.candidates > 1 else "")
    report = HERE / "results" / name
    record: dict = {"benchmark": "humaneval one-shot vs agent", "date": date, "model": model,
                    "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                                "python": platform.python_version()}, "runs": {}}
    runs = [("oneshot", "oneshot", 1), ("agent", "agent", 1)]
    if args.candidates > 1:
        runs.append((f"agent-c{args.candidates}", "agent", args.candidates))
    for key, mode, candidates in runs:
        cmd = [sys.executable, "-m", "greenloop", "bench", "humaneval", "--model", model, "--limit", str(args.limit),
               "--mode", mode, "--candidates", str(candidates), "--json", "--report", str(report / key)]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=6 * 3600)
        if proc.returncode != 0:
            sys.exit(f"{mode} failed: {proc.stderr[-2000:]}")
        total = json.loads(proc.stdout.strip().splitlines()[-1])
        total["command"] = " ".join(["greenloop", *cmd[3:]])
        record["runs"][key] = total
        print(json.dumps(total), flush=True)
    one, agent = record["runs"]["oneshot"], record["runs"]["agent"]
    record["agent_minus_oneshot_points"] = round(100 * (agent["pass_rate"] - one["pass_rate"]), 1)
    record["agent_calls_per_task"] = round(agent["calls"] / max(1, agent["tasks"]), 2)
    if args.candidates > 1:
        best = record["runs"][f"agent-c{args.candidates}"]
        record["candidates_minus_oneshot_points"] = round(100 * (best["pass_rate"] - one["pass_rate"]), 1)
        record["candidates_calls_per_task"] = round(best["calls"] / max(1, best["tasks"]), 2)
    out = HERE / "results" / f"{name}.json"
    out.write_text(json.dumps(record, indent=2) + "\n")
    print(f"written to {out}")


if __name__ == "__main__":
    main()
