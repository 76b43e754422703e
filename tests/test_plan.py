"""Multi-file plans: dependency order, a cycle named, an unknown dependency named, and the plan from the
repository's references shown in the generate prompt."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import git

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
