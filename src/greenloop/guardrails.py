"""What may be written where, and warnings for suspicious code in what was written."""

from __future__ import annotations

import ast
import fnmatch
from dataclasses import dataclass
from pathlib import PurePosixPath

from greenloop.errors import GuardrailViolation
from greenloop.workspace import Workspace

RESTRICTED_DIRS = {".git", ".hg", ".svn", ".venv", "venv", "env", ".env", "node_modules", ".tox", ".nox",
                   ".github", ".gitlab", ".circleci", ".buildkite", ".husky", "__pypackages__", ".greenloop"}
RESTRICTED_FILES = {
    ".gitlab-ci.yml", ".travis.yml", "azure-pipelines.yml", "Jenkinsfile", ".pre-commit-config.yaml",
    "package-lock.json", "yarn.lock", "pnpm-lock.yaml", "poetry.lock", "Pipfile.lock", "uv.lock",
    "Cargo.lock", "pdm.lock", "pyproject.toml", "setup.py", "setup.cfg", "greenloop.toml", ".gitmodules",
    ".gitattributes", ".gitignore", "conftest.py.orig", "sitecustomize.py", "usercustomize.py",
}
RESTRICTED_PATTERNS = (".env*", "*.pem", "*.key", "id_rsa*", "*.pth")


@dataclass(frozen=True)
class WritePolicy:
    allowed_extensions: tuple[str, ...]
    max_files: int
    protected: tuple[str, ...] = ()  # globs of the project's own files that the run may not write

    def check(self, ws: Workspace, name: str) -> PurePosixPath:
        """The relative path if `name` may be written; else GuardrailViolation with the reason."""
        rel = ws.relative(name)
        for part in rel.parts[:-1]:
            if part in RESTRICTED_DIRS or part.startswith(".env"):
                raise GuardrailViolation(f"{name}: '{part}/' is a restricted location (VCS, CI, "
                                         "virtual environment or dependencies); write elsewhere")
        leaf = rel.name
        if leaf in RESTRICTED_FILES or any(fnmatch.fnmatch(leaf, p) for p in RESTRICTED_PATTERNS):
            raise GuardrailViolation(f"{name}: restricted file (config, lock, secret or CI); greenloop "
                                     "does not write it")
        if any(fnmatch.fnmatch(str(rel), pattern) for pattern in self.protected):
            raise GuardrailViolation(f"{name}: protected by the configuration (protected_paths); it judges "
                                     "the work and cannot be changed by it")
        if rel.suffix not in self.allowed_extensions:
            raise GuardrailViolation(f"{name}: extension '{rel.suffix or '(none)'}' is not allowed; "
                                     f"allowed: {' '.join(self.allowed_extensions)}")
        ws.resolve(name)  # symlinks leading out
        return rel

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
