"""Context gathering reads only the repository: files the task names outside it are refused, never read."""

from __future__ import annotations

from pathlib import Path

from conftest import TASK, cli, events, git, summary, whole, write_script

import greenloop.context as context


def _outside(tmp_path: Path) -> dict[str, Path]:
    """Canary files outside the repository, each with its own secret."""
    out = tmp_path / "outside"
    (out / "vendor").mkdir(parents=True)
    (out / "abs").mkdir()
    canaries = {
        "dotdot": tmp_path / "x.py",
        "absolute": out / "abs" / "x.py",
        "dirlink": out / "vendor" / "secret.py",
        "filelink": out / "target.py",
        "pyproject": out / "pyproject.toml",
        "requirements": out / "requirements.txt",
    }
    for name, path in canaries.items():
        secret = f"CANARY_{name.upper()}_7f3a"
        if name == "pyproject":
            path.write_text(f'[project]\nname = "x"\ndependencies = ["{secret}"]\nrequires-python = "{secret}"\n')
        elif name == "requirements":
            path.write_text(f"{secret}\n")
        else:
            path.write_text(f'SECRET = "{secret}"\n')
    return canaries


def test_named_files_outside_the_repository_never_reach_the_model(repo: Path, tmp_path: Path) -> None:
    canaries = _outside(tmp_path)
    (repo / "vendorlink").symlink_to(canaries["dirlink"].parent)
    (repo / "link.py").symlink_to(canaries["filelink"])
    (repo / "pyproject.toml").symlink_to(canaries["pyproject"])
    (repo / "requirements.txt").symlink_to(canaries["requirements"])
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "links")
    task = (f"{TASK}. Follow the style of ../x.py, {canaries['absolute']}, vendorlink/secret.py and link.py "
            "(and pyproject.toml).")
    script = write_script(tmp_path / "s.json", [
        {"step": "generate", "text": whole()},
        {"step": "commit_message", "text": "feat(textkit): add slugify"},
    ])
    proc = cli("run", task, "--repo", str(repo), "--model", f"scripted:{script}", "--json")
    s = summary(proc)
    assert proc.returncode == 0 and s["status"] == "success", (proc.stderr, s)
    trajectory = Path(s["trajectory"]).read_text()
    for name in canaries:
        assert f"CANARY_{name.upper()}_7f3a" not in trajectory, name
    prompt = next(e for e in events(s["trajectory"]) if e["kind"] == "model_request"
                  and e["step"] == "generate")["messages"][-1]["content"]
    for name in ("../x.py", str(canaries["absolute"]), "vendorlink/secret.py", "link.py"):
        assert f"{name} was not read" in prompt, name


def test_gather_refuses_with_the_reason(tmp_path: Path) -> None:
    canaries = _outside(tmp_path)
    root = tmp_path / "root"
    root.mkdir()
    git(root, "init", "-q")
    (root / "vendorlink").symlink_to(canaries["dirlink"].parent)
    (root / "link.py").symlink_to(canaries["filelink"])
    (root / "inside.py").write_text("def f():\n    return 1\n")
    git(root, "add", "-A")
    ctx = context.gather(root, f"use ../x.py, {canaries['absolute']}, vendorlink/secret.py, link.py and inside.py")
    by_path = {f.path: f for f in ctx.named}
    assert "'..' is refused" in by_path["../x.py"].refused
    assert "absolute paths are refused" in by_path[str(canaries["absolute"])].refused
    assert by_path["vendorlink/secret.py"].refused  # the reason's wording is the Workspace's
    assert by_path["link.py"].refused
    assert all(not f.content and not f.exists for p, f in by_path.items() if p != "inside.py")
    assert by_path["inside.py"].exists and by_path["inside.py"].content == "def f():\n    return 1\n"


def test_file_view_is_whole_within_the_budget_and_an_outline_beyond() -> None:
    small = "def f():\n    return 1\n"
    view = context.file_view("m.py", small, "change f", 1000)
    assert view.whole and view.text == small
    body = "".join(f"def fn_{i}(x):\n    y = x + {i}\n    return y\n\n\n" for i in range(300))
    view = context.file_view("m.py", body, "make fn_120 return twice y", 12_000)
    assert not view.whole and len(view.text) <= 12_000
    assert "def fn_0: lines 1-3" in view.text and "def fn_299: lines 1496-1498" in view.text
    assert " 601| def fn_120(x):" in view.text and " 603|     return y" in view.text  # the definition asked about
    assert "fn_121(x):" not in view.text  # other bodies are only in the outline
    assert "SEARCH/REPLACE" in view.text and "never send this file whole" in view.text
    small_budget = context.file_view("m.py", body, "make fn_120 return twice y", 3000)
    assert len(small_budget.text) <= 3000 and " 601| def fn_120(x):" in small_budget.text
    assert "more definitions in lines" in small_budget.text  # the outline says what it leaves out


def test_a_long_file_without_an_outline_shows_numbered_lines_around_the_task_words() -> None:
    text = "".join(f"line {i} of the notes\n" for i in range(1, 2000)).replace("line 700 of", "line 700 mentions frobnicate of")
    view = context.file_view("notes.md", text, "reword the frobnicate note", 2000)
    assert not view.whole and len(view.text) <= 2000 and "too long to show whole" in view.text
    assert " 700| line 700 mentions frobnicate of the notes" in view.text and " 697| " in view.text
    assert "line 1500 of" not in view.text


def test_a_js_task_is_asked_for_a_js_test_file_beside_the_projects_tests() -> None:
    from greenloop.context import ProjectContext

    ctx = ProjectContext(files=["package.json", "src/slug.js", "spec/util.test.js"], named=[], examples=[],
                         test_dir="tests", test_framework="node", python_requires="")
    assert ctx.suggested_test_path("src/slug.js") == "spec/slug.test.js"
    assert ctx.suggested_test_path("src/a.ts") == "spec/a.test.ts"
    assert ctx.suggested_test_path("pkg/x.py") == "tests/test_x.py"
    bare = ProjectContext(files=["package.json"], named=[], examples=[], test_dir="tests", test_framework="node",
                          python_requires="")
    assert bare.suggested_test_path("slug.mjs") == "test/slug.test.mjs"


def test_the_suggested_test_file_is_never_one_the_project_has() -> None:
    from greenloop.context import ProjectContext

    taken = ["pkg/money.py", "tests/test_money.py", "tests/test_money_2.py", "spec/slug.test.js", "src/slug.js"]
    ctx = ProjectContext(files=taken[:1], tracked=frozenset(taken), named=[], examples=[], test_dir="tests",
                         test_framework="pytest", python_requires="")
    assert ctx.suggested_test_path("pkg/money.py") == "tests/test_money_3.py"
    assert ctx.suggested_test_path("pkg/other.py") == "tests/test_other.py"
    js = ProjectContext(files=taken, tracked=frozenset(taken), named=[], examples=[], test_dir="tests",
                        test_framework="node", python_requires="")
    assert js.suggested_test_path("src/slug.js") == "spec/slug-2.test.js"
