"""Style detection on small fixture projects of each kind: tabs, 2 spaces, single quotes, unittest, line length."""

from __future__ import annotations

from pathlib import Path

from conftest import git

from greenloop.context import gather
from greenloop.stylefacts import detect, detect_js

TABBED = "def area(w, h):\n\tif w < 0:\n\t\treturn 0\n\treturn w * h\n"
TWO = ("def area(w: int, h: int) -> int:\n  '''Area.\n\n  Args:\n    w: width\n  '''\n  name = 'box'\n"
       "  return w * h\n")
UNITTEST = "import unittest\n\n\nclass AreaTest(unittest.TestCase):\n    def test_area(self):\n        pass\n"
PYTEST = 'import pytest\n\n\ndef test_area() -> None:\n    """Area."""\n    assert "x" == "x"\n'


def test_tabs_double_quotes_no_hints() -> None:
    facts = detect({"a.py": TABBED + 'LABEL = "area"\n'}, {})
    assert (facts.indent, facts.quotes, facts.type_hints, facts.docstrings) == ("tabs", "double", False, "none")


def test_two_spaces_single_quotes_hints_google_docstrings() -> None:
    facts = detect({"a.py": TWO}, {})
    assert (facts.indent, facts.quotes, facts.type_hints, facts.docstrings) == ("2 spaces", "single", True,
                                                                                "google")


def test_framework_and_line_length_from_config() -> None:
    assert detect({"t.py": UNITTEST}, {}).test_framework == "unittest"
    facts = detect({"t.py": PYTEST}, {"pyproject.toml": "[tool.ruff]\nline-length = 99\n"})
    assert (facts.test_framework, facts.line_length, facts.indent) == ("pytest", 99, "4 spaces")


def test_style_reaches_the_context(repo: Path) -> None:
    (repo / "geo.py").write_text(TWO)
    (repo / "tests").mkdir(exist_ok=True)
    (repo / "tests" / "test_geo.py").write_text(UNITTEST.replace("    ", "  "))
    (repo / "setup.cfg").write_text("[flake8]\nmax-line-length = 100\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "style")
    ctx = gather(repo, "add perimeter to geo.py", map_tokens=200)
    assert "indent with 2 spaces" in ctx.style and "lines up to 100 characters" in ctx.style
    assert ctx.test_framework == "unittest"


CJS = ("const { formatCents } = require('./money');\n\nfunction lineTotal(item) {\n  return item.cents * item.qty;\n}\n"
       "\nmodule.exports = { lineTotal };\n")
ESM_NO_SEMI = 'import { x } from "./x.js"\n\nexport function f(a) {\n    if (a) {\n        return x(a)\n    }\n}\n'


def test_javascript_indent_quotes_semicolons() -> None:
    assert detect_js({"lib/cart.js": CJS}, {}).describe() == ("indent with 2 spaces, single quotes, "
                                                              "semicolons at the end of statements")
    assert detect_js({"src/f.js": ESM_NO_SEMI}, {}).describe() == "indent with 4 spaces, double quotes, no semicolons"


def test_prettier_settings_win_over_the_sample() -> None:
    prettier = '{"semi": false, "singleQuote": false, "useTabs": true, "printWidth": 100}'
    facts = detect_js({"lib/cart.js": CJS}, {".prettierrc": prettier})
    assert facts.describe() == "indent with tabs, double quotes, no semicolons, lines up to 100 characters"
    in_package = '{"name": "x", "prettier": {"tabWidth": 4, "semi": true}}'
    assert detect_js({"src/f.js": ESM_NO_SEMI}, {"package.json": in_package}).describe().startswith(
        "indent with 4 spaces, double quotes, semicolons")


def test_a_node_project_gets_its_own_style_not_pythons(repo: Path) -> None:
    (repo / "package.json").write_text('{"name": "shop", "scripts": {"test": "node --test"}}\n')
    (repo / "lib").mkdir()
    (repo / "lib" / "cart.js").write_text(CJS)
    (repo / "lib" / "money.js").write_text(CJS.replace("lineTotal", "formatCents"))
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "node")
    ctx = gather(repo, "Add slugify(text) in lib/slug.js", map_tokens=200)
    assert ctx.style == "indent with 2 spaces, single quotes, semicolons at the end of statements"
    assert "pytest" not in ctx.style and "type hints" not in ctx.style


def test_a_node_projects_examples_are_its_test_and_the_files_that_define_the_tasks_names(repo: Path) -> None:
    (repo / "package.json").write_text('{"name": "shop", "scripts": {"test": "node --test"}}\n')
    for name in ("alpha", "beta", "cart", "zeta"):
        (repo / "lib").mkdir(exist_ok=True)
        (repo / "lib" / f"{name}.js").write_text(f"function {name}() {{\n  return 1;\n}}\n\nmodule.exports = {{ {name} }};\n")
    (repo / "lib" / "money.js").write_text(CJS.replace("lineTotal", "formatCents"))
    (repo / "test").mkdir()
    (repo / "test" / "cart.test.js").write_text("const test = require('node:test');\n\ntest('x', () => {});\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "node")
    ctx = gather(repo, "Add cartTotal(items) in lib/total.js: line totals formatted with formatCents", map_tokens=200)
    assert [f.path for f in ctx.examples] == ["test/cart.test.js", "lib/money.js", "lib/alpha.js"]


def test_a_src_layout_is_named_and_a_flat_one_is_not(repo: Path) -> None:
    assert "src/ layout" not in gather(repo, "add perimeter to geo.py").style
    (repo / "src" / "geokit").mkdir(parents=True)
    (repo / "src" / "geokit" / "__init__.py").write_text("")
    (repo / "src" / "geokit" / "area.py").write_text(TWO)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "src layout")
    assert "a src/ layout (packages live in src/ and are imported without the src. prefix)" in gather(
        repo, "add perimeter to src/geokit/area.py").style


def test_the_module_system_is_read_from_package_json(tmp_path: Path) -> None:
    from greenloop.runners.project import read_package

    (tmp_path / "package.json").write_text('{"name": "x", "type": "module"}')
    assert read_package(tmp_path).module_system == "esm"
    (tmp_path / "package.json").write_text('{"name": "x"}')
    assert read_package(tmp_path).module_system == "commonjs"
