"""Deterministic repairs of JS test files (repair_js.py): node:test's names and assert required, a relative
path to the code under test corrected; and through the real loop, a first reply with both mistakes is green at
attempt 1 with no fix call."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import cli, events, git, summary, write_script
from test_js_loop import GOOD_JS, TASK, node_project

from greenloop.repair_js import repair_test

LOOSE = ("describe('slugify', () => {\n  it('words', () => {\n    assert.strictEqual(slugify('Hello World'), "
         "'hello-world');\n  });\n});\n")


def _project(root: Path, package: dict) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "package.json").write_text(json.dumps(package))
    (root / "lib").mkdir(exist_ok=True)
    (root / "lib" / "cart.js").write_text("module.exports = {};\n")
    return root


def test_node_test_names_and_assert_are_required_in_the_projects_module_system(tmp_path: Path) -> None:
    cjs = _project(tmp_path / "cjs", {"scripts": {"test": "node --test"}})
    source = "const { slugify } = require('../lib/slug');\n" + LOOSE
    fixed, done = repair_test("test/slug.test.js", source, cjs, {"lib/slug.js"})
    assert fixed.startswith("const { describe, it } = require('node:test');\nconst assert = require('node:assert');\n")
    assert fixed.endswith(source) and len(done) == 2
    esm = _project(tmp_path / "esm", {"type": "module", "scripts": {"test": "node --test"}})
    fixed, _ = repair_test("test/slug.test.js", "'use strict';\n" + source.replace("require('../lib/slug')", "1"),
                           esm, set())
    assert fixed.startswith("'use strict';\nimport { describe, it } from 'node:test';\nimport assert from 'node:assert';")


def test_bound_names_and_other_runners_are_left_alone(tmp_path: Path) -> None:
    node = _project(tmp_path / "n", {"scripts": {"test": "node --test"}})
    bound = ("const { describe, it } = require('node:test');\nconst assert = require('node:assert/strict');\n"
             + LOOSE)
    assert repair_test("test/a.test.js", bound, node, set()) == (bound, [])
    mocha = _project(tmp_path / "m", {"scripts": {"test": "mocha"}})  # mocha's describe/it are globals
    fixed, done = repair_test("test/a.test.js", LOOSE, mocha, set())
    assert done == ["const assert = require('node:assert');"] and "node:test" not in fixed
    assert repair_test("test/a.test.js", "describe(() => {", node, set()) == ("describe(() => {", [])  # no parse


def test_a_relative_path_that_misses_is_pointed_at_the_one_file_of_that_name(tmp_path: Path) -> None:
    root = _project(tmp_path / "p", {"scripts": {"test": "node --test"}})
    source = ("const test = require('node:test');\nconst { slugify } = require('../lib/slug.js');\n"
              "const { cart } = require(\"../lib/cart\");\nconst { nothing } = require('../lib/nowhere');\n")
    fixed, done = repair_test("test/lib/slug.test.js", source, root, {"lib/slug.js"})
    assert "require('../../lib/slug.js')" in fixed and 'require("../../lib/cart")' in fixed
    assert "require('../lib/nowhere')" in fixed  # no file of that name: left for the test run to report
    assert done == ["'../lib/slug.js' -> '../../lib/slug.js'", "'../lib/cart' -> '../../lib/cart'"]
    right = "const { slugify } = require('../lib/slug');\n"
    assert repair_test("test/slug.test.js", right, root, {"lib/slug.js"}) == (right, [])
    ts = "import { f } from './util.js';\n"  # TypeScript's ESM import of util.ts by the .js it compiles to
    (root / "src").mkdir()
    (root / "src" / "util.ts").write_text("export const f = 1;\n")
    assert repair_test("src/a.test.ts", ts, root, set()) == (ts, [])


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_the_loop_repairs_the_test_instead_of_asking_to_fix_the_code(tmp_path: Path) -> None:
    cjs = node_project(tmp_path / "proj", {"name": "textkit", "version": "1.0.0", "scripts": {"test": "node --test"}})
    test = "const { slugify } = require('../lib/slug');\n\n" + LOOSE.replace("'Hello World'), 'hello-world'",
                                                                            "'A, b!'), 'a-b'")
    first = json.dumps({"testFile": {"path": "test/text/slug.test.js", "content": test},
                        "sourceFiles": [{"path": "lib/slug.js", "content": GOOD_JS}]})
    script = write_script(tmp_path / "s.json", [{"step": "generate", "text": first},
                                                {"step": "commit_message", "text": "feat(lib): add slugify"}])
    s = summary(cli("run", TASK, "--repo", str(cjs), "--model", f"scripted:{script}", "--json"))
    assert s["status"] == "success" and s["attempts"] == 1 and s["usage"]["calls"] == 3, s  # with the test design
    committed = git(cjs, "show", f"{s['commit']}:test/text/slug.test.js")
    assert committed.startswith("const { describe, it } = require('node:test');\nconst assert = require('node:assert');")
    assert "require('../../lib/slug')" in committed and s["tests"]["new_passed"] == 1
    # the test design's reply and the generate call's (one scripted turn) are each repaired the same way
    assert {tuple(e["added_imports"]) for e in events(s["trajectory"]) if e["kind"] == "repair"} == {(
        "'../lib/slug' -> '../../lib/slug'", "const { describe, it } = require('node:test');",
        "const assert = require('node:assert');")}
