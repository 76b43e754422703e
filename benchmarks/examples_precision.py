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
import sys
import tempfile
import time
from pathlib import Path

from greenloop.bench.humaneval import load_problems
from greenloop.config import load_settings
from greenloop.examples import Example, examples_module, extract
from greenloop.probe import run_checks
from greenloop.protocols import Sandbox
from greenloop.sandboxes.select import choose, limits_of


def contradicted(problem: dict, examples: list[Example], sandbox: Sandbox) -> list[Example]:
    """The examples that the task's reference solution does not meet, checked as the agent checks them
    (examples.examples_module, probe.run_checks: one instrumented assert per example, in the sandbox)."""
    module = examples_module(examples, ["solution.py"])
    if module is None:
        return []
    with tempfile.TemporaryDirectory(prefix="greenloop-precision-") as tmp:
        (Path(tmp) / "solution.py").write_text(problem["prompt"] + problem["canonical_solution"])
        outcomes = run_checks(sandbox, Path(sys.executable), Path(tmp), [module], 30.0)
    # one check per example, in order; a check that did not run counts as unmet
    return [e for e, check in zip(examples, module.checks, strict=True)
            if not (outcome := outcomes.get(check.id)) or not outcome.ok]


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
        for e in contradicted(problem, examples, sandbox):
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
