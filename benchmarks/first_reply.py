"""Which framing of the first request does the model do best with? One reply per task and framing, greedy,
judged by the task's visible examples and by its hidden tests (HumanEval), with no loop around it.

The agent's first implementation should be at least as good as the bare model's answer (issue 16): this
measures the framings side by side on the same tasks, in one process, with the model loaded once.

  oneshot   the benchmark's one-shot prompt (what `greenloop bench humaneval --mode oneshot` sends)
  lean      the agent's lean prompt as loop.py sends it for the task (draft.implement_messages)
  complete  the file shown first as code to complete, the task after it (the redraft's framing)
  function  the same, worded as the one-shot prompt is ("this Python function", "the complete function")
  task_first  the task first, then the one-shot prompt's wording with the file (the code is read last): the
            framing draft.py ships first, as "function", for a task naming a function its file leaves unwritten

Usage: python benchmarks/first_reply.py --model local:PATH --tasks 0,2,4 --variants oneshot,lean --out FILE
Writes one JSON line per (task, variant) as it goes, then a summary line per variant.
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
from typing import Any

from greenloop.bench.humaneval import (
    ONESHOT_SYSTEM,
    agent_task_text,
    hidden_check,
    load_problems,
    program_from_reply,
    visible_tests,
)
from greenloop.config import load_settings
from greenloop.context import gather
from greenloop.draft import first_draft_messages
from greenloop.models import resolve
from greenloop.protocols import Sandbox
from greenloop.sandboxes.select import choose, limits_of
from greenloop.state import State
from greenloop.types import Message


def _repo(problem: dict[str, Any], root: Path, sandbox: Sandbox) -> None:
    (root / "solution.py").write_text(problem["prompt"])
    (root / "tests").mkdir()
    (root / "tests" / "test_visible.py").write_text(visible_tests(problem, sandbox))
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-qm", "task"]):
        subprocess.run(["git", "-c", "user.name=b", "-c", "user.email=b@l", *args], cwd=root, check=True,
                       capture_output=True, timeout=60)


def messages(variant: str, problem: dict[str, Any], root: Path) -> list[Message]:
    if variant == "oneshot":
        return [Message("system", ONESHOT_SYSTEM),
                Message("user", f"Complete this Python function:\n\n```python\n{problem['prompt']}```")]
    task = agent_task_text(problem)
    if variant == "function":
        return [Message("system", ONESHOT_SYSTEM), Message("user", f"Complete this Python function:\n\n```python\n"
                                                                    f"{problem['prompt']}```\n\n{task}")]
    framing = "function" if variant == "task_first" else variant  # task_first: what draft.py ships as "function"
    return first_draft_messages(State(task=task, context=gather(root, task, 1024)), framing)  # type: ignore[arg-type]


def visible_pass(problem: dict[str, Any], program: str, sandbox: Sandbox) -> bool:
    with tempfile.TemporaryDirectory(prefix="greenloop-first-") as tmp:
        (Path(tmp) / "solution.py").write_text(program)
        (Path(tmp) / "test_visible.py").write_text(visible_tests(problem, sandbox))
        result = sandbox.run(["python", "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_visible.py"],
                             Path(tmp), timeout_s=60)
    return result.exit_code == 0 and not result.timed_out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--tasks", required=True)
    ap.add_argument("--variants", default="oneshot,lean")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    settings = load_settings(None, {"reply_max_tokens": 768})
    model = resolve(args.model, settings)
    model.preflight()
    sandbox, _ = choose(settings.sandbox, limits_of(settings))
    variants = args.variants.split(",")
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                            timeout=30).stdout.strip()
    rows: list[dict[str, Any]] = []
    with open(args.out, "a", encoding="utf-8") as out:
        out.write(json.dumps({"machine": f"{platform.machine()} {platform.node()}", "commit": commit,
                              "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                              "model": args.model, "variants": variants}) + "\n")
        for problem in load_problems(None, args.tasks.split(",")):
            for variant in variants:
                with tempfile.TemporaryDirectory(prefix="greenloop-first-") as tmp:
                    _repo(problem, Path(tmp), sandbox)
                    start = time.monotonic()
                    reply = model.complete(messages(variant, problem, Path(tmp)), "generate")
                program = program_from_reply(problem, reply.text)
                row = {"task_id": problem["task_id"], "variant": variant,
                       "visible": visible_pass(problem, program, sandbox),
                       "hidden": hidden_check(problem, program, sandbox),
                       "seconds": round(time.monotonic() - start, 2), "output_tokens": reply.usage.output_tokens}
                rows.append(row)
                out.write(json.dumps(row) + "\n")
                out.flush()
        for variant in variants:
            mine = [r for r in rows if r["variant"] == variant]
            out.write(json.dumps({"variant": variant, "tasks": len(mine),
                                  "hidden": sum(r["hidden"] for r in mine),
                                  "visible": sum(r["visible"] for r in mine),
                                  "false_green": sum(r["visible"] and not r["hidden"] for r in mine)}) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
