"""Project facts for the prompt: the files the task names, the test layout and style, a few
representative files, and the file list. (The ranked repo map is its own module, later.)

Every read goes through the Workspace path gate: a file outside the worktree, behind a symlink, or
otherwise refused is named in the prompt as refused, and its content is never read."""

from __future__ import annotations

import dataclasses
import itertools
import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from greenloop.errors import GuardrailViolation
from greenloop.gitops import git
from greenloop.ledger import is_project_test_file
from greenloop.outline import FileView, file_view
from greenloop.plan import plan_from_tags
from greenloop.replies import is_test_path
from greenloop.repomap import RepoMap, index, rank, render
from greenloop.runners.project import JS_SUFFIXES, JS_TEST_FILE
from greenloop.stylefacts import PRETTIER_FILES, StyleFacts, detect, detect_js
from greenloop.workspace import Workspace

__all__ = ["FileView", "ProjectContext", "SourceFile", "file_view", "gather"]

# a path the task names: relative, `../`, absolute or `~/` (the last three are named to be refused)
_PATHLIKE = re.compile(
    r"(?<![\w/.~-])((?:~/|/)?(?:[\w.-]+/)*[\w-]+\.(?:py|pyi|js|ts|tsx|jsx|mjs|json|toml|md))\b")
NAMED_FILE_CHARS = 12_000  # a named file longer than this is shown as an outline with the task's definitions
EXAMPLE_FILE_CHARS = 6000
MAX_LISTED = 150
JS_SCORED = 400  # JS files read to rank the examples (the rest keep their listing order)
_CODE_NAME = re.compile(r"\b([A-Za-z_$][\w$]*(?=\()|[a-z_$][\w$]*[A-Z][\w$]*|[A-Za-z$]+_[\w$]+)")


@dataclass(frozen=True)
class SourceFile:
    """A file of the prompt. `content` is the whole file as read (empty when absent or refused); `shown`
    is what the prompt shows of it (`whole` False: an outline view to edit by SEARCH/REPLACE only);
    `refused` says why it was not read."""

    path: str
    content: str
    exists: bool
    shown: str = ""
    whole: bool = True
    refused: str = ""


@dataclass(frozen=True)
class ProjectContext:
    files: list[str]
    named: list[SourceFile]
    examples: list[SourceFile]
    test_dir: str
    test_framework: str
    python_requires: str
    dependencies: list[str] = field(default_factory=list)
    repo_map: str = ""  # ranked outline of the files most related to the task (repomap.py)
    plan: list[str] = field(default_factory=list)  # the named files in dependency order (plan.py), if several
    style: str = ""  # the conventions detected (stylefacts.py)
    tracked: frozenset[str] = frozenset()  # every file of the project (`files` lists only the first MAX_LISTED)

    @classmethod
    def empty(cls) -> ProjectContext:
        return cls(files=[], named=[], examples=[], test_dir="tests", test_framework="pytest",
                   python_requires=">=3.11")

    @property
    def named_sources(self) -> list[SourceFile]:
        """The implementation files the task names (not tests, not refused), in any language."""
        return [f for f in self.named if not f.refused and not is_test_path(f.path)]

    def suggested_test_path(self, target: str | None) -> str:
        """Where the run's tests go: beside the project's tests, named after the task's file, and never one of the
        project's own files (those judge the work and are read-only): `tests/test_money.py` exists, so
        `tests/test_money_2.py`."""
        stem, suffix = (Path(target).stem, Path(target).suffix) if target else ("feature", "")
        if suffix in JS_SUFFIXES:  # beside the project's JS tests (`test/x.test.js`), else in test/
            js_tests = [f for f in self.files if f.endswith(JS_SUFFIXES) and is_test_path(f)]
            folder = str(Path(js_tests[0]).parent) if js_tests else "test"
            prefix = f"{folder}/" if folder != "." else ""
            names = (f"{prefix}{stem}{n}.test{suffix}" for n in _numbers("-"))
        else:
            prefix = f"{self.test_dir}/" if self.test_dir else ""
            names = (f"{prefix}test_{stem}{n}.py" for n in _numbers("_"))
        return next(p for p in names if p not in self.tracked and p not in self.files)


def _numbers(sep: str) -> Iterator[str]:
    """"", then sep + "2", sep + "3", ...: what tells a new file from the ones before it."""
    yield ""
    for n in itertools.count(2):
        yield f"{sep}{n}"


def _source(ws: Workspace, rel: str, task: str, budget: int) -> SourceFile:
    try:
        text = ws.read_text(rel)
    except GuardrailViolation as exc:
        return SourceFile(rel, "", False, refused=str(exc))
    if text is None:
        return SourceFile(rel, "", False)
    view = file_view(rel, text, task, budget)
    return SourceFile(rel, text, True, shown=view.text, whole=view.whole)


def _pyproject(ws: Workspace) -> dict[str, object]:
    try:
        text = ws.read_text("pyproject.toml")
        data = tomllib.loads(text) if text is not None else {}
    except (GuardrailViolation, tomllib.TOMLDecodeError):
        return {}
    project = data.get("project")
    return project if isinstance(project, dict) else {}


def _read(ws: Workspace, rel: str) -> str | None:
    try:
        return ws.read_text(rel)
    except GuardrailViolation:
        return None  # refused: not a fact about the project


def _style(ws: Workspace, sample: list[str], js: list[str]) -> StyleFacts:
    """The Python sample's conventions; with `js` (a project whose sources are mostly JS/TS), those of `js`."""
    if js:
        sources = {rel: text for rel in js[:8] if (text := _read(ws, rel)) is not None}
        return detect_js(sources, {name: text for name in PRETTIER_FILES if (text := _read(ws, name)) is not None})
    sources = {rel: text for rel in dict.fromkeys(sample) if (text := _read(ws, rel)) is not None}
    configs = {name: text for name in ("pyproject.toml", "ruff.toml", ".ruff.toml", "setup.cfg", ".flake8",
                                       "tox.ini") if (text := _read(ws, name)) is not None}
    return detect(sources, configs)


def _js_ranked(ws: Workspace, sources: list[str], task: str) -> list[str]:
    """JS/TS sources, those that mention more of the task's code names (`cartTotal(`, `formatCents`) first."""
    names = {m.group(1) for m in _CODE_NAME.finditer(task)}
    if not names:
        return sources

    def mentions(rel: str) -> int:
        text = _read(ws, rel) or ""
        return sum(name in text for name in names)
    return sorted(sources[:JS_SCORED], key=lambda rel: (-mentions(rel), rel)) + sources[JS_SCORED:]


def gather(root: Path, task: str, map_tokens: int = 0) -> ProjectContext:
    ws = Workspace(root)
    listed = [f for f in git("ls-files", cwd=root).stdout.splitlines() if f]
    named_paths = list(dict.fromkeys(m.group(1) for m in _PATHLIKE.finditer(task)))
    named = [_source(ws, p, task, NAMED_FILE_CHARS) for p in named_paths]
    tests = [f for f in listed if re.search(r"(^|/)test_[^/]*\.py$|_test\.py$", f)]
    test_dir = "tests"
    if tests:
        parent = str(Path(tests[0]).parent)
        test_dir = parent if parent != "." else ""
    project = _pyproject(ws)
    requires = project.get("requires-python")
    requires = requires if isinstance(requires, str) else ">=3.11"
    raw_deps = project.get("dependencies")
    deps = [d for d in raw_deps if isinstance(d, str)] if isinstance(raw_deps, list) else []
    examples: list[SourceFile] = []
    ranked: RepoMap | None = None
    plan: list[str] = []
    if map_tokens:
        idx = index(root)
        ranked = render(idx, rank(idx, task, named_paths), task, map_tokens)
        found = plan_from_tags(named_paths, idx.tags(named_paths))
        # the project's own test files are read-only for the run (ledger.protect): never a file to write
        order = [p for p in found.order if not (p in listed and is_project_test_file(p))] if found else []
        plan = order if len(order) > 1 else []
    js = [f for f in listed if f.endswith(JS_SUFFIXES)]
    js = js if len(js) > sum(f.endswith(".py") for f in listed) else []
    by_rank = ranked.ranked if ranked else [f for f in listed if f.endswith(".py")]
    if js:  # a Node project's examples are its first test and the files the map (or the task's names) rank first
        tests = [f for f in js if JS_TEST_FILE.search(f)]
        by_rank = ranked.ranked if ranked and ranked.ranked else _js_ranked(ws, [f for f in js if f not in tests],
                                                                            task)
    shown = set(named_paths)  # a file the prompt shows as named is not shown again as an example
    candidates = [t for t in tests if t not in shown][:1] + [f for f in by_rank if f not in tests and f not in shown]
    for rel in candidates:
        if len(examples) >= 3:
            break
        example = _source(ws, rel, "", EXAMPLE_FILE_CHARS)
        if example.exists and example.whole and example.content.strip():
            examples.append(example)  # style examples are shown whole; a longer file is not an example
    facts = _style(ws, [*named_paths, *tests[:2], *candidates[:6]], [*named_paths, *js] if js else [])
    if not js and any(f.startswith("src/") and f.endswith("/__init__.py") for f in listed):
        facts = dataclasses.replace(facts, src_layout=True)
    return ProjectContext(files=listed[:MAX_LISTED], tracked=frozenset(listed), named=named, examples=examples,
                          test_dir=test_dir, test_framework=facts.test_framework, style=facts.describe(),
                          python_requires=requires, dependencies=deps,
                          repo_map=ranked.text if ranked else "", plan=plan)
