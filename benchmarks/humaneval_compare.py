"""One-shot vs agent on the first N HumanEval tasks, same model, one machine, one session.

Usage: python benchmarks/humaneval_compare.py [--limit 40] [--model local:PATH]
Default model: the benchmark model that ../shared/tools/bench-model prints (Qwen2.5-Coder-0.5B GGUF).
Writes benchmarks/results/humaneval-<date>/ (per-task JSONL + HTML for each mode) and
benchmarks/results/humaneval-<date>.json (both totals, the machine, the date, the commands).
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
    args = parser.parse_args()
    model = args.model or bench_model()
    date = time.strftime("%Y-%m-%d")
    report = HERE / "results" / f"humaneval-{date}"
    record: dict = {"benchmark": "humaneval one-shot vs agent", "date": date, "model": model,
                    "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                                "python": platform.python_version()}, "runs": {}}
    for mode in ("oneshot", "agent"):
        cmd = [sys.executable, "-m", "greenloop", "bench", "humaneval", "--model", model, "--limit", str(args.limit),
               "--mode", mode, "--json", "--report", str(report)]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=6 * 3600)
        if proc.returncode != 0:
            sys.exit(f"{mode} failed: {proc.stderr[-2000:]}")
        total = json.loads(proc.stdout.strip().splitlines()[-1])
        total["command"] = " ".join(["greenloop", *cmd[3:]])
        record["runs"][mode] = total
        print(json.dumps(total), flush=True)
    one, agent = record["runs"]["oneshot"], record["runs"]["agent"]
    record["agent_minus_oneshot_points"] = round(100 * (agent["pass_rate"] - one["pass_rate"]), 1)
    record["agent_calls_per_task"] = round(agent["calls"] / max(1, agent["tasks"]), 2)
    out = HERE / "results" / f"humaneval-{date}.json"
    out.write_text(json.dumps(record, indent=2) + "\n")
    print(f"written to {out}")


if __name__ == "__main__":
    main()
