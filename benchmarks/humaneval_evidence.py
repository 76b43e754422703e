"""How well a green's `evidence` tells a right green from a wrong one, on a HumanEval agent run: for every green,
the evidence its mutation score alone gives and the evidence the shipped rule gives (grade.restated: tests that
only call the code as the task's examples do are no strong evidence, whatever the score), beside whether the hidden
tests passed. Pure: it reads the run's records and trajectories (the committed test files, the task's examples as
the run's context read them) and runs nothing.

Usage: python benchmarks/humaneval_evidence.py DIR [DIR ...] [--out FILE.json]
DIR: a `greenloop bench humaneval --report DIR` directory (humaneval-agent.jsonl or .partial.jsonl, trajectories/).
"""

from __future__ import annotations

import argparse
import ast
import json
from collections import Counter
from pathlib import Path

from humaneval_same_tasks import records

from greenloop.examples import Example
from greenloop.figures import evidence_of
from greenloop.grade import restated
from greenloop.trajectory import read_events


def _example(assertion: str) -> Example | None:
    """`assert CALL == EXPECTED` (the context event's form) as an Example."""
    try:
        test = ast.parse(assertion).body[0]
    except (SyntaxError, IndexError):
        return None
    if not (isinstance(test, ast.Assert) and isinstance(test.test, ast.Compare) and len(test.test.ops) == 1):
        return None
    return Example(ast.unparse(test.test.left), ast.unparse(test.test.comparators[0]))


def _new_files(diff: str) -> dict[str, str]:
    """The files a commit's diff creates (`--- /dev/null`), whole."""
    files: dict[str, str] = {}
    for part in diff.split("--- /dev/null\n+++ b/")[1:]:
        path, _, body = part.partition("\n")
        lines = body.split("\n")[1:]  # the hunk header
        files[path] = "\n".join(ln[1:] for ln in lines if ln.startswith("+"))
    return files


def judged(root: Path) -> list[dict]:
    rows = []
    found = sorted(root.glob("humaneval-agent*.jsonl"))
    finished = [f for f in found if "partial" not in f.name]
    for r in records(finished or found).values():
        if not r["green"]:
            continue
        events = list(read_events(root / "trajectories" / f"{r['task_id'].replace('/', '-')}.jsonl"))
        context = next((e for e in events if e.get("kind") == "context"), {})
        commit = next((e for e in reversed(events) if e.get("kind") == "commit"), {})
        grade = next((e for e in reversed(events) if e.get("kind") == "grade"), {})
        examples = [ex for a in context.get("task_examples", []) if (ex := _example(a)) is not None]
        tests = {p: s for p, s in _new_files(commit.get("diff", "")).items()
                 if p.startswith("tests/") and p.endswith(".py") and "test_visible" not in p}
        m = grade.get("quality", {}).get("mutation") or {}
        scored = evidence_of(m.get("score"), m.get("total", 0), m.get("not_run", 0)) if m else "unmeasured"
        n = restated(tests, examples)
        rows.append({"task_id": r["task_id"], "solved": r["solved"], "mutation": scored, "restated": n,
                     "evidence": "weak" if scored == "strong" and n else scored})
    return rows


def table(rows: list[dict], key: str) -> dict[str, dict[str, int]]:
    greens, wrong = Counter(r[key] for r in rows), Counter(r[key] for r in rows if not r["solved"])
    return {level: {"greens": greens[level], "false": wrong[level]} for level in ("strong", "weak", "unmeasured")}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("dirs", nargs="+", type=Path)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    out = {}
    for root in args.dirs:
        rows = judged(root)
        out[str(root)] = {"greens": len(rows), "false_greens": sum(not r["solved"] for r in rows),
                          "by_mutation_score": table(rows, "mutation"), "by_evidence": table(rows, "evidence"),
                          "restating_only": {"greens": sum(bool(r["restated"]) for r in rows),
                                             "false": sum(bool(r["restated"]) and not r["solved"] for r in rows)},
                          "tasks": rows}
    text = json.dumps(out, indent=1)
    if args.out:
        args.out.write_text(text + "\n")
    print(json.dumps({k: {f: v[f] for f in v if f != "tasks"} for k, v in out.items()}, indent=1))


if __name__ == "__main__":
    main()
