"""What a JavaScript/TypeScript project says about itself: package.json (read through the Workspace gate),
its test files, and whether its node_modules are installed on the host (the jail has no network: installing
is the user's job, before the run)."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from greenloop.errors import GuardrailViolation, UsageError
from greenloop.gitops import git
from greenloop.workspace import Workspace

JS_TEST_FILE = re.compile(r"(^|/)(__tests__/[^/]+|[^/]+\.(test|spec)\.[cm]?[jt]sx?|test/[^/]+\.[cm]?[jt]sx?)$")
TS_SUFFIXES = (".ts", ".tsx", ".mts", ".cts")
JS_SUFFIXES = (".js", ".mjs", ".cjs", ".jsx", ".ts", ".tsx")  # the sources greenloop checks and writes


@dataclass(frozen=True)
class Project:
    """The facts every runner's `detect` reads. `package` is None when there is no readable package.json."""

    root: Path  # the run's worktree
    files: tuple[str, ...]  # tracked files
    package: Mapping[str, object] | None = None
    scripts: Mapping[str, str] = field(default_factory=dict)
    dependencies: frozenset[str] = frozenset()  # dependencies, devDependencies, peer and optional ones
    modules: Path | None = None  # the user's installed node_modules on the host (bound into the jail)

    def installed(self, package: str) -> bool:
        return self.modules is not None and (self.modules / package / "package.json").is_file()

    @property
    def test_script(self) -> str:
        return self.scripts.get("test", "")

    @property
    def module_system(self) -> str:
        return "esm" if self.package is not None and self.package.get("type") == "module" else "commonjs"

    @property
    def language(self) -> str:
        ts = "typescript" in self.dependencies or any(f.endswith(TS_SUFFIXES) for f in self.files)
        return "typescript" if ts else "javascript"

    def js_tests(self) -> list[str]:
        return [f for f in self.files if JS_TEST_FILE.search(f) and "node_modules/" not in f]

    def has_config(self, *stems: str) -> bool:
        return any(f.rsplit("/", 1)[-1].startswith(stems) for f in self.files if "/" not in f)


def read_project(root: Path, repo_root: Path | None = None) -> Project:
    """`root`: the run's worktree; `repo_root`: the user's checkout, where node_modules is installed."""
    files = tuple(f for f in git("ls-files", cwd=root).stdout.splitlines() if f)
    return read_package(root, repo_root, files)


def read_package(root: Path, repo_root: Path | None = None, files: tuple[str, ...] = ()) -> Project:
    """The package.json facts alone (no file list: no git needed)."""
    ws = Workspace(root)
    try:
        text = ws.read_text("package.json")
        data = json.loads(text) if text is not None else None
    except (GuardrailViolation, ValueError, RecursionError):
        data = None  # a link out of the project, a special file, or not JSON: no Node project facts
    if not isinstance(data, dict):
        return Project(root, files)
    raw = data.get("scripts")
    scripts = {k: v for k, v in raw.items() if isinstance(v, str)} if isinstance(raw, dict) else {}
    deps: set[str] = set()
    for key in ("dependencies", "devDependencies", "peerDependencies", "optionalDependencies"):
        table = data.get(key)
        if isinstance(table, dict):
            deps |= {k for k in table if isinstance(k, str)}
    modules = (repo_root or root) / "node_modules"
    usable = modules.is_dir() and not modules.is_symlink()  # a link could name any host directory
    return Project(root, files, data, scripts, frozenset(deps), modules if usable else None)


def node_executable() -> str:
    """node from PATH on the host, or a usage error naming what to install."""
    found = shutil.which("node")
    if found is None:
        raise UsageError("this is a Node.js project but `node` is not on PATH; install Node.js 20 or later "
                         "(https://nodejs.org or your package manager), or set --test-cmd")
    return found


def node_modules_binds(project: Project, repo_root: Path) -> dict[Path, Path]:
    """The user's installed node_modules, shown read-only at the worktree's node_modules in the jail. A project
    that declares dependencies without them installed is a usage error naming the install command."""
    if project.package is None or any(f.startswith("node_modules/") for f in project.files):
        return {}  # not a Node project, or one that carries its modules in git (they are in the worktree)
    if project.modules is not None:
        return {project.root / "node_modules": project.modules}
    if project.dependencies:
        lock = "npm ci" if (repo_root / "package-lock.json").is_file() else "npm install"
        raise UsageError(f"{repo_root}/node_modules is not installed; run `{lock}` in {repo_root} first "
                         "(the tests run without network, so greenloop installs nothing)")
    return {}
