"""How much mutation analysis adds to a run (issue 14's target: at most 50% of the median run's wall time on the
slugify task). The README's slugify task through the whole loop (real git, real jail, real pytest) with the scripted
model: a wrong first implementation, then the fix, so every run goes generate -> red -> fix -> green -> grade. Runs
alternate between the default mutation budget and `mutation_budget_s = 0` (quality metrics only), side by side in one
session; each run's grade time is read from its trajectory. The scripted model answers at once, so this is the worst
case: with a real model a run lasts minutes and the same grading is a smaller share.

Usage: python benchmarks/mutation_overhead.py [--runs 5]   -> benchmarks/results/mutation-overhead-<date>.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TASK = ("Add a slugify(text) helper in textkit/slug.py: lowercase; every run of characters other than ASCII letters "
        "and digits becomes a single '-'; no leading or trailing '-'. Example: slugify('Hello, World!') == "
        "'hello-world'.")
TESTS = ('from textkit.slug import slugify\n\n\ndef test_words():\n    assert slugify("Hello World") == "hello-world"\n'
         '\n\ndef test_punctuation():\n    assert slugify("  A, b!  ") == "a-b"\n\n\ndef test_digits():\n'
         '    assert slugify("Route 66") == "route-66"\n')
WRONG = 'def slugify(text):\n    return text.lower().replace(" ", "-")\n'
RIGHT = ('import re\n\n\ndef slugify(text):\n    """Lowercase; runs of other characters become one dash."""\n'
         '    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")\n')


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True, timeout=60).stdout


def project(root: Path) -> Path:
    (root / "textkit").mkdir(parents=True)
    (root / "textkit" / "__init__.py").write_text('"""Small text helpers."""\n')
    git(root, "init", "-q", "-b", "main")
    git(root, "-c", "user.name=b", "-c", "user.email=b@localhost", "add", "-A")
    git(root, "-c", "user.name=b", "-c", "user.email=b@localhost", "commit", "-qm", "skeleton")
    return root


def reply(impl: str, test: str | None) -> str:
    files = {"sourceFiles": [{"path": "textkit/slug.py", "content": impl}]}
    return json.dumps({**files, "testFile": {"path": "tests/test_slug.py", "content": test}} if test else files)


def one_run(work: Path, n: int, mutation: bool) -> dict[str, object]:
    repo = project(work / f"run{n}")
    script = work / f"script{n}.json"
    script.write_text(json.dumps({"replies": [{"step": "generate", "text": reply(WRONG, TESTS)},
                                              {"step": "fix", "text": reply(RIGHT, None)},
                                              {"step": "commit_message", "text": "feat: slugify"}]}))
    env = {**os.environ, **({} if mutation else {"GREENLOOP_MUTATION_BUDGET_S": "0"})}
    start = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "greenloop", "run", TASK, "--repo", str(repo), "--model",
                           f"scripted:{script}", "--json"], capture_output=True, text=True, timeout=600, env=env)
    wall = time.monotonic() - start
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    grade = [json.loads(line) for line in Path(summary["trajectory"]).read_text().splitlines()
             if '"kind": "grade"' in line]
    mutation_figures = summary["quality"].get("mutation") if isinstance(summary["quality"], dict) else None
    return {"mutation": mutation, "status": summary["status"], "wall_s": round(wall, 3),
            "grade_s": grade[0]["seconds"] if grade else None, "mutation_figures": mutation_figures}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5, help="runs of each kind (alternating)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="gl-mutation-") as tmp:
        runs = [one_run(Path(tmp), 2 * i + k, mutation=k == 0) for i in range(args.runs) for k in (0, 1)]
    on = [r for r in runs if r["mutation"] and r["status"] == "success"]
    off = [r for r in runs if not r["mutation"] and r["status"] == "success"]
    with_mutation, without = statistics.median(r["wall_s"] for r in on), statistics.median(r["wall_s"] for r in off)
    result = {
        "machine": f"{platform.machine()} {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}",
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "commit": git(ROOT, "rev-parse", "--short", "HEAD").strip(),
        "runs": runs,
        "median_wall_with_mutation_s": with_mutation, "median_wall_without_s": without,
        "added_fraction": round(with_mutation / without - 1, 3),
        # the grade step measured inside each run with mutation: its share of the rest of that run
        "median_grade_s_with_mutation": statistics.median(r["grade_s"] for r in on),
        "median_grade_share": round(statistics.median(r["grade_s"] / (r["wall_s"] - r["grade_s"]) for r in on), 3),
        "target": "mutation adds at most 50% to the median run's wall time",
    }
    out = ROOT / "benchmarks" / "results" / f"mutation-overhead-{datetime.now(timezone.utc):%Y-%m-%d}.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"median wall: {without:.2f} s without mutation, {with_mutation:.2f} s with "
          f"(+{100 * result['added_fraction']:.0f}%); grading adds a median {100 * result['median_grade_share']:.0f}% "
          f"to its own run; {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
