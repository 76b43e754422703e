"""The TypeScript type check through the real loop: scripted model, real git, the real jail, `tsc --noEmit` and
`node --import tsx --test` from node_modules installed with npm (once, cached; skipped when npm cannot reach
the registry). A type error goes back to the model before any test runs; a project's tsconfig.json cannot make
tsc write outside the worktree or load plugins; a project without typescript is warned about and still runs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import cli, events, git, init_repo, snapshot, summary, write_script
from test_js_frameworks import installed

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")

TASK = "Add a slugify(text) helper in lib/slug.ts"
TS_TEST = ("import test from 'node:test';\nimport assert from 'node:assert';\nimport { slugify } from '../lib/slug';\n\n"
           "test('basic', () => {\n  assert.strictEqual(slugify('Hello World'), 'hello-world');\n});\n\n"
           "test('punctuation', () => {\n  assert.strictEqual(slugify('  A, b!  '), 'a-b');\n});\n")
GOOD_TS = ("export function slugify(text: string): string {\n"
           "  return text.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');\n}\n")
# behaves right (the tests pass), but does not type-check
TYPE_ERROR_TS = GOOD_TS + "\nexport const limit: number = \"x\";\n"
WASM = {"GREENLOOP_MEMORY_LIMIT_MB": "65536"}  # tsx (WebAssembly) reserves more than 32 GiB of address space
PACKAGE = {"name": "textkit", "version": "1.0.0", "scripts": {"test": "node --test"},
           "devDependencies": {"typescript": "*", "tsx": "*", "@types/node": "*"}}


def reply(impl: str, test: str | None = TS_TEST, **extra: str) -> str:
    obj: dict = {"sourceFiles": [{"path": "lib/slug.ts", "content": impl},
                                 *({"path": p, "content": c} for p, c in extra.items())]}
    if test is not None:
        obj["testFile"] = {"path": "test/slug.test.ts", "content": test}
    return json.dumps(obj)


def ts_project(root: Path, package: dict = PACKAGE, typescript: bool = True, **files: str) -> Path:
    """A TypeScript project with node_modules installed (tsx and @types/node; typescript when asked)."""
    modules = installed("typescript")
    (root / "lib").mkdir(parents=True)
    (root / "lib" / "index.ts").write_text("export {};\n")
    (root / "package.json").write_text(json.dumps(package, indent=2) + "\n")
    (root / ".gitignore").write_text("node_modules/\n")
    for name, content in files.items():
        (root / name).write_text(content)
    shutil.copytree(modules, root / "node_modules", symlinks=True)
    if not typescript:
        shutil.rmtree(root / "node_modules" / "typescript")
        for name in ("tsc", "tsserver"):
            (root / "node_modules" / ".bin" / name).unlink()
    return init_repo(root)


def script(tmp_path: Path, first: str) -> Path:
    return write_script(tmp_path / "s.json", [{"step": "generate", "text": first},
                                              {"step": "fix", "text": reply(GOOD_TS, test=None)},
                                              {"step": "commit_message", "text": "feat(lib): add slugify"}])


def test_a_type_error_is_fed_back_before_the_tests_and_the_fix_is_committed(tmp_path: Path) -> None:
    root = ts_project(tmp_path / "proj")
    before = snapshot(root)
    s = summary(cli("run", TASK, "--repo", str(root), "--model", f"scripted:{script(tmp_path, reply(TYPE_ERROR_TS))}",
                    "--json", env=WASM))
    assert s["status"] == "success" and s["sandbox"] == "bwrap" and s["attempts"] == 2, s
    assert git(root, "show", f"{s['commit']}:lib/slug.ts") == GOOD_TS
    assert snapshot(root) == before  # the user's checkout is untouched
    evs = events(s["trajectory"])
    first = next(e for e in evs if e["kind"] == "attempt")
    assert first["outcome"] == "type_error" and "lib/slug.ts:5:14: error TS2322" in first["summary"]
    checks = [e for e in evs if e["kind"] == "type_check"]
    assert len(checks) == 2 and checks[0]["errors"] and not checks[1]["errors"]
    assert "--noEmit" in checks[0]["command"] and "./lib/slug.ts" in checks[0]["command"]
    fix = next(e for e in evs if e["kind"] == "model_request" and e["step"] == "fix")["messages"][-1]["content"]
    assert "tsc --noEmit" in fix and "Type 'string' is not assignable to type 'number'" in fix
    runs = [e for e in evs if e["kind"] == "test_run"]
    assert len(runs) == 1 and "tsx" in runs[0]["command"]  # the mistyped attempt never reached the runner
    assert ["test/slug.test.ts::basic", "passed"] in runs[0]["new"]


@pytest.mark.parametrize("sandbox", ["bwrap", "process"])
def test_a_hostile_tsconfig_cannot_write_outside_the_worktree_or_load_plugins(sandbox: str, tmp_path: Path) -> None:
    """Red team. The repository's tsconfig.json asks for output, build info and a trace outside the worktree and
    for plugins (one in node_modules, one in the repository) that write a marker when loaded. tsc runs with that
    config (its type error is found), yet nothing appears: the command line forces --noEmit and turns build
    info and traces off, and tsc loads no plugins -- even in the `process` sandbox, which isolates nothing."""
    out = tmp_path / "escape"
    marker = tmp_path / "plugin-ran"
    plugin = f"require('fs').writeFileSync({str(marker)!r}, 'loaded');\nmodule.exports = () => ({{}});\n"
    tsconfig = {"compilerOptions": {
        "strict": True, "esModuleInterop": True, "skipLibCheck": True, "outDir": str(out / "dist"),
        "declaration": True, "declarationDir": str(out / "types"), "incremental": True, "composite": True,
        "tsBuildInfoFile": str(out / "build.tsbuildinfo"), "generateTrace": str(out / "trace"),
        "plugins": [{"name": "evil-plugin"}, {"name": "./evil-plugin.cjs"}]}, "include": ["lib", "test"]}
    root = tmp_path / "proj"
    root.mkdir()
    (root / "evil-plugin.cjs").write_text(plugin)
    root = ts_project(root, **{"tsconfig.json": json.dumps(tsconfig, indent=2)})
    (root / "node_modules" / "evil-plugin").mkdir()
    (root / "node_modules" / "evil-plugin" / "package.json").write_text('{"name": "evil-plugin", "main": "i.js"}')
    (root / "node_modules" / "evil-plugin" / "i.js").write_text(plugin)
    loose = json.dumps({"compilerOptions": {"noEmit": False, "strict": False, "outDir": str(out / "model")}})
    first = reply(TYPE_ERROR_TS, **{"tsconfig.json": loose})  # the model may not loosen the check either
    before = snapshot(root)
    s = summary(cli("run", TASK, "--repo", str(root), "--model", f"scripted:{script(tmp_path, first)}", "--json",
                    "--sandbox", sandbox, env=WASM))
    assert s["status"] == "success" and s["attempts"] == 2 and s["sandbox"] == sandbox, s
    assert not out.exists() and not marker.exists()
    assert any("tsconfig.json" in w and "restricted" in w for w in s["warnings"])
    tree = git(root, "ls-tree", "-r", "--name-only", s["commit"]).split()
    assert not [p for p in tree if p.startswith(("dist/", "types/")) or p.endswith((".tsbuildinfo", ".js", ".d.ts"))]
    assert git(root, "show", f"{s['commit']}:tsconfig.json") == json.dumps(tsconfig, indent=2)
    assert snapshot(root) == before
    evs = events(s["trajectory"])
    checks = [e for e in evs if e["kind"] == "type_check"]
    assert [c["step"] for c in checks] == ["baseline", "generate", "fix"]
    assert all("--project" in c["command"] and "--noEmit" in c["command"] for c in checks)
    assert checks[1]["errors"] and "TS2322" in checks[1]["errors"][0] and not checks[2]["errors"]
    fix = next(e for e in evs if e["kind"] == "model_request" and e["step"] == "fix")["messages"][-1]["content"]
    assert "TS2322" in fix and "refused: " in fix and "tsconfig.json" in fix  # the refusal is told with the errors


def test_a_typescript_project_without_typescript_is_warned_once_and_still_runs(tmp_path: Path) -> None:
    package = {**PACKAGE, "devDependencies": {"tsx": "*"}}
    root = ts_project(tmp_path / "proj", package, typescript=False)
    s = summary(cli("run", TASK, "--repo", str(root), "--model", f"scripted:{script(tmp_path, reply(TYPE_ERROR_TS))}",
                    "--json", env=WASM))
    assert s["status"] == "success" and s["attempts"] == 1, s  # unchecked: the mistyped reply went green
    assert [w for w in s["warnings"] if "type check" in w] == [
        "no TypeScript type check: `typescript` is not installed in node_modules (run `npm install --save-dev "
        "typescript` to have each reply checked with tsc --noEmit before its tests)"]
    evs = events(s["trajectory"])
    assert not [e for e in evs if e["kind"] == "type_check"] and [e for e in evs if e["kind"] == "test_run"]


def test_missing_type_definitions_and_old_errors_are_not_the_models(tmp_path: Path) -> None:
    from greenloop.typecheck import TypeChecker

    output = ("lib/a.ts(3,5): error TS2322: Type 'string' is not assignable to type 'number'.\n"
              "test/a.test.ts(1,18): error TS2307: Cannot find module 'node:test' or its corresponding type "
              "declarations.\n"
              "test/a.test.ts(4,1): error TS2582: Cannot find name 'describe'. Do you need to install type "
              "definitions for a test runner?\n"
              "lib/old.ts(9,1): error TS2304: Cannot find name 'x'.\n"
              "lib/a.ts(7,1): error TS2345: Argument of type 'number' is not assignable to parameter of type "
              "'string'.\n  Type 'number' is not assignable to type 'string'.\n")
    checker = TypeChecker("node", "node_modules/typescript/bin/tsc", True,
                          frozenset({("lib/old.ts", "TS2304", "Cannot find name 'x'.")}))
    checked = checker.judge_output(2, False, output, tmp_path, {"lib/a.ts", "test/a.test.ts"})
    assert checked.errors == (
        "lib/a.ts:3:5: error TS2322: Type 'string' is not assignable to type 'number'.",
        "lib/a.ts:7:1: error TS2345: Argument of type 'number' is not assignable to parameter of type 'string'.\n"
        "  Type 'number' is not assignable to type 'string'.")
    assert "type definitions that are not installed" in checked.notice
    crashed = checker.judge_output(1, False, "Error: Cannot find module 'typescript'\n", tmp_path, set())
    assert not crashed.errors and "could not run" in crashed.notice
