"""What the loop detector does to replies a model really sent. Every model reply recorded in the trajectories
under the given directories (HumanEval agent runs, `bench humaneval --report`) is streamed again through
models/loops.read_stream, a few characters a piece: which replies it stops, among those that ran to the reply
cap and those that ended on their own. For each reply whose first block is a test file, that file (as the stop
left it, or whole) is run with pytest against the task's reference solution in the sandbox: how often the tests
a stop keeps are right, beside how often the model's complete test files are.

Usage: python benchmarks/loop_replay.py DIR [DIR ...] [--out FILE.json]
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
from greenloop.models.loops import read_stream
from greenloop.protocols import Sandbox
from greenloop.sandboxes.select import choose, limits_of

PIECE = 4  # characters a streamed piece (a token of these models is about that long)


def first_test_file(reply: str) -> str | None:
    """The body of the reply's first fenced block, if the reply opens with a test file's path."""
    head, _, rest = reply.lstrip().partition("\n")
    if not head.strip().startswith("tests/") or "```" not in rest:
        return None
    body = rest.split("```", 1)[1].partition("\n")[2]
    return body.split("```", 1)[0]


def right(problem: dict, tests: str, sandbox: Sandbox) -> bool:
    """The tests pass against the task's reference solution (run in the sandbox)."""
    with tempfile.TemporaryDirectory(prefix="greenloop-replay-") as tmp:
        (Path(tmp) / "solution.py").write_text(problem["prompt"] + problem["canonical_solution"])
        (Path(tmp) / "test_replayed.py").write_text(tests)
        result = sandbox.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_replayed.py"],
                             Path(tmp), timeout_s=60)
    return result.exit_code == 0 and not result.timed_out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("dirs", nargs="+", type=Path)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    settings = load_settings(None, {})
    sandbox, _ = choose(settings.sandbox, limits_of(settings))
    problems = {p["task_id"].split("/")[1]: p for p in load_problems()}
    seen: set[str] = set()
    counts = {"capped": 0, "capped_stopped": 0, "complete": 0, "complete_stopped": 0,
              "kept_tests": 0, "kept_tests_right": 0, "complete_tests": 0, "complete_tests_right": 0}
    for path in sorted(p for d in args.dirs for p in d.rglob("trajectories/HumanEval-*.jsonl")):
        problem = problems[path.stem.split("-")[1]]
        events = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        cap = next(e["config"]["reply_max_tokens"] for e in events if e["kind"] == "run_start")
        for e in events:
            if e["kind"] != "model_reply" or e["text"] in seen:
                continue
            seen.add(e["text"])
            capped = e["output_tokens"] >= cap
            pieces = (e["text"][i:i + PIECE] for i in range(0, len(e["text"]), PIECE))
            streamed = read_stream(pieces, None)
            kind = "capped" if capped else "complete"
            counts[kind] += 1
            counts[f"{kind}_stopped"] += streamed.stopped
            if streamed.stopped and (kept := first_test_file(streamed.text)) is not None:
                counts["kept_tests"] += 1
                counts["kept_tests_right"] += right(problem, kept, sandbox)
            elif not capped and not streamed.stopped and (whole := first_test_file(e["text"])) is not None:
                counts["complete_tests"] += 1
                counts["complete_tests_right"] += right(problem, whole, sandbox)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                            timeout=30).stdout.strip()
    out = {"machine": f"{platform.machine()} {platform.node()}", "commit": commit,
           "date": time.strftime("%Y-%m-%d", time.gmtime()), "dirs": [str(d) for d in args.dirs], **counts}
    print(json.dumps(out, indent=1))
    if args.out:
        args.out.write_text(json.dumps(out, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
