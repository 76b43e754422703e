"""Style detection on small fixture projects of each kind: tabs, 2 spaces, single quotes, unittest, line length."""

from __future__ import annotations

from pathlib import Path

from conftest import git

from greenloop.context import gather
from greenloop.stylefacts import detect

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
