"""What differential probes could tell about a run's greens, at best: each green program of a HumanEval agent run
and the task's reference solution run, in the jail, on the probe inputs greenloop makes from the task's examples
(probes.probe_calls: each argument varied in turn). Per green: the inputs where the program raises and the
reference does not, and the inputs where their outputs differ. An oracle as good as the reference could flag a
false green only where the outputs differ; a crash alone flags it without an oracle.

Usage: python benchmarks/humaneval_probe_bound.py DIR [--out FILE.json]
DIR: a `greenloop bench humaneval --report DIR` directory (humaneval-agent.jsonl, trajectories/).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from humaneval_evidence import judged

from greenloop.bench.humaneval import load_problems
from greenloop.config import Settings
from greenloop.examples import extract
from greenloop.probes import probe_calls, run_probes
from greenloop.sandboxes.select import choose, limits_of
from greenloop.trajectory import read_events


def committed(root: Path, problem: dict) -> str | None:
    """solution.py as the run committed it: the prompt with the commit's diff of it applied (by `patch`)."""
    events = list(read_events(root / "trajectories" / f"{problem['task_id'].replace('/', '-')}.jsonl"))
    diff = next((e["diff"] for e in reversed(events) if e.get("kind") == "commit"), None)
    if diff is None or "--- a/solution.py" not in diff:
        return None
    body = "--- a/solution.py" + diff.split("--- a/solution.py", 1)[1].split("\n--- /dev/null", 1)[0] + "\n"
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "solution.py").write_text(problem["prompt"])
        subprocess.run(["patch", "-s", "solution.py"], input=body, text=True, cwd=tmp, check=True, timeout=30)
        return Path(tmp, "solution.py").read_text()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("dir", type=Path)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    settings = Settings()
    sandbox, _ = choose(settings.sandbox, limits_of(settings))
    problems = {p["task_id"]: p for p in load_problems()}
    rows = []
    for green in judged(args.dir):
        problem = problems[green["task_id"]]
        program = committed(args.dir, problem)
        examples = extract(problem["prompt"], "solution.py")
        calls = probe_calls(examples, problem["prompt"])
        if program is None or not calls:
            rows.append({**green, "probes": len(calls), "crashes": None, "differs": None})
            continue
        with tempfile.TemporaryDirectory() as tmp:
            mine, ref = run_probes([program, problem["prompt"] + problem["canonical_solution"]], "solution.py",
                                   "solution", examples, calls, sandbox, Path(sys.executable), Path(tmp), 60)
        if mine is None or ref is None:
            rows.append({**green, "probes": len(calls), "crashes": None, "differs": None})
            continue
        pairs = list(zip(calls, mine.outputs, ref.outputs, strict=True))
        rows.append({**green, "probes": len(calls),
                     "crashes": [f"{c.show()}: {a}" for c, a, b in pairs
                                 if a.startswith("!") and not b.startswith("!")],
                     "differs": [f"{c.show()}: {a} vs {b}" for c, a, b in pairs if a != b]})

    def flagged(key: str, solved: bool) -> int:
        return sum(bool(r[key]) for r in rows if r["solved"] == solved)
    summary = {"greens": len(rows), "false_greens": sum(not r["solved"] for r in rows),
               "crash_flags_false": flagged("crashes", False), "crash_flags_true": flagged("crashes", True),
               "differs_false": flagged("differs", False), "differs_true": flagged("differs", True)}
    if args.out:
        args.out.write_text(json.dumps({"summary": summary, "tasks": rows}, indent=1) + "\n")
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
