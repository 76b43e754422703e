"""Samples of a recorded crash-check request: would a retry at a higher temperature have found a fix?

Reads the `crash_check` request from each task's trajectory of a bench run and asks the model for more replies
at the given temperature; prints each reply's code for a reader to judge (nothing is run).

    python benchmarks/crash_samples.py --model local:PATH --run DIR --tasks 134,126 --samples 4 --temperature 0.7
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from greenloop.config import Settings
from greenloop.models import resolve
from greenloop.types import Message


def request(trajectory: Path) -> list[Message]:
    for line in trajectory.read_text(encoding="utf-8").splitlines():
        event = json.loads(line)
        if event.get("step") == "crash_check" and event.get("kind") == "model_request":
            return [Message(m["role"], m["content"]) for m in event["messages"]]
    raise SystemExit(f"{trajectory}: no crash-check request")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--run", type=Path, required=True, help="a bench report directory with trajectories/")
    ap.add_argument("--tasks", required=True, help="comma-separated HumanEval numbers")
    ap.add_argument("--samples", type=int, default=4)
    ap.add_argument("--temperature", type=float, default=0.7)
    args = ap.parse_args()
    model = resolve(args.model, Settings())
    for task in args.tasks.split(","):
        messages = request(args.run / "trajectories" / f"HumanEval-{task}.jsonl")
        for i in range(args.samples):
            reply = model.complete(messages, "crash_check", args.temperature)
            print(f"=== {task} sample {i}\n{reply.text}\n", flush=True)


if __name__ == "__main__":
    main()
