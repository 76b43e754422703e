"""The task's examples (examples.py) as anchors for JavaScript: each `name(literals) == literal` is called on the
run's .js/.cjs/.mjs modules in the sandbox (imported with node's dynamic import, CommonJS or ESM) and compared
with assert.deepStrictEqual. Lines of the result carry a random token, so output the code prints is not read."""

from __future__ import annotations

import ast
import json
import secrets
from collections.abc import Sequence
from pathlib import Path

from greenloop.examples import EXAMPLE_FAILS, Example
from greenloop.protocols import Sandbox
from greenloop.types import Missed
from greenloop.workspace import Workspace

JS_MODULES = (".js", ".cjs", ".mjs")
_SCRIPT = """
import assert from 'node:assert';
import { pathToFileURL } from 'node:url';
const names = {};
for (const file of %(files)s) {
  try {
    const m = await import(pathToFileURL(file).href);
    const d = m.default;
    if (typeof d === 'function' && d.name) names[d.name] = d;
    if (d && typeof d === 'object') Object.assign(names, d);
    Object.assign(names, m);
  } catch (e) { console.log(%(token)s + JSON.stringify({ load: file, got: String(e) })); }
}
%(checks)s
"""
_CHECK = """try {
  const fn = names[%(name)s];
  if (typeof fn !== 'function') throw new Error(%(name)s + ' is not exported');
  const got = await fn(...%(args)s);
  let ok = true;
  try { assert.deepStrictEqual(got, %(expected)s); } catch { ok = false; }
  console.log(%(token)s + JSON.stringify({ i: %(i)d, ok, got: String(JSON.stringify(got)) }));
} catch (e) {
  console.log(%(token)s + JSON.stringify({ i: %(i)d, ok: false, got: 'raised ' + String(e), raised: true }));
}
"""


def _as_js(example: Example) -> tuple[str, list[object], object] | None:
    """(function name, arguments, expected) when the example is a plain call of JSON-able literals."""
    try:
        call = ast.parse(example.call, mode="eval").body
        if not isinstance(call, ast.Call) or not isinstance(call.func, ast.Name) or call.keywords:
            return None
        args = [ast.literal_eval(a) for a in call.args]
        expected = ast.literal_eval(example.expected)
        json.dumps([args, expected])
    except (SyntaxError, ValueError, TypeError, RecursionError):
        return None
    return call.func.id, args, expected


def js_example_failures(examples: Sequence[Example], impl_paths: Sequence[str], ws: Workspace, sandbox: Sandbox,
                        node: str, timeout_s: float) -> list[Missed]:
    files = [str(ws.root / p) for p in impl_paths if p.endswith(JS_MODULES)]
    runnable = [(ex, js) for ex in examples if (js := _as_js(ex)) is not None]
    if not files or not runnable:
        return []
    token = json.dumps(f"greenloop-{secrets.token_hex(8)}:")
    checks = "".join(_CHECK % {"name": json.dumps(name), "args": json.dumps(args), "expected": json.dumps(expected),
                               "token": token, "i": i} for i, (_, (name, args, expected)) in enumerate(runnable))
    script = _SCRIPT % {"files": json.dumps(files), "token": token, "checks": checks}
    result = sandbox.run([node, "--input-type=module", "-e", script], ws.root, timeout_s=timeout_s)
    prefix = json.loads(token)
    seen: dict[int, dict[str, object]] = {}
    for line in result.stdout.splitlines():
        if line.startswith(prefix):  # the module under test ran in this process and may forge the line
            try:
                item = json.loads(line[len(prefix):])
            except (ValueError, RecursionError):
                continue
            if isinstance(item, dict) and isinstance(item.get("i"), int):
                seen[item["i"]] = item
    failures = []
    for i, (ex, _) in enumerate(runnable):
        item = seen.get(i)
        if item is None or item.get("ok") is not True:
            got = f"; got {item.get('got')}" if item else "; it did not run"
            returned = str(item.get("got")) if item and item.get("raised") is not True else None
            failures.append(Missed(f"{EXAMPLE_FAILS}{ex.call} should be {ex.expected}{got}", returned))
    return failures


def node_of(runner: object) -> str | None:
    """The node executable of a JavaScript runner (None for others)."""
    node = getattr(runner, "node", None)
    return node if isinstance(node, str) and Path(node).name.startswith("node") else None
