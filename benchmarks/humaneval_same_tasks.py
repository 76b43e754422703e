"""Two agent configurations compared on exactly the tasks both ran, with one-shot beside them: for a run that was
stopped part way (its humaneval-agent.partial.jsonl) against a complete one.

Usage:
  python benchmarks/humaneval_same_tasks.py --a FILE.jsonl [--a FILE.jsonl ...] --b FILE.jsonl [--b ...]
      --oneshot FILE.jsonl
A later file of a side replaces an earlier one's record of the same task (a base run, then the tasks run again).
The tasks compared are those of side b (the partial run), in its order.
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path


def records(paths: list[Path]) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for path in paths:
        out.update({r["task_id"]: r for line in path.read_text().splitlines() if (r := json.loads(line))})
    return out


def row(name: str, recs: dict[str, dict], tasks: list[str]) -> str:
    solved = sum(recs[t]["solved"] for t in tasks)
    green = [t for t in tasks if recs[t].get("green")]
    false = [t for t in green if not recs[t]["solved"]]
    calls = sum(recs[t]["calls"] for t in tasks) / len(tasks)
    tokens = sum(recs[t]["input_tokens"] + recs[t]["output_tokens"] for t in tasks) / len(tasks)
    median = statistics.median(recs[t]["seconds"] for t in tasks)
    return (f"{name}: {solved}/{len(tasks)} solved, false green {len(false)}/{len(green)} {false}, "
            f"calls {calls:.2f}, tokens {tokens:.0f}, median {median:.1f}s")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--a", type=Path, action="append", required=True)
    parser.add_argument("--b", type=Path, action="append", required=True)
    parser.add_argument("--oneshot", type=Path, required=True)
    args = parser.parse_args()
    a, b, one = records(args.a), records(args.b), records([args.oneshot])
    tasks = [t for t in b if t in a and t in one]
    print(row("one-shot", one, tasks))
    print(row("a", a, tasks))
    print(row("b", b, tasks))
    print("b solves, a does not:", [t for t in tasks if b[t]["solved"] and not a[t]["solved"]])
    print("a solves, b does not:", [t for t in tasks if a[t]["solved"] and not b[t]["solved"]])


if __name__ == "__main__":
    main()
