"""Project facts for the prompt: the files the task names, the test layout and style, a few
representative files, and the file list. (The ranked repo map is its own module, later.)"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from greenloop.gitops import git

_PATHLIKE = re.compile(r"(?<![\w/.-])((?:[\w.-]+/)*[\w-]+\.(?:py|pyi|js|ts|tsx|jsx|mjs|json|toml|md))\b")
MAX_FILE_CHARS = 6000
MAX_LISTED = 150


@dataclass(frozen=True)
class SourceFile:
    path: str
    content: str
    exists: bool


@dataclass(frozen=True)
class ProjectContext:
    files: list[str]
    named: list[SourceFile]
    examples: list[SourceFile]
    test_dir: str
    test_framework: str
    python_requires: str
    dependencies: list[str] = field(default_factory=list)

    @classmethod
    def empty(cls) -> ProjectContext:
        return cls(files=[], named=[], examples=[], test_dir="tests", test_framework="pytest",
                   python_requires=">=3.11")

    def suggested_test_path(self, target: str | None) -> str:
        stem = Path(target).stem if target else "feature"
        return f"{self.test_dir}/test_{stem}.py" if self.test_dir else f"test_{stem}.py"


def _read(root: Path, rel: str) -> str:
    path = root / rel
    if path.is_symlink() or not path.is_file():
        return ""
    text = path.read_text(encoding="utf-8", errors="replace")
    return text if len(text) <= MAX_FILE_CHARS else text[:MAX_FILE_CHARS] + "\n# ... (truncated)\n"


def gather(root: Path, task: str) -> ProjectContext:
    listed = [f for f in git("ls-files", cwd=root).stdout.splitlines() if f]
    named_paths = list(dict.fromkeys(m.group(1) for m in _PATHLIKE.finditer(task)))
    named = [SourceFile(p, _read(root, p), (root / p).is_file()) for p in named_paths]
    tests = [f for f in listed if re.search(r"(^|/)test_[^/]*\.py$|_test\.py$", f)]
    test_dir = ""
    if tests:
        test_dir = str(Path(tests[0]).parent) if str(Path(tests[0]).parent) != "." else ""
    elif (root / "tests").is_dir():
        test_dir = "tests"
    else:
        test_dir = "tests"
    framework = "pytest"
    pyproject = root / "pyproject.toml"
    requires, deps = ">=3.11", []
    if pyproject.is_file():
        try:
            data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError):
            data = {}
        requires = data.get("project", {}).get("requires-python", requires)
        deps = list(data.get("project", {}).get("dependencies", []))
    examples: list[SourceFile] = []
    candidates = tests[:1] + [f for f in listed if f.endswith(".py") and f not in tests and f not in named_paths]
    for rel in candidates:
        if len(examples) >= 3:
            break
        content = _read(root, rel)
        if content.strip():
            examples.append(SourceFile(rel, content, True))
    return ProjectContext(files=listed[:MAX_LISTED], named=named, examples=examples, test_dir=test_dir,
                          test_framework=framework, python_requires=requires, dependencies=deps)
