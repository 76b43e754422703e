"""Multi-file plans: dependency order, a cycle named, an unknown dependency named, the plan from the
repository's references shown in the generate prompt, and the plan step of a run (the scripted model)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import cli, events, git, summary, whole, write_script

from greenloop.context import gather
from greenloop.plan import PlanError, parse_plan
from greenloop.prompts import render

REPLY = ('Here is the plan:\n```json\n{"files": [{"path": "app/api.py", "purpose": "routes", "dependsOn": '
         '["app/service.py"]}, {"path": "app/service.py", "purpose": "logic", "dependsOn": ["app/models.py"]}, '
         '{"path": "app/models.py", "purpose": "data", "dependsOn": []}]}\n```')


def test_order_puts_dependencies_first() -> None:
    plan = parse_plan(REPLY)
    assert plan.order == ("app/models.py", "app/service.py", "app/api.py")
    assert plan.files[0].purpose == "routes"


def test_cycle_is_named_and_a_fixed_plan_orders() -> None:
    cyclic = REPLY.replace('"dependsOn": []', '"dependsOn": ["app/api.py"]')
    with pytest.raises(PlanError, match="dependency cycle") as err:
        parse_plan(cyclic)
    cycle = str(err.value).split("cycle: ")[1].split(". Break")[0].split(" -> ")
    assert set(cycle) == {"app/api.py", "app/service.py", "app/models.py"} and cycle[0] == cycle[-1]
    assert parse_plan(REPLY).order[-1] == "app/api.py"


def test_unknown_dependency_is_named() -> None:
    with pytest.raises(PlanError, match=r"app/service\.py depends on app/db\.py, which the plan does not list"):
        parse_plan(REPLY.replace('["app/models.py"]', '["app/models.py", "app/db.py"]'))


def test_named_files_planned_from_references_and_shown(repo: Path) -> None:
    app = repo / "app"
    app.mkdir()
    (app / "models.py").write_text("class Order:\n    total = 0\n")
    (app / "service.py").write_text("from app.models import Order\n\n\ndef place_order():\n    return Order()\n")
    (app / "api.py").write_text("from app.service import place_order\n\n\ndef post():\n    return place_order()\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "app")
    ctx = gather(repo, "add a discount to app/api.py, app/service.py and app/models.py", map_tokens=200)
    assert ctx.plan == ["app/models.py", "app/service.py", "app/api.py"]
    prompt = render("generate", task="t", files=ctx.files, named=ctx.named, examples=ctx.examples,
                    repo_map=ctx.repo_map, plan=ctx.plan, style=ctx.style, target=None, test_path="tests/test_x.py",
                    tests_required=True)
    assert "dependencies first): app/models.py, app/service.py, app/api.py" in prompt
    assert "Map of the repository" in prompt and "app/api.py:\n│def post():" in prompt


def test_the_projects_own_test_file_is_neither_planned_nor_shown_twice(repo: Path) -> None:
    """A task naming the code and an existing test file (HumanEval's `tests/test_visible.py`): the test file is
    read-only for the run (ledger.protect), so the plan does not ask for it, and the prompt shows it once."""
    (repo / "solution.py").write_text("def double(x):\n    \"\"\">>> double(2)\n    4\n    \"\"\"\n")
    (repo / "tests").mkdir()
    (repo / "tests" / "test_visible.py").write_text("import solution\n\n\ndef test_it():\n"
                                                     "    assert solution.double(2) == 4\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "task")
    ctx = gather(repo, "Implement `double` in solution.py; tests/test_visible.py runs its examples", map_tokens=200)
    assert [f.path for f in ctx.named] == ["solution.py", "tests/test_visible.py"]
    assert ctx.plan == []
    assert "tests/test_visible.py" not in [f.path for f in ctx.examples]
    prompt = render("generate", task="t", files=ctx.files, named=ctx.named, examples=ctx.examples,
                    repo_map=ctx.repo_map, plan=ctx.plan, style=ctx.style, target="solution.py",
                    test_path="tests/test_solution.py", tests_required=True)
    assert prompt.count("assert solution.double(2) == 4") == 1 and "in this order" not in prompt


TWO_NEW = "Add slugify(text) in textkit/slug.py and title_slug(text) in textkit/titles.py, which uses slugify"
TITLES = "from textkit.slug import slugify\n\n\ndef title_slug(text):\n    return slugify(text.title())\n"


def _plan(slug_deps: list[str]) -> str:
    return json.dumps({"files": [
        {"path": "textkit/titles.py", "purpose": "title_slug", "dependsOn": ["textkit/slug.py"]},
        {"path": "textkit/slug.py", "purpose": "slugify", "dependsOn": slug_deps}]})


def _requests(evs: list[dict], step: str) -> list[str]:
    return [e["messages"][-1]["content"] for e in evs if e["kind"] == "model_request" and e["step"] == step]


def test_a_run_plans_new_files_names_a_cycle_and_writes_in_dependency_order(repo: Path, tmp_path: Path) -> None:
    script = write_script(tmp_path / "s.json", [
        {"step": "plan", "text": _plan(["textkit/titles.py"])},  # a cycle: goes back, named
        {"step": "plan", "text": _plan([])},
        {"step": "generate", "text": whole(**{"textkit/titles.py": TITLES})},
        {"step": "commit_message", "text": "feat: slugify and title_slug"}])
    s = summary(cli("run", TWO_NEW, "--repo", str(repo), "--model", f"scripted:{script}", "--json"))
    assert s["status"] == "success" and s["usage"]["calls"] == 5, s  # two plans, test design, generate, message
    evs = events(s["trajectory"])
    assert [e["round"] for e in evs if e["kind"] == "plan_error"] == [1]
    assert "dependency cycle: textkit/" in _requests(evs, "plan")[1]
    assert [e["order"] for e in evs if e["kind"] == "plan"] == [["textkit/slug.py", "textkit/titles.py"]]
    assert "each after the files it uses: textkit/slug.py, textkit/titles.py" in _requests(evs, "generate")[0]


def test_an_unordered_plan_twice_is_dropped_and_a_single_file_task_makes_no_plan_call(
        repo: Path, tmp_path: Path) -> None:
    unknown = json.dumps({"files": [{"path": "textkit/slug.py", "dependsOn": ["textkit/db.py"]}]})
    script = write_script(tmp_path / "s.json", [
        {"step": "plan", "text": unknown}, {"step": "plan", "text": "no JSON here"},
        {"step": "generate", "text": whole(**{"textkit/titles.py": TITLES})},
        {"step": "commit_message", "text": "feat: slugify and title_slug"}])
    s = summary(cli("run", TWO_NEW, "--repo", str(repo), "--model", f"scripted:{script}", "--json"))
    assert s["status"] == "success", s
    evs = events(s["trajectory"])
    assert "textkit/slug.py depends on textkit/db.py, which the plan does not list" in _requests(evs, "plan")[1]
    assert not [e for e in evs if e["kind"] == "plan"] and any("plan could not be ordered" in w for w in s["warnings"])
    assert "dependencies first" not in _requests(evs, "generate")[0]
    single = write_script(tmp_path / "one.json", [{"step": "generate", "text": whole()},
                                                  {"step": "commit_message", "text": "feat: slugify"}])
    s = summary(cli("run", "Add a slugify(text) helper in textkit/slug.py", "--repo", str(repo),
                    "--model", f"scripted:{single}", "--json"))
    assert s["status"] == "success" and s["usage"]["calls"] == 3  # test design, generate, message
    assert not _requests(events(s["trajectory"]), "plan")


THREE_NEW = ("Add slugify(text) in textkit/slug.py, title_slug(text) in textkit/titles.py, which uses slugify, and "
             "headline(text) in textkit/headline.py, which uses title_slug")
HEADLINE = "from textkit.titles import title_slug\n\n\ndef headline(text):\n    return '# ' + title_slug(text)\n"
HEADLINE_TEST = ("from textkit.headline import headline\n\n\ndef test_headline():\n"
                 "    assert headline('hello world') == '# hello-world'\n")


@pytest.mark.parametrize("design", [True, False])  # the tests from their own call first, or with the last file
def test_a_plan_of_three_files_is_written_file_by_file_in_its_order(repo: Path, tmp_path: Path, design: bool) -> None:
    from conftest import GOOD_IMPL

    plan = json.dumps({"files": [
        {"path": "textkit/headline.py", "purpose": "headline", "dependsOn": ["textkit/titles.py"]},
        {"path": "textkit/titles.py", "purpose": "title_slug", "dependsOn": ["textkit/slug.py"]},
        {"path": "textkit/slug.py", "purpose": "slugify", "dependsOn": []}]})
    script = write_script(tmp_path / "s.json", [
        {"step": "plan", "text": plan},
        *([{"step": "test_design", "text": f"tests/test_headline.py\n```python\n{HEADLINE_TEST}```\n"}] if design else []),
        {"step": "generate", "text": f"textkit/slug.py\n```python\n{GOOD_IMPL}```\n"},
        {"step": "generate", "text": f"```python\n{TITLES}```\n"},  # an unnamed block: the file asked for
        {"step": "generate", "text": f"textkit/headline.py\n```python\n{HEADLINE}```\n\ntests/test_headline.py\n"
                                     f"```python\n{HEADLINE_TEST}```\n"},
        {"step": "commit_message", "text": "feat: headline"}])
    s = summary(cli("run", THREE_NEW, "--repo", str(repo), "--model", f"scripted:{script}", "--json",
                    env={"GREENLOOP_TEST_DESIGN": str(design).lower()}))
    assert s["status"] == "success" and s["attempts"] == 1 and s["usage"]["calls"] == 5 + design, s
    assert sorted(s["files"]) == ["tests/test_headline.py", "textkit/headline.py", "textkit/slug.py",
                                  "textkit/titles.py"]
    evs = events(s["trajectory"])
    assert [(e["path"], e["index"]) for e in evs if e["kind"] == "plan_file"] == [
        ("textkit/slug.py", 1), ("textkit/titles.py", 2), ("textkit/headline.py", 3)]
    first, second, third = _requests(evs, "generate")
    assert "one file of the plan: textkit/slug.py (1 of 3)" in first and "send only textkit/slug.py" in first
    assert "textkit/slug.py, written before it" in second and "def slugify" in second
    assert "textkit/titles.py, written before it" in third
    assert ("It is the last file: send the tests" in third) != design, third
    assert ("send only textkit/headline.py" in third) == design
    assert git(repo, "show", f"{s['commit']}:tests/test_headline.py") == HEADLINE_TEST
    assert git(repo, "show", f"{s['commit']}:textkit/titles.py") == TITLES
