"""Static validation and the write policy."""

from __future__ import annotations

import contextlib
import json
import subprocess
from pathlib import Path

import pytest

from greenloop.config import Settings
from greenloop.edits import AppliedFile
from greenloop.errors import GuardrailViolation
from greenloop.guardrails import WritePolicy, suspicious_code
from greenloop.validate import validate_files
from greenloop.workspace import Workspace


def check(tmp_path: Path, content: str, path: str = "pkg/mod.py", is_test: bool = False, **kw: int):
    files = {path: AppliedFile(path=path, before=None, after=content, is_test=is_test)}
    return validate_files(files, tmp_path, max_lines=kw.get("max_lines", 500), max_bytes=kw.get("max_bytes", 100_000))


@pytest.mark.parametrize("content, fragment", [
    ("def f(:\n    pass\n", "pkg/mod.py:1:"),
    ("x = (1,\n", "SyntaxError"),
    ("def f():\nreturn 1\n", "pkg/mod.py:2:"),
    ("return 5\n", "'return' outside function"),
    ("```python\nX = 1\n```\n", "markdown fence"),
    ("def f(x):\n    pass\n", "function 'f' has no implementation"),
    ("def f(x):\n    '''Doc.'''\n    ...\n", "function 'f' has no implementation"),
    ("def f(x):\n    raise NotImplementedError\n", "function 'f' has no implementation"),
    ("def f(x):\n    \"\"\"Only a docstring.\"\"\"\n", "function 'f' has no implementation"),
    ("def f(x):\n    import math\n    \"\"\"An import above the docstring.\"\"\"\n", "function 'f' has no implementation"),
    ("def f(x):\n    # TODO: implement\n    return None\n", "placeholder comment"),
    ("import numpyish_not_installed\n", "imports 'numpyish_not_installed'"),
    ("from nowhere_pkg.sub import x\n", "imports 'nowhere_pkg'"),
    ("from pkg.mod import f\n\n\ndef f():\n    return 1\n", "the module imports itself ('pkg.mod')"),
    ("...\n", "the file has no code"),
    # parses and compiles, but ast.unparse (the frozen-test guard, the probes) raised RecursionError on it: a crash
    ("X = f(" + "+".join(["1"] * 500) + ")\n", "nested too deep"),
])
def test_errors(tmp_path: Path, content: str, fragment: str) -> None:
    errors = check(tmp_path, content).errors
    assert errors and any(fragment in e for e in errors), errors


@pytest.mark.parametrize("content", [
    "import os, re, json\nfrom collections import Counter\n",
    "from pkg import other\n",  # the project's own package
    "try:\n    import fancy_optional\nexcept ImportError:\n    fancy_optional = None\n",
    "from abc import ABC, abstractmethod\nclass A(ABC):\n    @abstractmethod\n    def f(self):\n        ...\n",
    "from typing import Protocol\nclass P(Protocol):\n    def f(self) -> int:\n        ...\n",
    "class MyError(Exception):\n    pass\n",
    "from .sibling import x\n",
    "def has_numpy():\n    import json\n",  # a function that only imports does something
])
def test_valid_code_passes(tmp_path: Path, content: str) -> None:
    (tmp_path / "pkg").mkdir()
    assert check(tmp_path, content).errors == []


def test_declared_dependency_is_accepted(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\ndependencies = ["some-dep>=1"]\n')
    assert check(tmp_path, "import some_dep\n").errors == []


@pytest.mark.parametrize("module", ["numpy", "rich"])
def test_imports_installed_only_for_greenloop_are_errors(tmp_path: Path, module: str) -> None:
    """numpy and rich are installed in greenloop's own environment; a project declaring neither gets an error."""
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\ndependencies = ["requests"]\n')
    errors = check(tmp_path, f"import {module}\n\nX = 1\n").errors
    assert len(errors) == 1 and f"imports '{module}'" in errors[0], errors
    assert "declared: requests" in errors[0] and "use those only" in errors[0]
    assert check(tmp_path, f"from {module}.sub import x\n").errors


@pytest.mark.parametrize("declaration, source", [
    (("pyproject.toml", '[project]\nname = "x"\ndependencies = ["requests>=2"]\n'), "import requests\n"),
    (("pyproject.toml", '[project]\nname = "x"\n[project.optional-dependencies]\nfast = ["numpy"]\n'), "import numpy\n"),
    (("pyproject.toml", '[dependency-groups]\ndev = ["rich"]\n'), "import rich\n"),
    (("pyproject.toml", '[tool.poetry.dependencies]\npython = "^3.11"\nrequests = "*"\n'), "import requests\n"),
    (("pyproject.toml", '[project]\nname = "x"\ndependencies = ["PyYAML"]\n'), "import yaml\n"),
    (("requirements.txt", "# pinned\nrequests==2.31 ; python_version > '3'\n"), "import requests\n"),
    (("requirements-dev.txt", "-r base.txt\n"), "import rich\n"),
    (("setup.cfg", "[options]\ninstall_requires =\n    requests\n    rich\n"), "import rich\n"),
    (("setup.py", "from setuptools import setup\nsetup(install_requires=['requests'])\n"), "import requests\n"),
])
def test_declared_dependencies_are_accepted(tmp_path: Path, declaration: tuple[str, str], source: str) -> None:
    (tmp_path / "base.txt").write_text("rich>=13\n")
    (tmp_path / declaration[0]).write_text(declaration[1])
    assert check(tmp_path, source).errors == []


def _site_packages(base: Path) -> Path:
    site = base / ".venv" / "lib" / "python3.11" / "site-packages"
    (site / "projdep").mkdir(parents=True)
    (site / "projdep" / "__init__.py").write_text("")
    (site / "single_mod.py").write_text("")
    (site / "projdep-1.0.dist-info").mkdir()
    return site


def test_modules_installed_in_the_project_venv_are_accepted(tmp_path: Path) -> None:
    _site_packages(tmp_path)
    assert check(tmp_path, "import projdep\nimport single_mod\n").errors == []


def test_the_venv_of_the_checkout_counts_for_its_worktree(tmp_path: Path) -> None:
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    for args in (["init", "-q"], ["-c", "user.name=a", "-c", "user.email=a@b", "commit", "-q", "--allow-empty", "-m", "i"],
                 ["worktree", "add", "-q", str(tmp_path / "wt")]):
        subprocess.run(["git", *args], cwd=checkout, check=True, capture_output=True, timeout=60)
    _site_packages(checkout)
    assert check(tmp_path / "wt", "import projdep\n").errors == []


def test_links_out_of_the_project_are_not_followed(tmp_path: Path) -> None:
    """A planted .venv link, requirements link or src link does not make outside names importable."""
    outside, root = tmp_path / "outside", tmp_path / "root"
    root.mkdir()
    _site_packages(outside)
    (outside / "requirements.txt").write_text("requests\n")
    (outside / "src" / "linkedpkg").mkdir(parents=True)
    (root / ".venv").symlink_to(outside / ".venv")
    (root / "requirements.txt").symlink_to(outside / "requirements.txt")
    (root / "src").symlink_to(outside / "src")
    for module in ("projdep", "requests", "linkedpkg"):
        assert check(root, f"import {module}\n").errors, module


def test_test_files_may_import_pytest_and_their_neighbours(tmp_path: Path) -> None:
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "helpers.py").write_text("X = 1\n")
    source = "import pytest\nfrom helpers import X\nfrom conftest import fixture_x\n\n\ndef test_x():\n    assert X\n"
    assert check(tmp_path, source, path="tests/test_x.py", is_test=True).errors == []
    assert "imports 'pytest'" in check(tmp_path, "import pytest\n\nX = 1\n").errors[0]


def test_test_file_without_tests_is_an_error(tmp_path: Path) -> None:
    assert "defines no test" in check(tmp_path, "...\n", path="tests/test_x.py", is_test=True).errors[0]
    impl_in_test = "def add(a, b):\n    return a + b\n"
    assert "defines no test" in check(tmp_path, impl_in_test, path="tests/test_x.py", is_test=True).errors[0]


def test_placeholder_bodies_are_allowed_in_tests(tmp_path: Path) -> None:
    source = "def helper():\n    pass\n\n\ndef test_x():\n    assert helper() is None\n"
    assert check(tmp_path, source, path="tests/test_x.py", is_test=True).errors == []
    assert check(tmp_path, "import pytest\n", path="tests/conftest.py", is_test=True).errors == []


def test_size_limits(tmp_path: Path) -> None:
    assert "over the limit of 5" in check(tmp_path, "x = 1\n" * 10, max_lines=5).errors[0]
    assert "bytes is over the limit" in check(tmp_path, "x = 1\n" * 100, max_bytes=100).errors[0]


def test_suspicious_code_is_a_warning(tmp_path: Path) -> None:
    findings = check(tmp_path, "import subprocess, os\n\ndef f():\n    os.system('ls')\n    return eval('1') + len(os.environ)\n")
    assert findings.errors == []
    text = "\n".join(findings.warnings)
    for what in ("subprocess", "os.system()", "eval()", "reads the environment"):
        assert what in text


def test_suspicious_code_finds_sockets_and_ctypes() -> None:
    warnings = suspicious_code("m.py", "import socket\nimport ctypes\nopen('/etc/passwd', 'w')\n")
    assert any("network sockets" in w for w in warnings) and any("ctypes" in w for w in warnings)
    assert any("writing outside the project" in w for w in warnings)


POLICY = WritePolicy(Settings().allowed_extensions, max_files=20)


@pytest.mark.parametrize("name, fragment", [
    ("../x.py", "'..' is refused"),
    ("/tmp/x.py", "absolute paths are refused"),
    ("~/x.py", "absolute paths are refused"),
    (".git/hooks/pre-commit.py", "restricted location"),
    (".env", "restricted file"),
    (".env.local", "restricted file"),
    (".github/workflows/ci.yml", "restricted location"),
    (".venv/lib/x.py", "restricted location"),
    ("node_modules/x/index.js", "restricted location"),
    ("poetry.lock", "restricted file"),
    ("pyproject.toml", "restricted file"),
    (".gitlab-ci.yml", "restricted file"),
    ("run.sh", "extension '.sh' is not allowed"),
    ("Makefile", "extension '(none)' is not allowed"),
    ("pkg/evil.pth", "restricted file"),
])
def test_write_policy_refuses(tmp_path: Path, name: str, fragment: str) -> None:
    with pytest.raises(GuardrailViolation) as refused:
        POLICY.check(Workspace(tmp_path), name)
    # the wording is guardrails.py's; a restricted name may be refused as a location or as a file
    assert fragment in str(refused.value) or "restricted" in str(refused.value), refused.value


def test_write_policy_allows_ordinary_files(tmp_path: Path) -> None:
    for name in ("pkg/mod.py", "tests/test_mod.py", "./docs/notes.md", "web/app.ts"):
        POLICY.check(Workspace(tmp_path), name)


def test_protected_paths_are_refused(tmp_path: Path) -> None:
    policy = WritePolicy(Settings().allowed_extensions, max_files=20, protected=("tests/test_visible.py", "spec/*"))
    for name in ("tests/test_visible.py", "./tests/test_visible.py", "spec/test_a.py"):
        with pytest.raises(GuardrailViolation, match="protected"):
            policy.check(Workspace(tmp_path), name)
    policy.check(Workspace(tmp_path), "tests/test_other.py")


def test_files_per_run_limit() -> None:
    policy = WritePolicy(Settings().allowed_extensions, max_files=2)
    policy.check_count({"a.py", "tests/test_a.py"})
    with pytest.raises(GuardrailViolation, match="at most 2 files; this reply would make it 3"):
        policy.check_count({"a.py", "b.py", "tests/test_a.py"})


def test_symlink_leading_out_is_refused(tmp_path: Path) -> None:
    root, outside = tmp_path / "root", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    (root / "out").symlink_to(outside)
    (root / "f.py").symlink_to(outside / "f.py")
    ws = Workspace(root)
    with pytest.raises(GuardrailViolation):
        ws.write_text("out/x.py", "x")
    with contextlib.suppress(GuardrailViolation):
        ws.write_text("f.py", "x")  # refused, or the link replaced by a file: never written through
    assert list(outside.iterdir()) == []


@pytest.mark.parametrize("path, source, package_type, fragment", [
    ("web/a.js", "const x = (1;\n", None, "web/a.js:1:"),
    ("web/a.ts", "let x: number = ;\n", None, "syntax error"),
    ("web/a.tsx", "export const A = () => <div>{1</div>;\n", None, "syntax error"),
    ("web/a.js", "const fs = require('fs');\nmodule.exports = {};\n", "module", "is an ES module here"),
    ("web/a.js", "import fs from 'fs';\nexport const x = 1;\n", None, "the project is CommonJS"),
    ("web/a.mjs", "const fs = require('fs');\n", None, "is an ES module here"),
])
def test_javascript_and_typescript_errors(tmp_path: Path, path: str, source: str, package_type: str | None,
                                          fragment: str) -> None:
    if package_type:
        (tmp_path / "package.json").write_text(json.dumps({"type": package_type}))
    errors = check(tmp_path, source, path=path).errors
    assert errors and fragment in errors[0], errors


@pytest.mark.parametrize("path, source, package_type", [
    ("web/a.js", "const fs = require('fs');\nmodule.exports = { x: 1 };\n", None),
    ("web/a.js", "import fs from 'fs';\nexport const x = 1;\n", "module"),
    ("web/a.cjs", "module.exports = 1;\n", "module"),
    ("web/a.ts", "export function f(x: number): number {\n  return x + 1;\n}\n", None),
    ("web/a.tsx", "export const A = () => <div>{1}</div>;\n", None),
])
def test_valid_javascript_and_typescript(tmp_path: Path, path: str, source: str, package_type: str | None) -> None:
    if package_type:
        (tmp_path / "package.json").write_text(json.dumps({"type": package_type}))
    assert check(tmp_path, source, path=path).errors == []


LONG = "".join(f"def fn_{i}(x):\n    return x + {i}\n\n\n" for i in range(225))  # 900 lines


def existing(tmp_path: Path, after: str, whole: bool, task: str = "", before: str = LONG, **kw: int):
    files = {"pkg/big.py": AppliedFile("pkg/big.py", before, after, False, whole=whole)}
    return validate_files(files, tmp_path, max_lines=kw.get("max_lines", 500), max_bytes=100_000, task=task)


def test_an_existing_long_file_may_be_edited(tmp_path: Path) -> None:
    assert existing(tmp_path, LONG.replace("x + 7\n", "x * 7\n"), whole=False).errors == []
    assert existing(tmp_path, LONG + "def extra(x):\n    return x\n", whole=False).errors == []


def test_line_limit_holds_for_new_files_and_growth(tmp_path: Path) -> None:
    assert "900 lines is over the limit of 500" in check(tmp_path, LONG).errors[0]
    grown = existing(tmp_path, LONG * 2, whole=False, task="remove nothing").errors
    assert any("grows the file from 900 to 1800 lines" in e for e in grown), grown
    small = "def f():\n    return 1\n" * 2
    crossing = existing(tmp_path, small + LONG, whole=False, before=small).errors
    assert any("over the limit of 500" in e for e in crossing), crossing


def test_a_truncated_whole_file_is_refused_naming_what_it_loses(tmp_path: Path) -> None:
    truncated = "".join(LONG.splitlines(keepends=True)[:300])
    errors = existing(tmp_path, truncated, whole=True).errors
    assert len(errors) == 1 and "would lose 600 of its 900 lines and 150 of its 225 definitions" in errors[0]
    assert "fn_75" in errors[0] and "SEARCH/REPLACE" in errors[0]
    assert existing(tmp_path, truncated, whole=False).errors == []  # explicit deletions are deliberate
    asked = "Remove " + ", ".join(f"fn_{i}" for i in range(75, 225))
    assert existing(tmp_path, truncated, whole=True, task=asked).errors == []
    assert existing(tmp_path, truncated, whole=True, task="Remove fn_75").errors  # names one, loses 150
    assert existing(tmp_path, truncated, whole=True, task="add dedupe() that removes duplicates").errors
    assert existing(tmp_path, LONG.replace("x + 7\n", "x * 7\n"), whole=True).errors == []


def test_a_package_json_link_out_of_the_project_is_not_read(tmp_path: Path) -> None:
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "package.json").write_text(json.dumps({"type": "module"}))
    (tmp_path / "root").mkdir()
    (tmp_path / "root" / "package.json").symlink_to(tmp_path / "outside" / "package.json")
    assert check(tmp_path / "root", "const fs = require('fs');\nmodule.exports = {};\n", path="web/a.js").errors == []
