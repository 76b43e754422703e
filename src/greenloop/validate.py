"""Static checks on every file a reply would write, before anything is written or run.

Errors go back to the model (the attempt fails without costing a test run); warnings go to the
trajectory and the run summary."""

from __future__ import annotations

import ast
import importlib.util
import re
import sys
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from greenloop.edits import AppliedFile
from greenloop.guardrails import suspicious_code
from greenloop.validate_js import JS_SUFFIXES, check_js

_FENCE_LINE = re.compile(r"^\s*(```|~~~)")
_PLACEHOLDER_COMMENT = re.compile(r"#\s*(TODO:?\s*implement|implement (this|me)|your code here|\.\.\.\s*$)", re.I)
_REQ_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


@dataclass
class Findings:
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _is_placeholder_body(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    body = list(fn.body)
    if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant) \
            and isinstance(body[0].value.value, str):
        body = body[1:]
    if not body:
        return True  # only a docstring
    if len(body) != 1:
        return False
    stmt = body[0]
    if isinstance(stmt, ast.Pass):
        return True
    if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) and stmt.value.value is Ellipsis:
        return True
    if isinstance(stmt, ast.Raise) and stmt.exc is not None:
        exc = stmt.exc.func if isinstance(stmt.exc, ast.Call) else stmt.exc
        return isinstance(exc, ast.Name) and exc.id == "NotImplementedError"
    return False


def _exempt(fn: ast.FunctionDef | ast.AsyncFunctionDef, parents: Mapping[ast.AST, ast.AST]) -> bool:
    names = {getattr(d, "id", getattr(d, "attr", "")) for d in fn.decorator_list}
    if names & {"abstractmethod", "overload", "abstractproperty"}:
        return True
    parent = parents.get(fn)
    if isinstance(parent, ast.ClassDef):
        bases = {getattr(b, "id", getattr(b, "attr", "")) for b in parent.bases}
        if bases & {"Protocol", "ABC", "Exception", "BaseException"}:
            return True
    return False


def _empty_module(tree: ast.Module) -> bool:
    body = [s for s in tree.body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant)
                                         and isinstance(s.value.value, str))]
    return bool(tree.body) and all(
        isinstance(s, ast.Pass) or (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant)
                                    and s.value.value is Ellipsis) for s in body)


def _placeholders(path: str, tree: ast.Module, source: str) -> list[str]:
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    if _empty_module(tree) and not path.endswith("__init__.py"):
        return [f"{path}: the file has no code (only '...', 'pass' or a docstring); write the whole file"]
    found = [
        f"{path}:{node.lineno}: function '{node.name}' has no implementation (only pass/.../"
        "NotImplementedError); write the real body"
        for node in ast.walk(tree)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        and _is_placeholder_body(node) and not _exempt(node, parents)
    ]
    for n, line in enumerate(source.split("\n"), 1):
        if _PLACEHOLDER_COMMENT.search(line):
            found.append(f"{path}:{n}: placeholder comment '{line.strip()}'; write the code it stands for")
    return found


def _guarded_imports(tree: ast.Module) -> set[int]:
    """Line numbers of imports inside `try: ... except ImportError` (optional dependencies)."""
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Try) and any(
            isinstance(h.type, ast.Name) and h.type.id in {"ImportError", "ModuleNotFoundError"}
            or isinstance(h.type, ast.Tuple) for h in node.handlers
        ):
            for stmt in node.body:
                for sub in ast.walk(stmt):
                    if isinstance(sub, (ast.Import, ast.ImportFrom)):
                        lines.add(sub.lineno)
    return lines


def declared_dependencies(root: Path) -> set[str]:
    names: set[str] = set()
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        try:
            data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError):
            data = {}
        project = data.get("project", {})
        reqs = list(project.get("dependencies", []))
        for extra in project.get("optional-dependencies", {}).values():
            reqs.extend(extra)
        names |= {m.group(1) for r in reqs if (m := _REQ_NAME.match(r))}
    req_txt = root / "requirements.txt"
    if req_txt.is_file():
        names |= {m.group(1) for r in req_txt.read_text(errors="replace").splitlines() if (m := _REQ_NAME.match(r))}
    return {n.lower().replace("-", "_").replace(".", "_") for n in names}


def project_modules(root: Path, new_paths: Iterable[str]) -> set[str]:
    mods: set[str] = set()
    for base in (root, root / "src"):
        if base.is_dir():
            for child in base.iterdir():
                if child.suffix == ".py":
                    mods.add(child.stem)
                elif child.is_dir() and not child.name.startswith("."):
                    mods.add(child.name)
    for p in new_paths:
        parts = Path(p).parts
        parts = parts[1:] if parts and parts[0] == "src" else parts
        if parts:
            mods.add(Path(parts[0]).stem)
    return mods


def module_name(path: str) -> str:
    parts = list(Path(path).with_suffix("").parts)
    if parts and parts[0] == "src":
        parts = parts[1:]
    if parts and parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _self_imports(path: str, tree: ast.Module) -> list[str]:
    own = module_name(path)
    return [f"{path}:{node.lineno}: the module imports itself ('{own}'); remove that import"
            for node in ast.walk(tree)
            if (isinstance(node, ast.ImportFrom) and node.level == 0 and node.module == own)
            or (isinstance(node, ast.Import) and any(a.name == own for a in node.names))]


def _unresolved_imports(path: str, tree: ast.Module, known: set[str], declared: set[str]) -> list[str]:
    guarded = _guarded_imports(tree)
    out: list[str] = []
    for node in ast.walk(tree):
        if node.lineno in guarded if hasattr(node, "lineno") else False:
            continue
        if isinstance(node, ast.Import):
            roots = [a.name.split(".")[0] for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots = [node.module.split(".")[0]]
        else:
            continue
        for root in roots:
            if root in sys.stdlib_module_names or root in known or root.lower() in declared:
                continue
            if importlib.util.find_spec(root) is not None:
                continue
            out.append(f"{path}:{node.lineno}: imports '{root}', which is neither the standard library, "
                       "the project, nor an installed or declared dependency; use what is available")
    return out


def validate_files(files: Mapping[str, AppliedFile], root: Path, *, max_lines: int,
                   max_bytes: int, siblings: Iterable[str] = ()) -> Findings:
    """`siblings`: other paths written by the same reply (their modules count as the project's)."""
    findings = Findings()
    known = project_modules(root, [*files, *siblings])
    declared = declared_dependencies(root)
    for path, f in files.items():
        text = f.after
        if len(text.encode("utf-8")) > max_bytes:
            findings.errors.append(f"{path}: {len(text.encode())} bytes is over the limit of {max_bytes}; split it")
        n_lines = text.count("\n") + 1
        if n_lines > max_lines:
            findings.errors.append(f"{path}: {n_lines} lines is over the limit of {max_lines}; split the module")
        if path.endswith(JS_SUFFIXES):
            findings.errors.extend(check_js(path, text, root))
            continue
        if not path.endswith((".py", ".pyi")):
            continue
        fence = next((i for i, line in enumerate(text.split("\n"), 1) if _FENCE_LINE.match(line)), None)
        if fence is not None:
            findings.errors.append(f"{path}:{fence}: a markdown fence (```) inside the code; send only the "
                                   "file's contents")
            continue
        try:
            tree = ast.parse(text, filename=path)
            compile(text, path, "exec", dont_inherit=True)
        except SyntaxError as exc:
            bad = (exc.text or "").rstrip("\n")
            findings.errors.append(f"{path}:{exc.lineno}:{exc.offset}: SyntaxError: {exc.msg}"
                                   + (f"\n    {bad}" if bad else ""))
            continue
        if not f.is_test:
            findings.errors.extend(_placeholders(path, tree, text))
        elif not path.endswith("conftest.py") and not any(
                (isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name.startswith("test"))
                or (isinstance(n, ast.ClassDef) and n.name.startswith("Test")) for n in ast.walk(tree)):
            findings.errors.append(f"{path}: the test file defines no test; write test_* functions that "
                                   "import the code under test and check it (the code itself goes in its own module)")
        findings.errors.extend(_self_imports(path, tree))
        findings.errors.extend(_unresolved_imports(path, tree, known, declared))
        findings.warnings.extend(suspicious_code(path, text))
    return findings
