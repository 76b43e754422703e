"""mocha and jest through the real loop: each installed once with npm into a cached fixture dir under /tmp
(skipped with the reason when the registry cannot be reached), copied into the project as its node_modules."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import cli, events, git, snapshot, summary, write_script
from test_js_loop import BAD_JS, GOOD_JS, TASK, node_project, reply

CACHE = Path("/tmp/greenloop-js-fixtures")
VERSIONS = {"mocha": "mocha@10", "jest": "jest@29", "typescript": "typescript@5 tsx@4 @types/node@20"}


def installed(package: str) -> Path:
    """The cached node_modules with `package` in it; installed with npm the first time."""
    where = CACHE / package
    if not (where / "node_modules" / package / "package.json").is_file():
        if shutil.which("npm") is None:
            pytest.skip("npm is not installed")
        where.mkdir(parents=True, exist_ok=True)
        (where / "package.json").write_text('{"name": "fixture", "version": "1.0.0", "private": true}\n')
        proc = subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--save-dev", *VERSIONS[package].split()],
                              cwd=where, capture_output=True, text=True, timeout=300)
        if proc.returncode != 0:
            pytest.skip(f"npm could not install {package} (registry unreachable?): {proc.stderr.strip()[-200:]}")
    return where / "node_modules"


@pytest.mark.parametrize("runner", ["mocha", "jest"])
def test_a_failing_assertion_is_fixed_and_committed(runner: str, tmp_path: Path) -> None:
    modules = installed(runner)
    root = node_project(tmp_path / "proj", {"name": "textkit", "version": "1.0.0", "scripts": {"test": runner},
                                             "devDependencies": {runner: "*"}})
    shutil.copytree(modules, root / "node_modules", symlinks=True)
    test = reply().replace("const test = require('node:test');\n", "") if runner == "mocha" else reply()
    if runner == "jest":  # jest's own globals, no node:test
        test = test.replace("const test = require('node:test');\\nconst assert = require('node:assert');\\n",
                            "const assert = require('node:assert');\\n")
    else:
        test = test.replace("const test = require('node:test');\\n", "const test = it;\\n")
    first = json.loads(test)
    fixed = json.loads(reply(test=None))
    first["sourceFiles"][0]["content"] = BAD_JS
    script = write_script(tmp_path / "s.json", [
        {"step": "generate", "text": json.dumps(first)},
        {"step": "fix", "text": json.dumps(fixed)},
        {"step": "commit_message", "text": "feat(lib): add slugify"},
    ])
    before = snapshot(root)
    proc = cli("run", TASK, "--repo", str(root), "--model", f"scripted:{script}", "--json")
    s = summary(proc)
    assert proc.returncode == 0 and s["status"] == "success", s
    assert s["tests"]["new_passed"] == 2 and s["attempts"] == 2
    assert git(root, "show", f"{s['commit']}:lib/slug.js") == GOOD_JS
    assert snapshot(root) == before
    evs = events(s["trajectory"])
    runs = [e for e in evs if e["kind"] == "test_run"]
    assert f"node_modules/.bin/{runner}" in runs[0]["command"]
    assert ["test/slug.test.js::punctuation", "failed"] in runs[0]["new"]
    fix_prompt = next(e for e in evs if e["kind"] == "model_request" and e["step"] == "fix")["messages"][-1]["content"]
    assert "'a-b'" in fix_prompt and "--a,-b!--" in fix_prompt
