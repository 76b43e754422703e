"""JS benchmark: repository tasks on two small real-looking Node projects, through the whole loop (real git,
real bwrap jail, real node), with the scripted model for determinism: each task's first reply is a
plausible wrong implementation and the fix is right, so every task exercises generate -> red -> fix -> green.

Projects: `shopcart` (CommonJS, node --test, existing tests that must keep passing) and `tsclamp` (ESM +
TypeScript, vitest; its node_modules copied from /tmp/greenloop-js-fixtures/vitest, `npm install vitest@1`
there first, else that project is reported as skipped). Writes benchmarks/results/js-repo-tasks-<date>.json.
Usage: python benchmarks/js_repo_tasks.py [--runs 3]

With a real model (`--model local:PATH`, `openai:...`): the task's test is NOT in the project; greenloop writes
its own tests, and a green run counts as solved only if the task's test (hidden from the run) passes on the
run's branch, run in the same jail. Greedy local models are deterministic, so `--runs 1` is enough there.
Writes benchmarks/results/js-repo-tasks-<model>-<date>.json.
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
from dataclasses import asdict
from pathlib import Path

from repotasks import ROOT, Hidden, Task, make_project, model_label, run_task, short_commit

VITEST = Path("/tmp/greenloop-js-fixtures/vitest/node_modules")
KEEP = ROOT / "benchmarks" / "results" / f"js-repo-tasks-trajectories-{time.strftime('%F')}"  # real-model runs
CART = ("const { formatCents } = require('./money');\n\nfunction lineTotal(item) {\n  return item.cents * item.qty;\n}"
        "\n\nfunction describe(item) {\n  return `${item.qty} x ${item.name} = ${formatCents(lineTotal(item))}`;\n}\n\n"
        "module.exports = { lineTotal, describe };\n")
MONEY = ("function formatCents(cents) {\n  const sign = cents < 0 ? '-' : '';\n  const abs = Math.abs(cents);\n"
         "  return `${sign}$${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;\n}\n\n"
         "module.exports = { formatCents };\n")
CART_TEST = ("const test = require('node:test');\nconst assert = require('node:assert');\n"
             "const { lineTotal, describe } = require('../lib/cart');\n\n"
             "test('lineTotal', () => assert.strictEqual(lineTotal({ cents: 250, qty: 3 }), 750));\n"
             "test('describe', () => assert.strictEqual(describe({ name: 'tea', cents: 250, qty: 2 }), "
             "'2 x tea = $5.00'));\n")


def node_test(requires: str, cases: list[tuple[str, str]]) -> str:
    body = "".join(f"\ntest('{name}', () => {{\n  {check}\n}});\n" for name, check in cases)
    return f"const test = require('node:test');\nconst assert = require('node:assert');\n{requires}\n{body}"


SHOPCART_TASKS = [
    {"task": "Add slugify(text) in lib/slug.js: lowercase words joined by single dashes",
     "test": ("test/slug.test.js", node_test("const { slugify } = require('../lib/slug');", [
         ("words", "assert.strictEqual(slugify('Hello World'), 'hello-world');"),
         ("punctuation", "assert.strictEqual(slugify('  A, b!  '), 'a-b');")])),
     "source": "lib/slug.js",
     "wrong": ("function slugify(text) {\n  return text.toLowerCase().replace(/ /g, '-');\n}\n\n"
               "module.exports = { slugify };\n"),
     "right": ("function slugify(text) {\n  return text.toLowerCase().replace(/[^a-z0-9]+/g, '-')"
               ".replace(/^-+|-+$/g, '');\n}\n\nmodule.exports = { slugify };\n")},
    {"task": "Add cartTotal(items) in lib/total.js: the sum of every line total, formatted with formatCents",
     "test": ("test/total.test.js", node_test("const { cartTotal } = require('../lib/total');", [
         ("empty", "assert.strictEqual(cartTotal([]), '$0.00');"),
         ("two lines", "assert.strictEqual(cartTotal([{ cents: 250, qty: 2 }, { cents: 99, qty: 1 }]), '$5.99');")])),
     "source": "lib/total.js",
     "wrong": ("const { formatCents } = require('./money');\n\nfunction cartTotal(items) {\n"
               "  return formatCents(items.reduce((s, i) => s + i.cents, 0));\n}\n\nmodule.exports = { cartTotal };\n"),
     "right": ("const { formatCents } = require('./money');\nconst { lineTotal } = require('./cart');\n\n"
               "function cartTotal(items) {\n  return formatCents(items.reduce((s, i) => s + lineTotal(i), 0));\n}\n\n"
               "module.exports = { cartTotal };\n")},
    {"task": "Add parseQuery(qs) in lib/query.js: a query string like '?a=1&b=x%20y' to an object of decoded strings",
     "test": ("test/query.test.js", node_test("const { parseQuery } = require('../lib/query');", [
         ("decodes", "assert.deepStrictEqual(parseQuery('?a=1&b=x%20y'), { a: '1', b: 'x y' });"),
         ("empty", "assert.deepStrictEqual(parseQuery(''), {});")])),
     "source": "lib/query.js",
     "wrong": ("function parseQuery(qs) {\n  const out = {};\n  for (const part of qs.split('&')) {\n"
               "    const [k, v] = part.split('=');\n    out[k] = v;\n  }\n  return out;\n}\n\n"
               "module.exports = { parseQuery };\n"),
     "right": ("function parseQuery(qs) {\n  return Object.fromEntries(new URLSearchParams(qs));\n}\n\n"
               "module.exports = { parseQuery };\n")},
]
TS_TASK = {"task": "Add clamp(x, lo, hi) in src/clamp.ts", "env": {"GREENLOOP_MEMORY_LIMIT_MB": "16384"},
           "test": ("src/clamp.test.ts", "import { describe, expect, test } from 'vitest';\n"
                    "import { clamp } from './clamp';\n\n"
                    "describe('clamp', () => {\n  test('inside', () => expect(clamp(5, 0, 10)).toBe(5));\n"
                    "  test('below', () => expect(clamp(-3, 0, 10)).toBe(0));\n"
                    "  test('above', () => expect(clamp(12, 0, 10)).toBe(10));\n});\n"),
           "source": "src/clamp.ts",
           "wrong": ("export function clamp(x: number, lo: number, hi: number): number {\n"
                     "  return Math.max(x, lo);\n}\n"),
           "right": ("export function clamp(x: number, lo: number, hi: number): number {\n"
                     "  return Math.min(Math.max(x, lo), hi);\n}\n")}


def shopcart(root: Path) -> Path:
    package = {"name": "shopcart", "version": "1.2.0", "main": "lib/cart.js", "scripts": {"test": "node --test"}}
    return make_project(root, {"package.json": json.dumps(package, indent=2) + "\n", ".gitignore": "node_modules/\n",
                               "lib/cart.js": CART, "lib/money.js": MONEY, "test/cart.test.js": CART_TEST}, None)


def tsclamp(root: Path) -> Path:
    package = {"name": "tsclamp", "version": "0.1.0", "type": "module", "scripts": {"test": "vitest run"},
               "devDependencies": {"vitest": "^1.0.0", "typescript": "^5.0.0"}}
    return make_project(root, {"package.json": json.dumps(package, indent=2) + "\n", ".gitignore": "node_modules/\n",
                               "src/index.ts": "export const version = '0.1.0';\n"}, VITEST)


def js_task(task: dict) -> Task:
    """The task for the shared runner: its hidden test run by node --test, or by vitest for a TypeScript test."""
    test_path, test = task["test"]
    hidden = str(Path(test_path).with_name("hidden_" + Path(test_path).name))
    argv = ("node", "--test", hidden) if test_path.endswith(".js") else \
        ("node", "node_modules/vitest/vitest.mjs", "run", hidden)
    memory = int(task.get("env", {}).get("GREENLOOP_MEMORY_LIMIT_MB", "2048"))
    return Task(task["task"], Hidden({hidden: test}, argv, memory), env=task.get("env", {}))


def run_model_task(project: Path, task: dict, tmp: Path, model: str) -> dict:
    name = f"{Path(task['source']).stem}-{time.strftime('%H%M%S')}"
    outcome = run_task(project, js_task(task), tmp, model, KEEP, name)
    return {"task": task["task"], **asdict(outcome)}


def run_scripted(project: Path, task: dict, tmp: Path) -> dict:
    test_path, test = task["test"]
    first = {"testFile": {"path": test_path, "content": test},
             "sourceFiles": [{"path": task["source"], "content": task["wrong"]}]}
    fix = {"sourceFiles": [{"path": task["source"], "content": task["right"]}]}
    script = tmp / "script.json"
    script.write_text(json.dumps({"replies": [{"step": "generate", "text": json.dumps(first)},
                                              {"step": "fix", "text": json.dumps(fix)},
                                              {"step": "commit_message", "text": "feat: " + task["task"][:50]}]}))
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), **task.get("env", {})}
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "greenloop", "run", task["task"], "--repo", str(project),
                           "--model", f"scripted:{script}", "--json"], capture_output=True, text=True, env=env,
                          timeout=600)
    seconds = time.perf_counter() - start
    summary = json.loads(proc.stdout.strip().splitlines()[-1]) if proc.stdout.strip() else {"status": "crash"}
    return {"task": task["task"], "status": summary.get("status"), "attempts": summary.get("attempts"),
            "tests": summary.get("tests"), "seconds": round(seconds, 2), "error": summary.get("error")}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--model", help="a real model (local:PATH, openai:NAME, ...); default: the scripted one")
    args = parser.parse_args()
    rows: dict[str, list[dict]] = {}
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        jobs = [("shopcart (CommonJS, node --test)", shopcart, t) for t in SHOPCART_TASKS]
        if (VITEST / "vitest" / "package.json").is_file():
            jobs.append(("tsclamp (ESM + TypeScript, vitest)", tsclamp, TS_TASK))
        for run in range(args.runs):
            for i, (name, make, task) in enumerate(jobs):
                project = make(tmp / f"p{run}-{i}")
                row = run_model_task(project, task, tmp, args.model) if args.model else run_scripted(project, task, tmp)
                rows.setdefault(f"{name}: {task['task']}", []).append(row)
    commit = short_commit()
    table = [{"task": key, "solved": sum(r["status"] == "success" for r in runs), "runs": len(runs),
              "median_seconds": statistics.median(r["seconds"] for r in runs),
              "median_attempts": statistics.median(r["attempts"] or 0 for r in runs), "results": runs}
             for key, runs in rows.items()]
    result = {"machine": f"{platform.node()} {platform.machine()} {os.cpu_count()} cpus", "date": time.strftime("%F"),
              "commit": commit, "node": subprocess.run(["node", "--version"], capture_output=True, text=True,
                                                       timeout=30).stdout.strip(),
              "model": args.model or "scripted (wrong first reply, right fix)", "skipped": [] if len(rows) > 3 else
              ["tsclamp: no vitest in /tmp/greenloop-js-fixtures/vitest"], "tasks": table}
    label = f"{model_label(args.model)}-" if args.model else ""
    out = ROOT / "benchmarks" / "results" / f"js-repo-tasks-{label}{result['date']}.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    for row in table:
        print(f"| {row['task']} | {row['solved']}/{row['runs']} | {row['median_attempts']} "
              f"| {row['median_seconds']} s |")


if __name__ == "__main__":
    main()
