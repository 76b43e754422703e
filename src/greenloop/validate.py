"""Static checks on every file a reply would write, before anything is written or run.

Errors go back to the model (the attempt fails without costing a test run); warnings go to the
trajectory and the run summary."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath

from greenloop.edits import AppliedFile
from greenloop.guardrails import suspicious_code
from greenloop.importable import Importable, entries, importable, real_dir
from greenloop.outline import is_string_statement, top_level_names
from greenloop.runners.project import JS_SUFFIXES
from greenloop.validate_js import check_js, js_warnings

_FENCE_LINE = re.compile(r"^\s*(```|~~~)")
_REMOVAL = re.compile(r"\b(remove|delete|drop|get rid of|split|move)\b", re.I)
_PLACEHOLDER_COMMENT = re.compile(r"#\s*(TODO:?\s*implement|implement (this|me)|your code here|\.\.\.\s*$)", re.I)


@dataclass
class Findings:
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _is_ellipsis(stmt: ast.stmt) -> bool:
    return isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) and stmt.value.value is Ellipsis


def _is_placeholder_body(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    # A docstring is not a body, nor are imports beside it (`import math` above the docstring, as some stubs
    # have it); a function that only imports does something.
    strings = [s for s in fn.body if is_string_statement(s)]
    body = [s for s in fn.body if s not in strings and not (strings and isinstance(s, (ast.Import, ast.ImportFrom)))]
    if not body:
        return True  # only a docstring (and imports)
    if len(body) != 1:
        return False
    stmt = body[0]
    if isinstance(stmt, ast.Pass) or _is_ellipsis(stmt):
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
    return bool(tree.body) and all(isinstance(s, ast.Pass) or _is_ellipsis(s) or is_string_statement(s)
                                   for s in tree.body)


def _unwritten_functions(tree: ast.Module) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    """The functions with no body yet (a docstring, pass, ... or NotImplementedError), abstract ones aside."""
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    return [node for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            and _is_placeholder_body(node) and not _exempt(node, parents)]


def _placeholders(path: str, tree: ast.Module, source: str) -> list[str]:
    if _empty_module(tree) and not path.endswith("__init__.py"):
        return [f"{path}: the file has no code (only '...', 'pass' or a docstring); write the whole file"]
    found = [f"{path}:{node.lineno}: function '{node.name}' has no implementation (only pass/.../"
             "NotImplementedError); write the real body" for node in _unwritten_functions(tree)]
    for n, line in enumerate(source.split("\n"), 1):
        if _PLACEHOLDER_COMMENT.search(line):
            found.append(f"{path}:{n}: placeholder comment '{line.strip()}'; write the code it stands for")
    return found


def unwritten(source: str) -> list[str]:
    """The names of the functions of a Python file that have no body yet: a stub to complete. [] for a file
    that does not parse."""
    try:
        return [node.name for node in _unwritten_functions(ast.parse(source))]
    except SyntaxError:
        return []


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


def _unresolved_imports(path: str, tree: ast.Module, known: Importable, is_test: bool) -> list[str]:
    guarded = _guarded_imports(tree)
    out: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots = [a.name.split(".")[0] for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots = [node.module.split(".")[0]]
        else:
            continue
        if node.lineno in guarded:
            continue
        for root in roots:
            if known.knows(root, is_test=is_test):
                continue
            declared = ", ".join(known.declared_names[:20]) or "none"
            out.append(f"{path}:{node.lineno}: imports '{root}', which is not the standard library, the "
                       "project's own code, a dependency the project declares, nor installed in its .venv "
                       f"(declared: {declared}); use those only, or guard an optional import with "
                       "try/except ImportError")
    return out


def _lines(text: str | None) -> int:
    return 0 if text is None else text.count("\n") + (0 if text.endswith("\n") or not text else 1)


def _size(path: str, f: AppliedFile, max_lines: int, max_bytes: int) -> list[str]:
    """The limits hold for new files and for growth: a reply may not add more than the limit to a file nor
    grow one past it; an existing file over the limit may still be edited."""
    errors = []
    for unit, limit, before, after, fix in (
            ("lines", max_lines, _lines(f.before), _lines(f.after), "split the module"),
            ("bytes", max_bytes, len((f.before or "").encode()), len(f.after.encode()), "split it")):
        if f.before is None and after > limit:
            errors.append(f"{path}: {after} {unit} is over the limit of {limit}; {fix}")
        elif f.before is not None and after > before and (after - before > limit or before <= limit < after):
            errors.append(f"{path}: the reply grows the file from {before} to {after} {unit}, over the limit of "
                          f"{limit}; {fix} (put the new code in a new module)")
    return errors


def _lost(path: str, f: AppliedFile, task: str) -> list[str]:
    """A whole-file reply for an existing file that drops most of it (a truncated copy) is refused, naming
    what would be lost; unless the task asks for removal and names every definition that goes."""
    if not f.whole or f.before is None:
        return []
    before, after = _lines(f.before), _lines(f.after)
    old_defs = top_level_names(f.before) if path.endswith((".py", ".pyi")) else None
    new_defs = top_level_names(f.after) if old_defs else None
    gone = [n for n in old_defs if n not in new_defs] if old_defs and new_defs is not None else []
    too_many_defs = len(old_defs or ()) >= 3 and len(gone) * 3 > len(old_defs or ())
    too_many_lines = before >= 30 and (before - after) * 10 > before * 4
    asked = bool(_REMOVAL.search(task)) and all(re.search(rf"\b{re.escape(name)}\b", task) for name in gone)
    if asked or not (too_many_defs or too_many_lines):
        return []
    what = f"{before - after} of its {before} lines"
    if gone:
        what += f" and {len(gone)} of its {len(old_defs or ())} definitions ({', '.join(gone[:12])}" + \
            (", ..." if len(gone) > 12 else "") + ")"
    return [f"{path}: the reply sends the file whole but it would lose {what}; a whole file must contain "
            "every line. Change an existing long file with SEARCH/REPLACE blocks for the lines that change."]


def _test_dir_modules(root: Path, path: str, new_paths: Iterable[str]) -> set[str]:
    """Modules next to a test file (pytest puts its directory on sys.path)."""
    folder = PurePosixPath(path).parent
    listing = real_dir(root, folder) if str(folder) != "." else root
    names = {e.name[:-3] for e in (entries(listing) if listing is not None else ()) if e.name.endswith(".py")}
    return names | {PurePosixPath(p).stem for p in new_paths if PurePosixPath(p).parent == folder}


def validate_files(files: Mapping[str, AppliedFile], root: Path, *, max_lines: int,
                   max_bytes: int, siblings: Iterable[str] = (), task: str = "") -> Findings:
    """`siblings`: other paths written by the same reply (their modules count as the project's). `task`:
    a task that asks to remove code lets a whole-file reply drop definitions."""
    findings = Findings()
    new_paths = [*files, *siblings]
    known = importable(root, new_paths)
    for path, f in files.items():
        text = f.after
        findings.errors.extend(_size(path, f, max_lines, max_bytes))
        findings.errors.extend(_lost(path, f, task))
        if path.endswith(JS_SUFFIXES):
            findings.errors.extend(check_js(path, text, root, f.is_test))
            findings.warnings.extend(js_warnings(path, text))
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
            ast.unparse(tree)  # what the guards and checks read back: `1+1+...` 500 terms deep parses but cannot
        except SyntaxError as exc:
            bad = (exc.text or "").rstrip("\n")
            findings.errors.append(f"{path}:{exc.lineno}:{exc.offset}: SyntaxError: {exc.msg}"
                                   + (f"\n    {bad}" if bad else ""))
            continue
        except (RecursionError, MemoryError, ValueError):  # ValueError: a null byte
            findings.errors.append(f"{path}: an expression is nested too deep (or holds a null byte) for greenloop "
                                   "to read; write it flatter")
            continue
        if not f.is_test:
            findings.errors.extend(_placeholders(path, tree, text))
        elif not path.endswith("conftest.py") and not any(
                (isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name.startswith("test"))
                or (isinstance(n, ast.ClassDef) and n.name.startswith("Test")) for n in ast.walk(tree)):
            findings.errors.append(f"{path}: the test file defines no test; write test_* functions that "
                                   "import the code under test and check it (the code itself goes in its own module)")
        findings.errors.extend(_self_imports(path, tree))
        local = replace(known, project=known.project | _test_dir_modules(root, path, new_paths)) if f.is_test \
            else known
        findings.errors.extend(_unresolved_imports(path, tree, local, f.is_test))
        findings.warnings.extend(suspicious_code(path, text))
    return findings
