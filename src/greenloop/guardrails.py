"""What may be written where, and warnings for suspicious code in what was written.

Restricted: files that run commands when the project is opened (editor, devcontainer and AI-agent configs,
direnv), installed (package-manager rc files and install scripts, `sitecustomize.py`, `*.pth`) or pushed (CI
of every common provider, git hooks managers, git's own files), plus locks, secrets and the project's
configuration. Names are compared the way a case-insensitive, normalizing file system sees them (macOS,
Windows: case-folded, NFC, ignorable code points and trailing dots or spaces dropped), because the commit is
checked out there too. Build entry points that run commands by design -- Makefile, justfile, tox.ini,
noxfile.py -- are restricted as well: CI runs them on push with its secrets, and no task's code needs them
changed behind the user's back (a user who wants one edits it; the files are protected test configuration
already when they exist)."""

from __future__ import annotations

import ast
import fnmatch
import json
import re
import unicodedata
from dataclasses import dataclass
from pathlib import PurePosixPath

from greenloop.errors import GuardrailViolation
from greenloop.workspace import Workspace

RESTRICTED_DIRS = frozenset({
    # version control, environments, dependencies, greenloop's own
    ".git", ".hg", ".svn", ".venv", "venv", "env", ".env", "node_modules", ".tox", ".nox", "__pypackages__",
    ".greenloop", ".githooks", ".husky", ".yarn", ".cargo", ".bundle",
    # CI
    ".github", ".gitlab", ".circleci", ".buildkite", ".woodpecker", ".semaphore", ".azure-pipelines", ".forgejo",
    ".gitea", ".builds", ".tekton", ".teamcity", ".platform",
    # editors, devcontainers and coding agents (tasks, launch configs, MCP servers and hooks run on open)
    ".vscode", ".idea", ".devcontainer", ".theia", ".fleet", ".zed", ".vim", ".nvim", ".claude", ".cursor",
    ".windsurf", ".continue",
})
RESTRICTED_FILES = frozenset({
    # locks and project configuration
    "package-lock.json", "yarn.lock", "pnpm-lock.yaml", "poetry.lock", "pipfile.lock", "uv.lock", "cargo.lock",
    "pdm.lock", "pyproject.toml", "setup.py", "setup.cfg", "greenloop.toml", "conftest.py.orig",
    # git
    ".gitmodules", ".gitattributes", ".gitignore", ".gitconfig", ".lfsconfig",
    # run on install / interpreter start / package-manager use
    "sitecustomize.py", "usercustomize.py", ".npmrc", ".yarnrc", ".yarnrc.yml", ".pnpmfile.cjs", ".pnpmfile.mjs",
    ".pnpmfile.js", "pnpmfile.js", ".pnp.cjs", ".pnp.js", ".pnp.loader.mjs", ".pypirc", "pip.conf", "pip.ini",
    ".condarc", "condarc", "bunfig.toml", ".bunfig.toml", ".gemrc", "gemfile", "mise.toml", ".mise.toml",
    # run on open (editors, coding agents)
    ".devcontainer.json", ".exrc", ".vimrc", ".gvimrc", ".nvimrc", ".nvim.lua", ".lvimrc", ".dir-locals.el",
    ".dir-locals-2.el", ".mcp.json", ".cursorrules", ".windsurfrules",
    # run on commit or push: hooks managers and CI
    ".pre-commit-config.yaml", ".pre-commit-config.yml", "lefthook.yml", ".lefthook.yml", "lefthook.yaml",
    ".lefthook.yaml", "lefthook-local.yml", ".lefthook-local.yml", ".huskyrc", ".overcommit.yml",
    ".gitlab-ci.yml", ".gitlab-ci.yaml", ".travis.yml", "azure-pipelines.yml", "azure-pipelines.yaml",
    ".drone.yml", ".drone.yaml", ".drone.jsonnet", ".drone.star", "bitbucket-pipelines.yml", ".gitpod.yml",
    ".gitpod.dockerfile", ".readthedocs.yaml", ".readthedocs.yml", "readthedocs.yml", "readthedocs.yaml",
    "appveyor.yml", ".appveyor.yml", "cloudbuild.yaml", "cloudbuild.yml", "cloudbuild.json", ".woodpecker.yml",
    ".woodpecker.yaml", "codefresh.yml", ".cirrus.yml", ".cirrus.star", "netlify.toml", "vercel.json", "now.json",
    "wercker.yml", ".taskcluster.yml", "buildspec.yml", "buildspec.yaml", "bitrise.yml", "codemagic.yaml",
    ".build.yml", "procfile",
    # build entry points (see the module docstring)
    "makefile", "gnumakefile", "justfile", ".justfile", "tox.ini", "noxfile.py", "taskfile.yml", "taskfile.yaml",
})
RESTRICTED_PATTERNS = (".env*", "*.pem", "*.key", "id_rsa*", "*.pth", "jenkinsfile*", ".lintstagedrc*",
                       "lint-staged.config.*", ".simple-git-hooks*", "*.code-workspace", "*.sublime-project",
                       "tsconfig*.json", "jsconfig*.json")  # the type check's configuration (typecheck.py)
_SHORT_GIT = re.compile(r"^git~\d+$")  # the 8.3 short name of .git on NTFS
# Code points that HFS+ and NTFS ignore in names (git's core.protectHFS list and friends).
_IGNORABLE = dict.fromkeys([*range(0x200B, 0x2010), *range(0x202A, 0x202F), *range(0x206A, 0x2070), 0xFEFF])
# npm runs these on install, pack or publish, wherever they sit in the manifest's scripts.
LIFECYCLE_SCRIPTS = frozenset({"preinstall", "install", "postinstall", "prepare", "preprepare", "postprepare",
                               "prepublish", "prepublishonly", "prepack", "postpack", "dependencies",
                               "preuninstall", "uninstall", "postuninstall"})


def fold(name: str) -> str:
    """A path component as a case-insensitive, normalizing file system compares it."""
    text = unicodedata.normalize("NFC", name).translate(_IGNORABLE)
    return text.rstrip(". ").casefold()


def restricted_reason(rel: PurePosixPath) -> str | None:
    """Why a repository-relative path may never be written, or None."""
    folded = [fold(p) for p in rel.parts]
    for part in folded:
        if part in RESTRICTED_DIRS or part.startswith(".env") or _SHORT_GIT.match(part):
            return (f"'{part}' is a restricted location (VCS, CI, editor or agent config, virtual environment or "
                    "dependencies); write elsewhere")
    leaf = folded[-1]
    if leaf in RESTRICTED_FILES or any(fnmatch.fnmatchcase(leaf, p) for p in RESTRICTED_PATTERNS):
        return ("restricted file (it runs commands on open, install or push, or is a config, lock or secret); "
                "greenloop does not write it")
    return None


def _hooks(data: object) -> dict[str, object]:
    """Every lifecycle-script key anywhere in a parsed manifest: JSON path -> value. Iterative."""
    found: dict[str, object] = {}
    stack: list[tuple[str, object]] = [("", data)]
    while stack:
        where, node = stack.pop()
        items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        for key, value in items:
            path = f"{where}/{key}"
            if isinstance(key, str) and key.lower() in LIFECYCLE_SCRIPTS and isinstance(value, str):
                found[path] = value
            stack.append((path, value))
    return found


def _no_duplicates(pairs: list[tuple[str, object]]) -> dict[str, object]:
    keys = [k for k, _ in pairs]
    if len(keys) != len(set(keys)):
        raise ValueError("a key appears twice")
    return dict(pairs)


DEPENDENCY_FIELDS = ("dependencies", "devDependencies", "peerDependencies", "optionalDependencies",
                     "bundleDependencies", "bundledDependencies", "overrides", "resolutions")


def _dependency_changes(old: dict[str, object], new: dict[str, object]) -> list[str]:
    """The packages a manifest adds, removes or re-pins across the dependency fields, sorted."""
    def pins(data: dict[str, object]) -> dict[str, str]:
        found: dict[str, str] = {}
        for field in DEPENDENCY_FIELDS:
            value = data.get(field)
            entries = value.items() if isinstance(value, dict) else ((v, "") for v in value) \
                if isinstance(value, list) else ()
            found.update({f"{field}/{k}": json.dumps(v, sort_keys=True) for k, v in entries})
        return found
    before, after = pins(old), pins(new)
    return sorted({key.split("/", 1)[1] for key in before.keys() | after.keys() if before.get(key) != after.get(key)})


def _manifest(name: str, text: str | None) -> dict[str, object]:
    if text is None:
        return {}
    try:
        data = json.loads(text, object_pairs_hook=_no_duplicates)
    except (ValueError, RecursionError) as exc:
        raise GuardrailViolation(f"{name}: not valid JSON ({exc}); send the whole file as plain JSON") from exc
    if not isinstance(data, dict):
        raise GuardrailViolation(f"{name}: a package manifest must be a JSON object")
    return data


@dataclass(frozen=True)
class WritePolicy:
    allowed_extensions: tuple[str, ...]
    max_files: int
    protected: tuple[str, ...] = ()  # globs of the project's own files that the run may not write

    def check(self, ws: Workspace, name: str) -> PurePosixPath:
        """The relative path if `name` may be written; else GuardrailViolation with the reason."""
        rel = ws.relative(name)
        why = restricted_reason(rel)
        if why:
            raise GuardrailViolation(f"{name}: {why}")
        if self.protects(rel):
            raise GuardrailViolation(f"{name}: protected by the configuration (protected_paths); it judges "
                                     "the work and cannot be changed by it")
        if rel.suffix not in self.allowed_extensions:
            raise GuardrailViolation(f"{name}: extension '{rel.suffix or '(none)'}' is not allowed; "
                                     f"allowed: {' '.join(self.allowed_extensions)}")
        ws.resolve(name)  # no link on the way
        return rel

    def protects(self, rel: PurePosixPath) -> bool:
        """Whether the configuration's protected_paths cover the relative path `rel`."""
        return any(fnmatch.fnmatch(str(rel), pattern) for pattern in self.protected)

    def check_content(self, name: str, before: str | None, after: str, task: str) -> None:
        """Refuse content that would run commands on install: a package.json whose `scripts` change while the
        task does not ask for scripts, or whose install/pack/publish hooks (anywhere in it) change while the
        task does not name them. Other files pass. GuardrailViolation says why."""
        if fold(PurePosixPath(name.replace("\\", "/")).name) != "package.json":
            return
        new = _manifest(name, after)
        try:
            old = _manifest(name, before)
        except GuardrailViolation:
            old = {}  # the base was broken: every script in the new one counts as a change
        words = set(re.findall(r"[a-z]+", task.lower()))
        hooks_before, hooks_after = _hooks(old), _hooks(new)
        changed = sorted({p.rsplit("/", 1)[-1] for p in hooks_after.keys() | hooks_before.keys()
                          if hooks_after.get(p) != hooks_before.get(p)})
        unasked = [h for h in changed if h.lower() not in words]
        if unasked:
            raise GuardrailViolation(f"{name}: changes the install hook(s) {', '.join(unasked)}, which npm runs on "
                                     "install; the task does not ask for them, so the script change is refused")
        added = _dependency_changes(old, new)
        if added:
            raise GuardrailViolation(f"{name}: changes the dependencies ({', '.join(added)}); greenloop installs "
                                     "nothing (the jail has no network), so the change is refused: use what is "
                                     f"installed, or ask the user to run `npm install {' '.join(added)}` first")
        if old.get("scripts") != new.get("scripts") and not words & {"script", "scripts"}:
            raise GuardrailViolation(f"{name}: changes its scripts, which run commands; the task does not ask "
                                     "for scripts, so leave them as they are")

    def check_count(self, paths: set[str]) -> None:
        """The files-per-run limit, over everything the run has written plus what a reply would add."""
        if len(paths) > self.max_files:
            raise GuardrailViolation(f"the run may write at most {self.max_files} files; this reply would make "
                                     f"it {len(paths)}. Change fewer files.")


_SUSPICIOUS_CALLS = {
    "eval": "eval()", "exec": "exec()", "compile": "compile()", "__import__": "__import__()",
    "os.system": "os.system()", "os.popen": "os.popen()", "os.remove": "file deletion",
    "os.unlink": "file deletion", "shutil.rmtree": "recursive deletion",
}
_SUSPICIOUS_MODULES = {"subprocess": "subprocess", "socket": "network sockets", "ctypes": "ctypes",
                       "urllib.request": "network access", "requests": "network access",
                       "http.client": "network access", "pty": "pty"}


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return ""


def suspicious_code(path: str, source: str) -> list[str]:
    """Warnings (not errors) for constructs a reviewer should look at. Unparseable code: none here."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    found: dict[str, int] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = _dotted(node.func)
            if name in _SUSPICIOUS_CALLS:
                found.setdefault(_SUSPICIOUS_CALLS[name], node.lineno)
            if name in {"open", "pathlib.Path.write_text"} and node.args:
                arg = node.args[0]
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str) and (
                        arg.value.startswith("/") or ".." in arg.value) and len(node.args) > 1:
                    found.setdefault("writing outside the project", node.lineno)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            for mod in names:
                for key, what in _SUSPICIOUS_MODULES.items():
                    if mod == key or mod.startswith(key + "."):
                        found.setdefault(what, node.lineno)
        elif isinstance(node, ast.Attribute) and _dotted(node) in {"os.environ", "os.getenv"}:
            found.setdefault("reads the environment", node.lineno)
    return [f"{path}:{line}: uses {what}" for what, line in sorted(found.items(), key=lambda kv: kv[1])]
