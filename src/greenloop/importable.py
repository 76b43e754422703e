"""What the project can import, found statically: the standard library, the project's own modules, the
dependencies it declares (pyproject, requirements*.txt, setup.cfg, setup.py literals) mapped to import
names, and what is installed in its own virtualenv (`.venv`, `venv`), read from site-packages listings.
Nothing from the repository is executed; every read goes through the Workspace path gate and no walk
follows a symlink."""

from __future__ import annotations

import ast
import configparser
import functools
import importlib.metadata
import os
import re
import stat
import sys
import tomllib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from greenloop.errors import GuardrailViolation
from greenloop.gitops import git
from greenloop.workspace import Workspace

_REQ_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
_MODULE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_INCLUDE = re.compile(r"^\s*(?:-r|--requirement|-c|--constraint)[\s=]+(\S+)")
VENV_DIRS = (".venv", "venv")
# distributions whose import name is not their name, for projects whose venv is not at hand
_WELL_KNOWN = {
    "pyyaml": {"yaml"}, "beautifulsoup4": {"bs4"}, "scikit-learn": {"sklearn"}, "pillow": {"PIL"},
    "opencv-python": {"cv2"}, "opencv-python-headless": {"cv2"}, "python-dateutil": {"dateutil"},
    "attrs": {"attr", "attrs"}, "protobuf": {"google"}, "pyjwt": {"jwt"}, "python-dotenv": {"dotenv"},
    "typing-extensions": {"typing_extensions"}, "pyzmq": {"zmq"}, "msgpack-python": {"msgpack"},
    "pycryptodome": {"Crypto"}, "pyopenssl": {"OpenSSL"}, "python-multipart": {"multipart"},
    "scikit-image": {"skimage"}, "ruamel.yaml": {"ruamel"}, "pymupdf": {"fitz"}, "faiss-cpu": {"faiss"},
}


def normalize(dist: str) -> str:
    """PEP 503 name: lowercase, runs of -_. as one dash."""
    return re.sub(r"[-_.]+", "-", dist).lower()


@dataclass(frozen=True)
class Importable:
    project: frozenset[str]  # the project's own top-level modules and packages
    declared: frozenset[str]  # import names of its declared dependencies
    installed: frozenset[str]  # top-level import names in its own virtualenv
    declared_names: tuple[str, ...]  # the distributions as declared, for messages

    def knows(self, module: str, *, is_test: bool) -> bool:
        root = module.split(".")[0]
        return (root in sys.stdlib_module_names or root in self.project or root in self.declared
                or root in self.installed or (is_test and root in ("pytest", "_pytest", "conftest")))


def real_dir(base: Path, rel: str | PurePosixPath) -> Path | None:
    """`base/rel` if it is a directory reached without any symlink (lstat on every component)."""
    path = base
    for part in PurePosixPath(rel).parts:
        path = path / part
        try:
            if not stat.S_ISDIR(path.lstat().st_mode):
                return None
        except OSError:
            return None
    return path


def entries(directory: Path) -> Iterator[os.DirEntry[str]]:
    try:
        with os.scandir(directory) as it:
            yield from list(it)
    except OSError:
        return


def _read(ws: Workspace, rel: str) -> str:
    try:
        return ws.read_text(rel) or ""
    except GuardrailViolation:
        return ""  # outside the repository, a link, a device: not the project's


def _names(reqs: Iterable[object]) -> set[str]:
    return {m.group(1) for r in reqs if isinstance(r, str) and (m := _REQ_NAME.match(r))}


def _keys(table: object) -> set[str]:
    return {k for k in table if isinstance(k, str) and k.lower() != "python"} if isinstance(table, dict) else set()


def _from_pyproject(ws: Workspace) -> set[str]:
    try:
        data = tomllib.loads(_read(ws, "pyproject.toml"))
    except tomllib.TOMLDecodeError:
        return set()
    names: set[str] = set()
    project = data.get("project", {})
    if isinstance(project, dict):
        deps = project.get("dependencies", [])
        names |= _names(deps if isinstance(deps, list) else [])
        extras = project.get("optional-dependencies", {})
        for group in extras.values() if isinstance(extras, dict) else []:
            names |= _names(group if isinstance(group, list) else [])
    groups = data.get("dependency-groups", {})  # PEP 735
    for group in groups.values() if isinstance(groups, dict) else []:
        names |= _names(group if isinstance(group, list) else [])
    poetry = data.get("tool", {}).get("poetry", {}) if isinstance(data.get("tool"), dict) else {}
    if isinstance(poetry, dict):
        names |= _keys(poetry.get("dependencies")) | _keys(poetry.get("dev-dependencies"))
        pgroups = poetry.get("group", {})
        for group in pgroups.values() if isinstance(pgroups, dict) else []:
            names |= _keys(group.get("dependencies")) if isinstance(group, dict) else set()
    return names


def _from_requirements(ws: Workspace, rel: str, depth: int = 0) -> set[str]:
    names: set[str] = set()
    for line in _read(ws, rel).splitlines():
        line = line.split(" #", 1)[0].strip()
        include = _INCLUDE.match(line)
        if include and depth < 3:
            names |= _from_requirements(ws, str(PurePosixPath(rel).parent / include.group(1)), depth + 1)
        elif line and not line.startswith(("#", "-")) and "://" not in line:
            names |= _names([line])
    return names


def _from_setup_cfg(ws: Workspace) -> set[str]:
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(_read(ws, "setup.cfg"))
    except configparser.Error:
        return set()
    values = [parser.get("options", key, fallback="") for key in ("install_requires", "tests_require")]
    if parser.has_section("options.extras_require"):
        values += [v for _, v in parser.items("options.extras_require")]
    return _names(line for v in values for line in v.splitlines())


def _from_setup_py(ws: Workspace) -> set[str]:
    """Literal lists passed to setup(install_requires=..., extras_require=..., tests_require=...)."""
    try:
        tree = ast.parse(_read(ws, "setup.py"))
    except (SyntaxError, ValueError):
        return set()
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg in ("install_requires", "tests_require", "extras_require"):
            try:
                value = ast.literal_eval(node.value)
            except ValueError:
                continue
            groups = value.values() if isinstance(value, dict) else [value]
            for group in groups:
                names |= _names(group if isinstance(group, list | tuple) else [])
    return names


def declared_distributions(root: Path) -> set[str]:
    """Distribution names the project declares (as written)."""
    ws = Workspace(root)
    files = [e.name for e in entries(root) if e.is_file(follow_symlinks=False)]
    names = _from_pyproject(ws) | _from_setup_cfg(ws) | _from_setup_py(ws)
    for name in files:
        if re.fullmatch(r"requirements.*\.(txt|in)", name):
            names |= _from_requirements(ws, name)
    if (reqdir := real_dir(root, "requirements")) is not None:
        for entry in entries(reqdir):
            if entry.name.endswith((".txt", ".in")) and entry.is_file(follow_symlinks=False):
                names |= _from_requirements(ws, f"requirements/{entry.name}")
    return names


@functools.cache
def _greenloop_env_mapping() -> dict[str, frozenset[str]]:
    """normalized distribution -> import names, from greenloop's own environment's metadata (names only)."""
    mapping: dict[str, set[str]] = {}
    for module, dists in importlib.metadata.packages_distributions().items():
        for dist in dists:
            mapping.setdefault(normalize(dist), set()).add(module)
    return {k: frozenset(v) for k, v in mapping.items()}


def import_names(dist: str) -> set[str]:
    key = normalize(dist)
    guess = {dist.replace("-", "_").replace(".", "_"), key.replace("-", "_")}
    return guess | _WELL_KNOWN.get(key, set()) | set(_greenloop_env_mapping().get(key, frozenset()))


def _site_packages(base: Path) -> Iterator[Path]:
    for venv in VENV_DIRS:
        for lib in ("lib", "Lib"):
            libdir = real_dir(base, f"{venv}/{lib}")
            if libdir is None:
                continue
            if (site := real_dir(libdir, "site-packages")) is not None:
                yield site
            for entry in entries(libdir):
                if entry.name.startswith("python") and (site := real_dir(libdir, f"{entry.name}/site-packages")):
                    yield site


def installed_modules(base: Path) -> set[str]:
    """Top-level import names in `base`'s own virtualenv, from its site-packages listing."""
    names: set[str] = set()
    for site in _site_packages(base):
        for entry in entries(site):
            name = entry.name
            if entry.is_dir(follow_symlinks=False) and _MODULE.match(name) and name != "__pycache__":
                names.add(name)
            elif entry.is_file(follow_symlinks=False) and name.endswith((".py", ".so", ".pyd")):
                stem = name.split(".", 1)[0]
                if _MODULE.match(stem):
                    names.add(stem)
    return names


def _checkout_of(root: Path) -> Path | None:
    """The user's checkout when `root` is a linked worktree of it (the project's venv lives there)."""
    proc = git("rev-parse", "--path-format=absolute", "--git-common-dir", cwd=root, check=False)
    common = Path(proc.stdout.strip()) if proc.returncode == 0 and proc.stdout.strip() else None
    if common is None or common.name != ".git" or common.parent.resolve() == root.resolve():
        return None
    return common.parent


def project_modules(root: Path, new_paths: Iterable[str]) -> set[str]:
    mods: set[str] = set()
    for base in (root, real_dir(root, "src")):
        for entry in entries(base) if base is not None else []:
            if entry.is_file(follow_symlinks=False) and entry.name.endswith(".py"):
                mods.add(entry.name[:-3])
            elif entry.is_dir(follow_symlinks=False) and not entry.name.startswith("."):
                mods.add(entry.name)
    for p in new_paths:
        parts = PurePosixPath(p).parts
        parts = parts[1:] if parts and parts[0] == "src" else parts
        if parts:
            mods.add(PurePosixPath(parts[0]).stem)
    return mods


def importable(root: Path, new_paths: Iterable[str] = ()) -> Importable:
    declared = declared_distributions(root)
    installed = installed_modules(root)
    checkout = _checkout_of(root)
    if checkout is not None:
        installed |= installed_modules(checkout)
    return Importable(project=frozenset(project_modules(root, new_paths)),
                      declared=frozenset(n for d in declared for n in import_names(d)),
                      installed=frozenset(installed), declared_names=tuple(sorted(declared, key=str.lower)))
