"""Are recorded greedy replies reproducible on this machine? Each trajectory's first model request (the test
design or the first draft, at temperature 0) is sent again to the same local model, one task after another in one
process as the benchmark does, and the reply is compared byte for byte with the recorded one.

The HumanEval tables that combine a base run with reruns of the tasks a change can touch assume that an untouched
task would end the same way; that holds only as far as the model's replies to the same requests are the same. A
different build of llama.cpp (another CPU's vector paths) or another order of calls in the process (its prompt
cache) can change a greedy reply.

Usage: python benchmarks/first_request_replay.py --model local:PATH DIR [--out FILE.json]
DIR: a `greenloop bench humaneval --report` directory (trajectories/).
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

from repotasks import short_commit

from greenloop.config import load_settings
from greenloop.models import resolve
from greenloop.trajectory import read_events
from greenloop.types import Message


def first_exchange(path: Path) -> tuple[list[Message], float | None, str, str] | None:
    """The first request's messages, its temperature, its step and the recorded reply."""
    events = list(read_events(path))
    request = next((e for e in events if e["kind"] == "model_request"), None)
    reply = next((e for e in events if e["kind"] == "model_reply"), None)
    if request is None or reply is None:
        return None
    messages = [Message(m["role"], m["content"]) for m in request["messages"]]
    return messages, request["temperature"], request["step"], reply["text"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True)
    parser.add_argument("run", type=Path)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    paths = sorted((args.run / "trajectories").glob("*.jsonl"), key=lambda p: int(p.stem.split("-")[-1]))
    recorded_config = next(read_events(paths[0]))["config"]  # the run's reply cap (the bench sets its own)
    settings = load_settings(None, {"reply_max_tokens": recorded_config["reply_max_tokens"]})
    model = resolve(args.model, settings)
    rows = []
    for path in paths:
        exchange = first_exchange(path)
        if exchange is None:
            continue
        messages, temperature, step, recorded = exchange
        start = time.monotonic()
        text = model.complete(messages, step, temperature).text  # type: ignore[arg-type]
        rows.append({"task": path.stem, "step": step, "same": text == recorded,
                     "seconds": round(time.monotonic() - start, 1)})
        print(json.dumps(rows[-1]), flush=True)
    out = {"machine": f"{platform.node()} {platform.machine()}", "date": time.strftime("%Y-%m-%d"),
           "commit": short_commit(),
           "model": args.model, "run": str(args.run), "requests": len(rows),
           "same": sum(r["same"] for r in rows), "differ": [r["task"] for r in rows if not r["same"]], "rows": rows}
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps({k: v for k, v in out.items() if k != "rows"}, indent=1))


if __name__ == "__main__":
    main()
