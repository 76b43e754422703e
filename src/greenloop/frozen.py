"""Tests the run may not weaken.

The project's own test files and test configuration are read-only for the run, and no new test
configuration (`conftest.py`, `pytest.ini`, ...) may be added: it could skip the tests that guard the
project. The model's own tests are frozen once they have run (passed their red run, then were collected
in a test run; a file whose imports fail can still be corrected). A later reply may add imports and new
tests to a frozen file, but every statement that was there stays as it was and no new statement may
rebind a name the file defined (a test that redefines the function it tests checks nothing). The one
way to drop an assertion is to dispute it (`DISPUTE: <the assert statement>  # reason`); greenloop
accepts the dispute only if the assertion is not one of the task's examples, and says so in the summary.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from greenloop.examples import Example
from greenloop.ledger import TEST_CONFIG, Ledger
from greenloop.outline import call_name, parse_module

_DISPUTE = re.compile(r"^[ \t]*DISPUTE:?[ \t]*(assert\b.+)$", re.M)  # [ \t]: `^\s*` is quadratic in blank lines
_UNITTEST_ASSERT = re.compile(r"^(assert[A-Z]\w*|fail\w*)$")
_RAISES = {"raises", "warns", "deprecated_call", "assertRaises", "assertRaisesRegex", "assertWarns"}
FROZEN_HINT = ("Tests are frozen once they have run: change the implementation, not the tests (new imports "
               "and new tests may be added). If an assertion contradicts the task, dispute it with a line "
               "`DISPUTE: <the assert statement as written>  # why`.")


def test_functions(tree: ast.Module) -> list[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]]:
    """Module-level `test*` functions and `test*` methods of `Test*` classes, by qualified name."""
    out: list[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]] = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test"):
            out.append((node.name, node))
        elif isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
            out.extend((f"{node.name}::{m.name}", m) for m in node.body
                       if isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef)) and m.name.startswith("test"))
    return out


def _refers_to_something(node: ast.AST) -> bool:
    """True unless the expression is made of constants only (`assert True`, `assert 1 + 1 == 2`)."""
    return any(isinstance(n, (ast.Name, ast.Attribute, ast.Call, ast.Subscript)) for n in ast.walk(node))


def _is_check(node: ast.AST) -> bool:
    if isinstance(node, ast.Assert):
        return _refers_to_something(node.test)
    if isinstance(node, (ast.With, ast.AsyncWith)):
        return any(call_name(item.context_expr) in _RAISES for item in node.items) and bool(node.body)
    if isinstance(node, ast.Call) and _UNITTEST_ASSERT.match(call_name(node)):
        return call_name(node).startswith("fail") or any(_refers_to_something(a) for a in node.args)
    return False


def assertion_free(source: str) -> list[str]:
    """Test functions that check nothing: no assert that refers to anything, no `pytest.raises`, no
    unittest assertion. An unparseable file: none here (validation reports it)."""
    tree = parse_module(source)
    if tree is None:
        return []
    return [name for name, fn in test_functions(tree) if not any(_is_check(n) for n in ast.walk(fn))]


def _bound(node: ast.stmt) -> set[str]:
    """Names a top-level statement binds in the module."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {node.name}
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return {(a.asname or a.name).split(".")[0] for a in node.names}
    names = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store):
            names.add(sub.id)
    return names


def _checks(node: ast.AST) -> set[str]:
    return {ast.unparse(n) for n in ast.walk(node) if _is_check(n)}


def _members(node: ast.ClassDef) -> dict[str, ast.stmt]:
    return {getattr(m, "name", ast.unparse(m)): m for m in node.body}


def _kept(ref: ast.stmt, new: ast.stmt | None, loosened: set[str], prefix: str = "") -> bool:
    """`new` keeps `ref`: unchanged; or, for a test whose assertion was disputed, every remaining check is
    still there; or, for a class, each member is kept in that sense."""
    if new is None:
        return False
    if ast.unparse(ref) == ast.unparse(new):
        return True
    name = getattr(ref, "name", "")
    if isinstance(ref, (ast.FunctionDef, ast.AsyncFunctionDef)) and f"{prefix}{name}" in loosened:
        return type(new) is type(ref) and _checks(ref) <= _checks(new)
    if isinstance(ref, ast.ClassDef) and isinstance(new, ast.ClassDef) and any(
            x.startswith(f"{name}::") for x in loosened):
        ours = _members(new)
        return all(_kept(m, ours.get(k), loosened, f"{name}::") for k, m in _members(ref).items())
    return False


def weakened(reference: str, new: str, loosened: set[str] | None = None) -> list[str]:
    """How `new` fails to keep the frozen `reference`: statements changed or removed, names rebound.
    `loosened`: tests (`name` or `Class::name`) with a disputed assertion, kept by their remaining checks."""
    ref, now = parse_module(reference), parse_module(new)
    if ref is None or now is None:
        return []  # an unparseable reply is refused by validation; an unparseable reference froze nothing
    problems = [f"changes or removes: {ast.unparse(node).splitlines()[0]}" for node in _not_kept(ref, now, loosened)]
    defs = {n.name for n in ref.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
    before = {ast.unparse(n) for n in ref.body}
    defined = set().union(*(_bound(n) for n in ref.body)) if ref.body else set()
    for node in now.body:
        if ast.unparse(node) in before:
            continue
        own = {node.name} & defs if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) else set()
        rebound = sorted((_bound(node) - own) & defined)
        if rebound:
            problems.append(f"rebinds {', '.join(rebound)}: {ast.unparse(node).splitlines()[0]}")
    return problems


def _not_kept(ref: ast.Module, now: ast.Module, loosened: set[str] | None) -> list[ast.stmt]:
    """The top-level statements of the frozen module `ref` that `now` changes or removes."""
    by_text = {ast.unparse(n): n for n in now.body}
    by_name = {n.name: n for n in now.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
    return [node for node in ref.body if ast.unparse(node) not in by_text
            and not _kept(node, by_name.get(getattr(node, "name", "")), loosened or set())]


def changed_tests(reference: str, new: str, loosened: set[str] | None = None) -> list[str]:
    """The tests of the frozen Python `reference` that `new` changes or removes, by name: `test_f`, and
    `Class::test_m` for a member of a class `new` keeps (`Class` when it is gone). A changed module-level
    statement (a table of cases) names no test."""
    ref, now = parse_module(reference), parse_module(new)
    if ref is None or now is None:
        return []
    classes = {n.name: n for n in now.body if isinstance(n, ast.ClassDef)}
    names = []
    for node in _not_kept(ref, now, loosened):
        if isinstance(node, ast.ClassDef) and node.name in classes:
            ours = _members(classes[node.name])
            names += [f"{node.name}::{k}" for k, m in _members(node).items()
                      if isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef))
                      and not _kept(m, ours.get(k), loosened or set(), f"{node.name}::")]
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.append(node.name)
    return names


def _calls_of(examples: Sequence[Example]) -> dict[str, list[str]]:
    """The examples' calls, as ast.unparse writes them, each with the results the examples expect of it."""
    out: dict[str, list[str]] = {}
    for ex in examples:
        tree = parse_module(ex.call)
        if tree is not None and tree.body:
            out.setdefault(ast.unparse(tree.body[0]), []).append(ex.expected)
    return out


def _contradicts(test: ast.expr, protected: dict[str, list[str]]) -> bool:
    """`call == literal` on an example's call, where the literal is none of the results the examples expect: the
    task's own example overrules it (the code must meet the example, so no program meets both)."""
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq)):
        return False
    for call, other in ((test.left, test.comparators[0]), (test.comparators[0], test.left)):
        expected = protected.get(ast.unparse(call))
        if expected is not None:
            try:
                value = ast.literal_eval(other)
                return all(value != ast.literal_eval(e) for e in expected)
            except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
                return False  # not a literal: it may be the example itself, written another way
    return False


def lines_dropped(reference: str, new: str) -> list[str]:
    """A frozen JS/TS test file: every non-blank line it had stays, in order (lines may be added)."""
    kept = iter(line.strip() for line in new.splitlines())
    missing = [line.strip() for line in reference.splitlines()
               if line.strip() and not any(line.strip() == k for k in kept)]
    return [f"changes or removes: {missing[0]}"] if missing else []


@dataclass
class TestGuard:
    """What the run may not change in the tests, and the disputes it accepted."""

    ledger: Ledger
    frozen: dict[str, str] = field(default_factory=dict)  # path -> the frozen source
    accepted: list[str] = field(default_factory=list)  # disputed assertions that were dropped
    loosened: dict[str, set[str]] = field(default_factory=dict)  # path -> tests with a disputed assertion
    last: list[tuple[str, str]] = field(default_factory=list)  # (path, assert) the last dispute dropped

    def check(self, path: str, before: str | None, after: str) -> str | None:
        """Why the reply may not write `after` at `path`, or None."""
        leaf = path.rsplit("/", 1)[-1]
        if self.ledger.is_protected(path):
            return (f"{path} is one of the project's own test files or its test configuration; the run may not "
                    "change it (it judges the work). Put new tests in a new file.")
        if before is None and leaf in TEST_CONFIG:
            return f"{path}: a new {leaf} would change how the project's tests are collected; it is refused."
        reference = self.frozen.get(path)
        if reference is not None and not path.endswith((".py", ".pyi")):
            problems = lines_dropped(reference, after)
            return f"{path} is frozen; the reply {'; '.join(problems[:3])}. {FROZEN_HINT}" if problems else None
        if reference is not None and (problems := weakened(reference, after, self.loosened.get(path))):
            return f"{path} is frozen; the reply {'; '.join(problems[:3])}. {FROZEN_HINT}"
        return None

    def changed(self, path: str, after: str) -> list[str]:
        """The frozen tests of the Python file `path` (as `path::name`) that `after` changes or removes."""
        reference = self.frozen.get(path)
        if reference is None or not path.endswith(".py"):
            return []
        return [f"{path}::{name}" for name in changed_tests(reference, after, self.loosened.get(path))]

    def freeze(self, paths: Sequence[str]) -> None:
        for path in paths:
            text = self.ledger.current(path)
            if text is not None:
                self.frozen[path] = text

    def release(self, path: str, names: Sequence[str]) -> list[str]:
        """Unfreeze the top-level tests (or test classes) `names` of `path`: they are broken in their own code
        (blame.py) and may be rewritten. Returns the names released."""
        reference = self.frozen.get(path)
        tree = parse_module(reference) if reference is not None else None
        if reference is None or tree is None:
            return []
        lines = reference.splitlines(keepends=True)
        released = []
        for node in reversed(tree.body):
            name = getattr(node, "name", None)
            if name in names and node.end_lineno:
                first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
                del lines[first - 1:node.end_lineno]
                released.append(name)
        self.frozen[path] = "".join(lines)
        return released

    def dispute(self, reply: str, examples: Sequence[Example]) -> list[str]:
        """Apply the reply's DISPUTE lines to the frozen references. Returns one line per dispute (accepted
        or refused, with why) for the record and the next request; what it dropped is in `last`."""
        notes: list[str] = []
        self.last = []
        protected_calls = _calls_of(examples)
        for match in _DISPUTE.finditer(reply):
            text = match.group(1).strip()
            tree = parse_module(text)
            if tree is None or len(tree.body) != 1 or not isinstance(tree.body[0], ast.Assert):
                notes.append(f"dispute refused: `{text[:120]}` is not one assert statement")
                continue
            target = ast.unparse(tree.body[0])
            test = tree.body[0].test
            sides = [test.left, *test.comparators] if isinstance(test, ast.Compare) else [test]
            if any(ast.unparse(side) in protected_calls for side in sides) and not _contradicts(test, protected_calls):
                notes.append(f"dispute refused: `{target}` checks the task's own example; the code must meet it")
                continue
            found = next(((p, d) for p, src in self.frozen.items() if (d := _drop(src, target)) is not None), None)
            if found is None:
                notes.append(f"dispute refused: `{target}` is not an assertion of a frozen test")
                continue
            path, (self.frozen[path], test) = found
            self.loosened.setdefault(path, set()).add(test)
            self.last.append((path, target))
            self.accepted.append(f"{path}: {target}")
            notes.append(f"dispute accepted: {path}: `{target}` was dropped from the frozen tests")
        return notes


    def follow(self, red_checked: dict[str, str]) -> None:
        """The run's test files lose what the last dispute dropped from their frozen copies: the assert itself, not
        the file replaced by its frozen copy (tests added after the freeze, or released and rewritten, stay). The
        content that passed its red run follows, so only tests the red run has not seen get one."""
        for path, target in self.last:
            entry = self.ledger.entries.get(path)
            current = entry.current if entry is not None else None
            dropped = _drop(current, target) if current is not None else None
            if entry is None or dropped is None:
                continue
            checked = red_checked.get(path)
            entry.current = dropped[0]
            if checked == current:
                red_checked[path] = dropped[0]
            elif checked is not None and (again := _drop(checked, target)) is not None:
                red_checked[path] = again[0]
        self.last = []


def _drop(source: str, assertion: str) -> tuple[str, str] | None:
    """`source` with the first assert statement equal to `assertion` replaced by `pass` (the rest of the
    file byte for byte, statements sharing its lines included) and the test it was in; None if there is none."""
    tree = parse_module(source)
    if tree is None:
        return None
    for name, fn in test_functions(tree):
        for node in ast.walk(fn):
            if isinstance(node, ast.Assert) and ast.unparse(node) == assertion and node.end_lineno \
                    and node.end_col_offset is not None:
                lines = source.splitlines(keepends=True)
                head = lines[node.lineno - 1].encode()[:node.col_offset].decode()  # offsets count UTF-8 bytes
                tail = lines[node.end_lineno - 1].encode()[node.end_col_offset:].decode()
                said = "pass  # disputed by the model\n" if not tail.strip() else "pass"
                lines[node.lineno - 1:node.end_lineno] = [head + said + (tail if tail.strip() else "")]
                return "".join(lines), name
    return None
