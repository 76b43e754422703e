"""How often is an example greenloop reads from a task wrong? Every HumanEval prompt is read as the agent reads
solution.py (examples.extract, origin "solution.py"), and each example is run against the task's reference
solution in the sandbox. An example the reference misses is an anchor no right program can meet: the loop
chases it until the budget ends (a red that one-shot solves), so its count is what the extractor must keep low.

Usage: python benchmarks/examples_precision.py [--out FILE.json]
Prints one line per contradicted example and the totals; writes them as JSON with machine, date and commit.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import tempfile
import time
from pathlib import Path

from greenloop.bench.humaneval import load_problems
from greenloop.config import load_settings
from greenloop.examples import Example, extract
from greenloop.sandboxes.select import choose, limits_of

CHECK = '''import json
import solution
from solution import *

results = []
for call, expected in {pairs!r}:
    try:
        results.append(bool(eval(call) == eval(expected)))
    except Exception:
        results.append(False)
print(json.dumps(results))
'''


def contradicted(problem: dict, examples: list[Example], sandbox) -> list[Example]:
    """The examples that the task's reference solution does not meet (run in the sandbox)."""
    with tempfile.TemporaryDirectory(prefix="greenloop-precision-") as tmp:
        (Path(tmp) / "solution.py").write_text(problem["prompt"] + problem["canonical_solution"])
        (Path(tmp) / "check.py").write_text(CHECK.format(pairs=[(e.call, e.expected) for e in examples]))
        result = sandbox.run(["python", "check.py"], Path(tmp), timeout_s=30.0)
    if result.exit_code != 0 or result.timed_out:
        return list(examples)  # the check itself did not run: each example counts as unmet
    ok = json.loads(result.stdout.strip().splitlines()[-1])
    return [e for e, met in zip(examples, ok, strict=True) if not met]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    settings = load_settings(None, {})
    sandbox, _ = choose(settings.sandbox, limits_of(settings))
    tasks_with, total, wrong = 0, 0, []
    for problem in load_problems():
        examples = extract(problem["prompt"], "solution.py")
        tasks_with += bool(examples)
        total += len(examples)
        for e in contradicted(problem, examples, sandbox) if examples else []:
            wrong.append({"task_id": problem["task_id"], "example": f"{e.call} == {e.expected}"})
            print(f"{problem['task_id']}: {e.call} == {e.expected}")
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                            timeout=30).stdout.strip()
    totals = {"machine": f"{platform.machine()} {platform.node()}", "commit": commit,
              "date": time.strftime("%Y-%m-%d", time.gmtime()), "tasks": 164, "tasks_with_examples": tasks_with,
              "examples": total, "contradicted_by_reference": len(wrong), "contradicted": wrong}
    print(f"{total} examples from {tasks_with} of 164 tasks; {len(wrong)} contradicted by the reference")
    if args.out:
        args.out.write_text(json.dumps(totals, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
