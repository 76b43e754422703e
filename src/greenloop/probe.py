"""Checks, one by one: every assertion of a test file, run on its own, in the sandbox.

pytest stops a test function at its first failing assert; to compare candidate implementations
we need to know which of *all* the assertions each one satisfies. `instrument` rewrites a test
module so that each `assert` (and each `with pytest.raises(...)` block) records its outcome and
the function goes on; `run_checks` executes the instrumented modules against the files in the
worktree with the project's interpreter, inside the sandbox, and reads the outcomes back.
"""

from __future__ import annotations

import ast
import json
import os
import secrets
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from greenloop.protocols import Sandbox

MARKER = "@@greenloop-checks@@"


@dataclass(frozen=True)
class Check:
    """One assertion: where it is and its source line(s)."""

    id: str  # "<tag><path>:<line>"
    path: str
    line: int
    source: str


@dataclass(frozen=True)
class Module:
    """A test module rewritten so that each check records itself; `checks` in source order."""

    path: str
    source: str
    checks: tuple[Check, ...]


def is_check(node: ast.AST) -> bool:
    """An assert, or a `with pytest.raises(...)` block."""
    if isinstance(node, ast.With):
        return any(isinstance(i.context_expr, ast.Call) and isinstance(i.context_expr.func, ast.Attribute)
                   and i.context_expr.func.attr == "raises" for i in node.items)
    return isinstance(node, ast.Assert)


class _Instrument(ast.NodeTransformer):
    def __init__(self, path: str, text: str, tag: str) -> None:
        self.path, self.text, self.tag = path, text, tag
        self.checks: list[Check] = []

    def _check(self, node: ast.stmt) -> str:
        cid = f"{self.tag}{self.path}:{node.lineno}"
        source = ast.get_source_segment(self.text, node) or ast.unparse(node)
        self.checks.append(Check(cid, self.path, node.lineno, source))
        return cid

    def visit_Assert(self, node: ast.Assert) -> ast.AST:
        cid = self._check(node)
        call = ast.parse(f"_gl_check({cid!r}, lambda: None)").body[0]
        call.value.args[1].body = node.test  # type: ignore[attr-defined]
        if isinstance(node.test, ast.Compare) and len(node.test.ops) == 1 and isinstance(node.test.ops[0], ast.Eq):
            call = ast.parse(f"_gl_equal({cid!r}, lambda: None, lambda: None)").body[0]
            call.value.args[1].body = node.test.left  # type: ignore[attr-defined]
            call.value.args[2].body = node.test.comparators[0]  # type: ignore[attr-defined]
        return ast.copy_location(call, node)

    def visit_With(self, node: ast.With) -> ast.AST:
        if not is_check(node):
            return self.generic_visit(node)
        cid = self._check(node)
        wrapper = ast.parse(f"try:\n    pass\n    _gl_record({cid!r}, True, '')\n"
                            f"except BaseException as _gl_exc:\n    _gl_record({cid!r}, False, repr(_gl_exc))").body[0]
        wrapper.body[0] = node  # type: ignore[attr-defined]
        return ast.copy_location(wrapper, node)


def instrument(path: str, text: str, tag: str = "") -> Module | None:
    """None when the text is not Python. `tag` prefixes the check ids (candidates share paths)."""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return None
    inst = _Instrument(path, text, tag)
    tree = ast.fix_missing_locations(inst.visit(tree))
    return Module(path, ast.unparse(tree), tuple(inst.checks))


RUNNER = r'''
import inspect, io, json, os, sys
with open(sys.argv[1], encoding="utf-8") as _fh:
    data = json.load(_fh)
out = os.dup(1)
results = {}
def _gl_record(cid, ok, got, raised=False):
    prev = results.get(cid)
    if prev is None or (prev[0] and not ok):
        results[cid] = [bool(ok), got[:300], raised]
    elif raised:
        prev[2] = True
import_errors = []
def _gl_import_failed(name, exc):
    import_errors.append("importing " + name + " raised " + repr(exc)[:150])
def _gl_raised(exc):
    why = "raised " + repr(exc)
    if import_errors and isinstance(exc, NameError):
        why = "; ".join(import_errors) + ", so it " + why
    return why
def _gl_check(cid, test):
    try:
        ok = bool(test()); got = ""
    except BaseException as exc:
        return _gl_record(cid, False, _gl_raised(exc), True)
    _gl_record(cid, ok, got)
def _gl_equal(cid, left, right):
    try:
        value = left()
    except BaseException as exc:
        return _gl_record(cid, False, _gl_raised(exc), True)
    try:
        ok = bool(value == right())
    except BaseException as exc:
        return _gl_record(cid, False, repr(value), True)
    _gl_record(cid, ok, repr(value))
def _gl_off(marks):
    # skip; skipif or xfail whose condition holds or cannot be read here (a string): pytest would not count them
    for m in marks if isinstance(marks, (list, tuple)) else [marks]:
        name, conds = getattr(m, "name", ""), list(getattr(m, "args", ()))
        conds += [v for k, v in getattr(m, "kwargs", {}).items() if k == "condition"]
        if name == "skip" or (name in ("skipif", "xfail") and (not conds or any(c for c in conds))):
            return True
    return False
def _gl_skipped(fn, cls, module_marks):
    # the function's marks, every class of its class's MRO (pytest reads marks along it), the module's; and
    # unittest's skip and expectedFailure, which pytest honours too
    try:
        marks = [getattr(fn, "pytestmark", [])] + [module_marks]
        marks += [k.__dict__.get("pytestmark", []) for k in (cls.__mro__ if cls is not None else ())]
        owners = [o for o in (fn, cls) if o is not None]
        unittest_off = any(getattr(o, flag, False) for o in owners
                           for flag in ("__unittest_skip__", "__unittest_expecting_failure__"))
        return unittest_off or any(_gl_off(m) for m in marks)
    except BaseException:
        return True
sys.stdout = sys.stderr = io.StringIO()
for mod in data:
    import_errors.clear()
    ns = {"__name__": "greenloop_check", "__file__": mod["path"], "_gl_check": _gl_check,
          "_gl_equal": _gl_equal, "_gl_record": _gl_record, "_gl_import_failed": _gl_import_failed}
    try:
        exec(compile(mod["source"], mod["path"], "exec"), ns)
    except BaseException as exc:
        for cid in mod["ids"]:
            _gl_record(cid, False, "module failed: " + repr(exc)[:200])
        continue
    calls = []
    for name, obj in list(ns.items()):
        if name.startswith("test") and inspect.isfunction(obj):
            calls.append((obj, None))
        elif name.startswith("Test") and inspect.isclass(obj):
            try:
                inst = obj()
            except BaseException:
                continue
            calls += [(getattr(inst, m), obj) for m in dir(obj)
                      if m.startswith("test") and callable(getattr(inst, m))]
    for fn, cls in calls:
        if any(p.default is p.empty for p in inspect.signature(fn).parameters.values()):
            continue
        if _gl_skipped(fn, cls, ns.get("pytestmark", [])):
            continue
        try:
            fn()
        except BaseException:
            pass
os.write(out, ("\n''' + MARKER + r'''" + json.dumps(results) + "\n").encode())
'''


@dataclass(frozen=True)
class Outcome:
    ok: bool
    got: str  # repr of the left side of an ==, or the exception; "" when unknown
    raised: bool = False  # the checked expression raised (once, of all the times it ran): no value to compare


@contextmanager
def payload_file(workdir: Path, payload: str) -> Iterator[str]:
    """`payload` in a new file of `workdir`, for a runner in the jail to read (named relative to `workdir`), removed
    afterwards. Not an argument: Linux caps one at 128 KB, and two test files of 70 KB made Popen raise E2BIG."""
    name = f".greenloop-payload-{secrets.token_hex(8)}.json"
    fd = os.open(workdir / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(payload)
    try:
        yield name
    finally:
        with suppress(OSError):  # gone, or the jailed code made it a directory: the commit is built from the ledger
            os.unlink(workdir / name)


def run_checks(sandbox: Sandbox, python: Path, workdir: Path, modules: Sequence[Module],
               timeout_s: float) -> dict[str, Outcome]:
    """Every check of `modules`, run against the files now in `workdir`. A check that never ran
    (its function needs fixtures, is marked skip or xfail, or stopped before it, or the run timed out) is
    absent."""
    payload = json.dumps([{"path": m.path, "source": m.source, "ids": [c.id for c in m.checks]} for m in modules])
    with payload_file(workdir, payload) as name:
        result = sandbox.run([str(python), "-B", "-c", RUNNER, name], workdir, timeout_s=timeout_s)
    line = next((ln for ln in reversed(result.stdout.splitlines()) if ln.startswith(MARKER)), None)
    if line is None:
        return {}
    try:  # the checks ran in this process: a line they forged must not crash the run
        return {str(cid): Outcome(bool(v[0]), str(v[1]), bool(v[2]))
                for cid, v in json.loads(line[len(MARKER):]).items()}
    except (ValueError, TypeError, IndexError, AttributeError, KeyError, RecursionError):  # `{}`, `[[[...`
        return {}
