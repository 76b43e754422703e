"""How good are the tests the test-design call writes? Measured without running the loop.

For each HumanEval task of a base run, the test-design request the agent sent is taken from its trajectory; with
`--ask` it is sent again with the user message rendered from the current prompts/test_design.j2 (the same values:
task text and solution.py as the agent showed it), else the base run's stored reply is used. Each test function
of the reply's test file is run in the sandbox against:
- the task's reference solution: a test that fails there is a wrong test (it makes the loop "fix" right code);
- every wrong program the base runs wrote (each implementation in their trajectories that fails the hidden tests):
  a right test that fails there catches it (what turns a false green into a red, or a red into a fix).
A task's design counts as valid when all its tests pass on the reference, and as catching when it is valid and
catches every wrong program of that task.

Usage:
  python benchmarks/test_design_quality.py --base DIR [--base DIR ...] --tasks 0,8,... [--ask MODEL] [--out F.json]
DIR: a `greenloop bench humaneval --report DIR` directory (trajectories/).
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
from types import SimpleNamespace
from typing import Any

from greenloop.bench.humaneval import hidden_check, load_problems, program_from_reply, visible_tests
from greenloop.config import load_settings
from greenloop.cutoff import salvage
from greenloop.errors import FormatError
from greenloop.prompts import render
from greenloop.protocols import Sandbox
from greenloop.repair import add_missing_imports
from greenloop.replies import parse_reply
from greenloop.sandboxes.select import choose, limits_of
from greenloop.trajectory import read_events
from greenloop.types import Message

IMPLEMENTING = ("generate", "redraft", "resample", "rewrite", "fix")
MARKER = "@@design-quality@@"
# Runs each test function of tests/test_solution.py and prints MARKER {name: passed}; a file that does not import
# prints {"": false}.
RUNNER = """
import importlib.util, inspect, json, sys
sys.path.insert(0, ".")
try:
    spec = importlib.util.spec_from_file_location("t", "tests/test_solution.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
except BaseException:
    print("\\n" + MARKER + json.dumps({"": False})); sys.exit(0)
out = {}
for name, fn in list(vars(mod).items()):
    if name.startswith("test") and inspect.isfunction(fn) and not inspect.signature(fn).parameters:
        try:
            fn(); out[name] = True
        except BaseException:
            out[name] = False
print("\\n" + MARKER + json.dumps(out))
""".replace("MARKER", repr(MARKER))


def events(run: Path, task: str) -> list[dict[str, Any]]:
    path = run / "trajectories" / f"{task.replace('/', '-')}.jsonl"
    return list(read_events(path)) if path.exists() else []


def design_request(evs: list[dict[str, Any]]) -> tuple[list[dict[str, str]], str] | None:
    """The first test-design request and its reply."""
    for i, e in enumerate(evs):
        if e["step"] == "test_design" and e["kind"] == "model_request":
            reply = next((r["text"] for r in evs[i + 1:] if r["kind"] == "model_reply"), "")
            return e["messages"], reply
    return None


def rendered(problem: dict[str, Any], task: str, sandbox: Sandbox) -> str:
    """The test-design prompt as the agent renders it for the bench's repository (run_agent)."""
    named = [SimpleNamespace(path="solution.py", exists=True, refused=False, shown=problem["prompt"]),
             SimpleNamespace(path="tests/test_visible.py", exists=True, refused=False,
                             shown=visible_tests(problem, sandbox))]
    return render("test_design", task=task, named=named, test_path="tests/test_solution.py", module="solution",
                  js=None, repo_map="", project_test=None)  # no other source file: no map, no project test


def test_file(text: str, entry_point: str) -> str | None:
    """The reply's test file as the agent keeps it: salvaged when cut off at the cap, missing imports added."""
    try:
        edits = parse_reply(text, default_path="tests/test_solution.py").edits
    except FormatError:
        salvaged = salvage(text)
        if salvaged is None:
            return None
        edits = parse_reply(salvaged, default_path="tests/test_solution.py").edits
    tests = next((e.content for e in edits if e.path.startswith("tests/") and e.content is not None), None)
    return add_missing_imports(tests, {"solution": frozenset({entry_point})})[0] if tests else None


def run_tests(tests: str, program: str, sandbox: Sandbox) -> dict[str, bool]:
    with tempfile.TemporaryDirectory(prefix="greenloop-design-") as tmp:
        root = Path(tmp)
        (root / "tests").mkdir()
        (root / "tests" / "test_solution.py").write_text(tests)
        (root / "solution.py").write_text(program)
        (root / "runner.py").write_text(RUNNER)
        result = sandbox.run([sys.executable, "runner.py"], root, timeout_s=30.0)
    line = next((ln for ln in reversed(result.stdout.splitlines()) if ln.startswith(MARKER)), None)
    try:
        return json.loads(line[len(MARKER):]) if line else {"": False}
    except json.JSONDecodeError:
        return {"": False}


def wrong_programs(problem: dict[str, Any], runs: list[Path], sandbox: Sandbox) -> list[str]:
    seen: dict[str, None] = {}
    for run in runs:
        for e in events(run, problem["task_id"]):
            wrote = e["kind"] == "model_reply" and e["step"] in IMPLEMENTING
            if wrote and f"def {problem['entry_point']}" in e["text"]:
                seen.setdefault(program_from_reply(problem, e["text"]), None)
    return [p for p in seen if _compiles(p) and not hidden_check(problem, p, sandbox)]


def _compiles(program: str) -> bool:
    """A reply that is not one whole program (an edit, several files) is no wrong program to catch."""
    try:
        compile(program, "solution.py", "exec")
    except (SyntaxError, ValueError):
        return False
    return True


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", type=Path, action="append", required=True)
    ap.add_argument("--tasks", required=True)
    ap.add_argument("--ask", help="Model SPEC: ask again with the current template (default: the stored reply).")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    settings = load_settings(None, {"reply_max_tokens": 768})
    sandbox, _ = choose(settings.sandbox, limits_of(settings))
    model = None
    if args.ask:
        from greenloop.models import resolve
        model = resolve(args.ask, settings)
    problems = load_problems(None, [t.strip() for t in args.tasks.split(",")])
    rows = []
    for problem in problems:
        task = problem["task_id"]
        evs = events(args.base[0], task)
        found = design_request(evs)
        if found is None:
            continue
        messages, reply = found
        if model is not None:
            user = rendered(problem, evs[0]["task"], sandbox)
            sent = [Message("system", messages[0]["content"]), Message("user", user)]
            reply = model.complete(sent, "test_design").text
        tests = test_file(reply, problem["entry_point"])
        program = problem["prompt"] + problem["canonical_solution"]
        on_ref = run_tests(tests, program, sandbox) if tests else {"": False}
        valid = bool(on_ref) and all(on_ref.values())
        wrong = wrong_programs(problem, args.base, sandbox)
        caught = sum(1 for w in wrong if valid and not all(run_tests(tests, w, sandbox).values()))
        row = {"task_id": task, "tests": len(on_ref), "wrong_tests": sum(not v for v in on_ref.values()),
               "valid": valid, "wrong_programs": len(wrong), "caught": caught, "reply": reply}
        rows.append(row)
        print(f"{task}: {len(on_ref)} tests, {row['wrong_tests']} wrong on the reference; "
              f"catches {caught}/{len(wrong)} wrong programs", file=sys.stderr, flush=True)
    with_wrong = [r for r in rows if r["wrong_programs"]]
    totals = {"tasks": len(rows), "valid": sum(r["valid"] for r in rows),
              "tasks_with_wrong_programs": len(with_wrong),
              "catching_all": sum(r["caught"] == r["wrong_programs"] for r in with_wrong),
              "wrong_programs": sum(r["wrong_programs"] for r in rows), "caught": sum(r["caught"] for r in rows)}
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                            timeout=30).stdout.strip()
    doc = {"machine": platform.node(), "date": time.strftime("%Y-%m-%d"), "commit": commit,
           "source": args.ask or "stored replies", "bases": [str(b) for b in args.base], "totals": totals,
           "tasks": rows}
    print(json.dumps(totals))
    if args.out:
        args.out.write_text(json.dumps(doc, indent=1) + "\n")


if __name__ == "__main__":
    main()
