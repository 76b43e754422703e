"""The real loop on Node projects: scripted model, real git, real bwrap jail, real `node --test`."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import cli, events, git, init_repo, snapshot, summary, write_script

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")

TASK = "Add a slugify(text) helper in lib/slug.js"
JS_TEST = ("const test = require('node:test');\nconst assert = require('node:assert');\n"
           "const { slugify } = require('../lib/slug');\n\n"
           "test('basic', () => {\n  assert.strictEqual(slugify('Hello World'), 'hello-world');\n});\n\n"
           "test('punctuation', () => {\n  assert.strictEqual(slugify('  A, b!  '), 'a-b');\n});\n")
BAD_JS = "function slugify(text) {\n  return text.toLowerCase().replace(/ /g, '-');\n}\n\nmodule.exports = { slugify };\n"
GOOD_JS = ("function slugify(text) {\n  return text.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');\n}"
           "\n\nmodule.exports = { slugify };\n")
BROKEN_JS = "function slugify(text) {\n  return text.toLowerCase(;\n}\n\nmodule.exports = { slugify };\n"


def reply(test: str | None = JS_TEST, impl: str = GOOD_JS) -> str:
    obj: dict = {"sourceFiles": [{"path": "lib/slug.js", "content": impl}]}
    if test is not None:
        obj["testFile"] = {"path": "test/slug.test.js", "content": test}
    return json.dumps(obj)


def node_project(root: Path, package: dict) -> Path:
    (root / "lib").mkdir(parents=True)
    (root / "lib" / "index.js").write_text("module.exports = {};\n")
    (root / "package.json").write_text(json.dumps(package, indent=2) + "\n")
    (root / ".gitignore").write_text("node_modules/\n")
    return init_repo(root)


@pytest.fixture
def cjs(tmp_path: Path) -> Path:
    return node_project(tmp_path / "proj", {"name": "textkit", "version": "1.0.0", "scripts": {"test": "node --test"}})


def test_failing_assertion_is_fed_back_and_the_fix_is_committed(cjs: Path, tmp_path: Path) -> None:
    script = write_script(tmp_path / "s.json", [
        {"step": "generate", "text": reply(impl=BAD_JS)},
        {"step": "fix", "text": reply(test=None)},
        {"step": "commit_message", "text": "feat(lib): add slugify"},
    ])
    before = snapshot(cjs)
    proc = cli("run", TASK, "--repo", str(cjs), "--model", f"scripted:{script}", "--json")
    s = summary(proc)
    assert proc.returncode == 0 and s["status"] == "success", s
    assert s["sandbox"] == "bwrap" and s["attempts"] == 2
    assert s["tests"]["new_passed"] == 2 and s["tests"]["new_failed"] == 0
    assert snapshot(cjs) == before  # the user's checkout is untouched
    assert git(cjs, "show", f"{s['commit']}:lib/slug.js") == GOOD_JS
    evs = events(s["trajectory"])
    runs = [e for e in evs if e["kind"] == "test_run"]
    assert "--test" in runs[0]["command"] and runs[0]["exit_code"] != 0 and runs[-1]["exit_code"] == 0
    assert ["test/slug.test.js::punctuation", "failed"] in runs[0]["new"]
    fix_prompt = next(e for e in evs if e["kind"] == "model_request" and e["step"] == "fix")["messages"][-1]["content"]
    assert "'--a,-b!--'" in fix_prompt and "'a-b'" in fix_prompt  # actual and expected reached the model
    assert "Current lib/slug.js:\n```javascript" in fix_prompt
    system = next(e for e in evs if e["kind"] == "model_request")["messages"][0]["content"]
    assert "JavaScript engineer" in system and "CommonJS" in system and "node:test" in system
    assert "Python" not in system and "pytest" not in system


def test_a_js_syntax_error_never_reaches_the_runner(cjs: Path, tmp_path: Path) -> None:
    script = write_script(tmp_path / "s.json", [
        {"step": "generate", "text": reply(impl=BROKEN_JS)},
        {"step": "fix", "text": reply(test=None)},
        {"step": "commit_message", "text": "feat(lib): add slugify"},
    ])
    s = summary(cli("run", TASK, "--repo", str(cjs), "--model", f"scripted:{script}", "--json"))
    assert s["status"] == "success" and s["attempts"] == 2
    evs = events(s["trajectory"])
    first = next(e for e in evs if e["kind"] == "attempt")
    assert first["outcome"] != "tests_failed" and "syntax error" in first["summary"]
    assert len([e for e in evs if e["kind"] == "test_run"]) == 1  # only the fixed attempt ran


def test_uninstalled_dependencies_are_named_with_the_install_command(tmp_path: Path) -> None:
    root = node_project(tmp_path / "proj", {"name": "app", "version": "1.0.0", "scripts": {"test": "mocha"},
                                             "devDependencies": {"mocha": "^10.0.0"}})
    (root / "package-lock.json").write_text("{}\n")
    script = write_script(tmp_path / "s.json", [{"text": reply()}])
    before = snapshot(root)
    proc = cli("run", TASK, "--repo", str(root), "--model", f"scripted:{script}", "--json")
    assert proc.returncode == 2
    assert "npm ci" in summary(proc)["error"] and "node_modules is not installed" in summary(proc)["error"]
    assert snapshot(root) == before


def test_no_detectable_runner_is_a_usage_error_naming_test_cmd_and_test_cmd_overrides(tmp_path: Path) -> None:
    root = node_project(tmp_path / "proj", {"name": "app", "version": "1.0.0"})
    script = write_script(tmp_path / "s.json", [{"text": reply()}])
    proc = cli("run", TASK, "--repo", str(root), "--model", f"scripted:{script}", "--json")
    assert proc.returncode == 2 and "--test-cmd" in summary(proc)["error"]
    script = write_script(tmp_path / "s2.json", [{"text": reply()}, {"text": "feat: slugify"}])
    s = summary(cli("run", TASK, "--repo", str(root), "--model", f"scripted:{script}", "--json",
                    "--test-cmd", "node --test"))  # the user names the command: the run goes on with node --test
    assert s["status"] == "success" and s["tests"]["new_passed"] == 2, s
    assert "test/slug.test.js" in git(root, "ls-tree", "-r", "--name-only", s["commit"])


def test_a_node_run_with_no_tests_is_never_green(cjs: Path, tmp_path: Path) -> None:
    empty = "const test = require('node:test');\n"
    script = write_script(tmp_path / "s.json", [{"text": reply(test=empty, impl=GOOD_JS)}] * 2)
    s = summary(cli("run", TASK, "--repo", str(cjs), "--model", f"scripted:{script}", "--json",
                    "--max-iterations", "2"))
    assert s["status"] != "success" and s["commit"] is None


def test_an_uninstalled_require_and_a_placeholder_are_refused_with_the_fix_named(cjs: Path, tmp_path: Path) -> None:
    lodash = "const _ = require('lodash');\n\nfunction slugify(text) {\n  return _.kebabCase(text);\n}\n\n" \
             "module.exports = { slugify };\n"
    todo = "function slugify(text) {\n  // TODO: implement\n}\n\nmodule.exports = { slugify };\n"
    script = write_script(tmp_path / "s.json", [
        {"step": "generate", "text": reply(impl=lodash)},
        {"step": "fix", "text": reply(impl=todo)},
        {"step": "fix", "text": reply()},
        {"step": "commit_message", "text": "feat(lib): add slugify"},
    ])
    s = summary(cli("run", TASK, "--repo", str(cjs), "--model", f"scripted:{script}", "--json"))
    assert s["status"] == "success" and s["attempts"] == 3
    evs = events(s["trajectory"])
    fixes = [e["messages"][-1]["content"] for e in evs if e["kind"] == "model_request" and e["step"] == "fix"]
    assert "requires 'lodash'" in fixes[0] and "npm install lodash" in fixes[0]
    assert "placeholder" in fixes[1] and "empty body" in fixes[1]
    assert len([e for e in evs if e["kind"] == "test_run"]) == 1  # neither refused reply reached the runner


def test_js_suspicious_code_is_a_warning(tmp_path: Path) -> None:
    from greenloop.validate_js import js_warnings

    code = ("const cp = require('node:child_process');\nconst key = process.env.KEY;\n"
            "eval('1');\nconst f = new Function('return 1');\n")
    found = "\n".join(js_warnings("lib/x.js", code))
    assert "child_process" in found and "environment" in found and "eval()" in found and "new Function()" in found
    assert js_warnings("lib/y.js", "module.exports = (a, b) => a + b;\n") == []


def test_a_frozen_js_test_cannot_be_weakened(cjs: Path, tmp_path: Path) -> None:
    weakened = JS_TEST.replace("assert.strictEqual(slugify('  A, b!  '), 'a-b');", "assert.ok(true);")
    script = write_script(tmp_path / "s.json", [
        {"step": "generate", "text": reply(impl=BAD_JS)},
        {"step": "fix", "text": reply(test=weakened, impl=BAD_JS)},
        {"step": "fix", "text": reply(test=None)},
        {"step": "commit_message", "text": "feat(lib): add slugify"},
    ])
    s = summary(cli("run", TASK, "--repo", str(cjs), "--model", f"scripted:{script}", "--json"))
    assert s["status"] == "success"
    assert git(cjs, "show", f"{s['commit']}:test/slug.test.js") == JS_TEST  # the frozen test was kept
    evs = events(s["trajectory"])
    fixes = [e["messages"][-1]["content"] for e in evs if e["kind"] == "model_request" and e["step"] == "fix"]
    assert "test/slug.test.js is frozen" in fixes[1]


def test_the_tasks_own_example_is_an_anchor_in_js(cjs: Path, tmp_path: Path) -> None:
    weak_test = JS_TEST.replace("\n\ntest('punctuation', () => {\n  assert.strictEqual(slugify('  A, b!  '), 'a-b');\n});\n",
                                "\n")
    script = write_script(tmp_path / "s.json", [
        {"step": "generate", "text": reply(test=weak_test, impl=BAD_JS)},
        {"step": "fix", "text": reply(test=None)},
        {"step": "commit_message", "text": "feat(lib): add slugify"},
    ])
    task = "Add a slugify(text) helper in lib/slug.js, e.g. slugify('Hello, World!') === 'hello-world'"
    # tests and code from one generate call, so that a fix follows (with the default test design, a lean first
    # draft that misses the task's example is redrafted from the task instead)
    s = summary(cli("run", task, "--repo", str(cjs), "--model", f"scripted:{script}", "--json",
                    env={"GREENLOOP_TEST_DESIGN": "false"}))
    assert s["status"] == "success" and s["attempts"] == 2  # the weak tests passed, the example did not
    evs = events(s["trajectory"])
    fix_prompt = next(e for e in evs if e["kind"] == "model_request" and e["step"] == "fix")["messages"][-1]["content"]
    assert "The task's own example fails: slugify('Hello, World!')" in fix_prompt and '"hello,-world!"' in fix_prompt


def test_the_runner_follows_the_projects_sources_when_package_json_has_a_test_script(tmp_path: Path) -> None:
    from greenloop import runners

    js = node_project(tmp_path / "js", {"name": "t", "scripts": {"test": "node --test"}})
    assert runners.detect(js, js)[0].name == "node"
    py = tmp_path / "py"
    (py / "pkg").mkdir(parents=True)
    (py / "pkg" / "__init__.py").write_text("")
    (py / "package.json").write_text('{"name": "t", "scripts": {"test": "node --test"}}\n')
    init_repo(py)
    assert runners.detect(py, py)[0].name == "pytest"  # a Python package carrying a package.json


def test_a_test_file_that_fails_to_load_is_not_frozen_and_may_be_corrected(cjs: Path, tmp_path: Path) -> None:
    loads_badly = JS_TEST.replace("const { slugify } = require('../lib/slug');",
                                  "const { slugify } = require('../lib/slug');\nconst LIMIT = slugify.limits.max;")
    script = write_script(tmp_path / "s.json", [
        {"step": "generate", "text": reply(test=loads_badly)},
        {"step": "fix", "text": reply()},
        {"step": "commit_message", "text": "feat(lib): add slugify"},
    ])
    s = summary(cli("run", TASK, "--repo", str(cjs), "--model", f"scripted:{script}", "--json"))
    assert s["status"] == "success" and s["attempts"] == 2, s
    assert git(cjs, "show", f"{s['commit']}:test/slug.test.js") == JS_TEST
    first = next(e for e in events(s["trajectory"]) if e["kind"] == "test_run")
    assert first["new"] == [["test/slug.test.js::<collection>", "error"]]
    assert not any(e["kind"] == "attempt" and "frozen" in str(e.get("failure")) for e in events(s["trajectory"]))


def test_a_reply_with_the_tests_alone_gets_the_implementation_from_a_first_draft(cjs: Path, tmp_path: Path) -> None:
    script = write_script(tmp_path / "s.json", [
        {"step": "generate", "text": f"test/slug.test.js\n```js\n{JS_TEST}```\n"},  # the tests, no lib/slug.js
        {"step": "redraft", "text": f"lib/slug.js\n```js\n{GOOD_JS}```\n"},
        {"step": "commit_message", "text": "feat(lib): add slugify"},
    ])  # one generate call asked for tests and code (with the default test design, the tests come alone anyway)
    s = summary(cli("run", TASK, "--repo", str(cjs), "--model", f"scripted:{script}", "--json",
                    env={"GREENLOOP_TEST_DESIGN": "false"}))
    assert s["status"] == "success" and s["attempts"] == 2, s
    evs = events(s["trajectory"])
    first = next(e for e in evs if e["kind"] == "attempt")
    assert first["outcome"] == "invalid" and first["failure"].startswith(
        "The reply has no implementation: lib/slug.js does not exist yet. Send lib/slug.js whole")
    assert [e["kind"] for e in evs].count("test_run") == 1  # no test run for the tests alone
    second = [e for e in evs if e["kind"] == "model_request"][1]["messages"][-1]["content"]
    assert "Reply with the complete file lib/slug.js" in second and "slug.test.js" not in second  # the lean request
    assert git(cjs, "show", f"{s['commit']}:test/slug.test.js") == JS_TEST  # the first reply's tests were kept


def test_test_design_and_the_lean_draft_speak_javascript_in_a_node_project(cjs: Path, tmp_path: Path) -> None:
    script = write_script(tmp_path / "s.json", [
        {"step": "test_design", "text": f"test/slug.test.js\n```js\n{JS_TEST}```\n"},
        {"step": "generate", "text": f"```js\n{GOOD_JS}```\n"},  # unnamed: the task's one file
        {"step": "commit_message", "text": "feat(lib): add slugify"},
    ])
    s = summary(cli("run", TASK, "--repo", str(cjs), "--model", f"scripted:{script}", "--json",
                    env={"GREENLOOP_TEST_DESIGN": "true"}))
    assert s["status"] == "success" and s["attempts"] == 1, s
    requests = {e["step"]: e["messages"] for e in events(s["trajectory"]) if e["kind"] == "model_request"}
    design_system, design = (m["content"] for m in requests["test_design"])
    assert "JavaScript engineer" in design_system and "pytest" not in design + design_system
    assert "in test/slug.test.js: node:test tests with node:assert" in design and "lib/slug.js" in design
    assert "one ```javascript code block" in design
    lean_system, lean = (m["content"] for m in requests["generate"])
    assert lean_system.startswith("You are an expert JavaScript programmer") and "CommonJS" in lean_system
    assert "Reply with the complete file lib/slug.js in one ```javascript code block" in lean and "python" not in lean
    assert git(cjs, "show", f"{s['commit']}:lib/slug.js") == GOOD_JS
