"""What the crosscheck did on a HumanEval agent run: from the run's per-task JSONL and its kept trajectories
(`greenloop bench humaneval --report DIR` writes both), per task whether a weak green was crosschecked, how many
extra calls it took, whether it replaced the program, and whether the hidden tests passed.

Usage: python benchmarks/humaneval_crosscheck.py DIR    (prints one JSON object)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def events(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def main() -> None:
    root = Path(sys.argv[1])
    results = [json.loads(line) for line in next(root.glob("humaneval-agent*.jsonl")).read_text().splitlines()
               if line.strip()]
    per_task = {}
    for r in results:
        traj = root / "trajectories" / f"{r['task_id'].replace('/', '-')}.jsonl"
        evs = events(traj) if traj.exists() else []
        check = next((e for e in evs if e["kind"] == "crosscheck"), None)
        if check is None:
            continue
        calls = sum(1 for e in evs if e["kind"] == "model_request" and e["step"] == "crosscheck")
        per_task[r["task_id"]] = {"solved": r["solved"], "swapped": check["swapped"], "extra_calls": calls,
                                  "eligible": len(check["eligible"]), "unsettled": bool(check["why"])
                                  and not check["swapped"], "why": check["why"][:300]}
    swapped = {t: v for t, v in per_task.items() if v["swapped"]}
    stood = {t: v for t, v in per_task.items() if not v["swapped"]}
    print(json.dumps({
        "crosschecked": len(per_task),
        "extra_calls": sum(v["extra_calls"] for v in per_task.values()),
        "swapped": len(swapped), "swapped_and_solved": sum(v["solved"] for v in swapped.values()),
        "stood": len(stood), "stood_and_solved": sum(v["solved"] for v in stood.values()),
        "stood_with_a_warning": sum(v["unsettled"] for v in stood.values()),
        "stood_with_a_warning_and_false": sum(v["unsettled"] and not v["solved"] for v in stood.values()),
        "tasks": per_task,
    }, indent=2))


if __name__ == "__main__":
    main()
