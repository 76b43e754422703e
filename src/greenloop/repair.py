"""Deterministic repairs of a reply's Python files, no model call: an obvious missing import is added —
a module used by its plain name (`pytest.raises`, `re.match`), a well-known standard-library name used
bare (`factorial`, `List`, `Counter`), or, in a test, a function or class that exactly one of the run's
modules defines (`find_max` with no `from solution import find_max`). Small models make this mistake often; a
test that fails with NameError says nothing about the code, and an implementation that fails at import fails
every test."""

from __future__ import annotations

import ast
import builtins
from collections import Counter
from collections.abc import Mapping
from types import MappingProxyType

from greenloop.outline import is_string_statement, parse_module

# Modules a test may use by their plain name; a name is repaired only if nothing in the file binds it.
KNOWN_MODULES = frozenset({
    "pytest", "re", "math", "os", "sys", "json", "random", "string", "itertools", "functools", "collections",
    "datetime", "decimal", "fractions", "statistics", "typing", "pathlib", "tempfile", "io", "textwrap",
    "operator", "copy", "time", "unittest", "dataclasses", "enum", "heapq", "bisect", "hashlib", "base64",
})

# Standard-library names a file may use bare; each has one obvious home, so `from HOME import NAME` is added
# when the file uses the name and binds it nowhere (and has no `import *` that might).
KNOWN_NAMES = {name: home for home, names in {
    "math": "factorial sqrt isqrt gcd lcm floor ceil comb perm prod log2 log10 hypot",
    "functools": "reduce lru_cache cmp_to_key",
    "itertools": "permutations combinations combinations_with_replacement accumulate zip_longest groupby",
    "collections": "Counter defaultdict deque OrderedDict namedtuple",
    "heapq": "heappush heappop heapify nlargest nsmallest",
    "bisect": "bisect_left bisect_right insort",
    "typing": "List Dict Tuple Set Optional Union Any Callable Iterable Iterator Sequence",
    "dataclasses": "dataclass",
}.items() for name in names.split()}


def _bound_names(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            names.add(node.name)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            names.update(node.names)
    return names


def missing_imports(source: str, providers: Mapping[str, frozenset[str]] = MappingProxyType({})) -> list[str]:
    """The import statements the source lacks: known modules it uses (`name.attr`), known names it uses
    bare, and names that exactly one module of `providers` (module -> its top-level functions and classes)
    defines, where nothing in the file binds them."""
    tree = parse_module(source)
    if tree is None:
        return []
    bound = _bound_names(tree)
    starred = _star_import(tree)
    loaded = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)}
    modules = {node.value.id for node in ast.walk(tree)
               if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
               and isinstance(node.value.ctx, ast.Load)}
    free = {n for n in loaded if n not in bound and not hasattr(builtins, n)}
    lines = [f"import {n}" for n in sorted(free & modules & KNOWN_MODULES)]
    if not starred:
        lines += [f"from {KNOWN_NAMES[n]} import {n}" for n in sorted(free & KNOWN_NAMES.keys(),
                                                                        key=lambda n: (KNOWN_NAMES[n], n))]
        for name in sorted(free - KNOWN_NAMES.keys() - KNOWN_MODULES):
            homes = [m for m, names in providers.items() if name in names]
            lines += [f"from {homes[0]} import {name}"] if len(homes) == 1 else []
    return lines


def add_missing_imports(source: str, providers: Mapping[str, frozenset[str]] = MappingProxyType({})
                        ) -> tuple[str, list[str]]:
    """The source with the missing imports added after its docstring and `__future__` imports, and the
    import statements added. `providers`: as for missing_imports (give them for a test file only)."""
    names = missing_imports(source, providers)
    if not names:
        return source, []
    tree = ast.parse(source)
    insert_at = 0
    for node in tree.body:
        future = isinstance(node, ast.ImportFrom) and node.module == "__future__"
        if (is_string_statement(node) and insert_at == 0) or future:
            insert_at = node.end_lineno or 0
        else:
            break
    lines = source.splitlines(keepends=True)
    if insert_at and insert_at <= len(lines) and not lines[insert_at - 1].endswith("\n"):
        lines[insert_at - 1] += "\n"
    added = "".join(f"{n}\n" for n in names)
    return "".join(lines[:insert_at]) + added + "".join(lines[insert_at:]), names


def _star_import(tree: ast.Module) -> bool:
    """The file has a `from ... import *`, which may bind any name."""
    return any(isinstance(n, ast.ImportFrom) and any(a.name == "*" for a in n.names) for n in ast.walk(tree))


def _without(source: str, tree: ast.Module, drop: list[ast.stmt]) -> tuple[str, list[ast.stmt]]:
    """`source` without the top-level statements `drop` that have their lines to themselves (a line two
    statements touch, `;`, stays with both), and the statements removed."""
    shared = Counter(n for s in tree.body for n in _lines(s))
    drop = [s for s in drop if all(shared[n] == 1 for n in _lines(s))]
    gone = {n for s in drop for n in _lines(s)}
    return "".join(line for n, line in enumerate(source.splitlines(keepends=True), 1) if n not in gone), drop


def _calls_of(node: ast.AST) -> set[str]:
    return {n.func.id for n in ast.walk(node) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}


def _lines(stmt: ast.stmt) -> range:
    return range(stmt.lineno, (stmt.end_lineno or stmt.lineno) + 1)


def _self_test(stmt: ast.stmt, defined: set[str]) -> bool:
    """A module-level statement that runs the file's own checks at import: a call of a `test*` function the
    file defines, or an assert that calls a function the file defines."""
    if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call) and isinstance(stmt.value.func, ast.Name):
        return stmt.value.func.id.startswith("test") and stmt.value.func.id in defined
    return isinstance(stmt, ast.Assert) and bool(_calls_of(stmt) & defined)


def drop_self_tests(source: str, before: str | None) -> tuple[str, list[str]]:
    """The implementation source without the module-level self-tests the reply added (small models end a
    module with `test_f()` or `assert f(2) == 4`, which runs at every import, so one wrong expectation of
    theirs fails every test of the project), and the statements removed. Statements the file had before
    stay; so do `if __name__ == "__main__":` blocks, which do not run at import."""
    tree = parse_module(source)
    if tree is None:
        return source, []
    old = parse_module(before) if before else None
    kept = {ast.dump(s) for s in old.body} if old is not None else set()
    defined = {s.name for s in tree.body if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef))}
    text, drop = _without(source, tree, [s for s in tree.body if _self_test(s, defined) and ast.dump(s) not in kept])
    if not drop:
        return source, []
    return text.rstrip("\n") + "\n", [ast.get_source_segment(source, s) or ast.unparse(s) for s in drop]


def drop_shadowing_definitions(source: str, providers: Mapping[str, frozenset[str]]) -> tuple[str, list[str]]:
    """A test file without its own top-level copies of the functions a module of the run defines (`providers`,
    as for missing_imports), and the names dropped. A test that defines the function it tests checks its own
    copy and passes without the implementation: the 0.5B wrote the implementation into the test file in 3 of 37
    HumanEval test designs. A copy is dropped only where the real one takes its place: exactly one module
    defines the name, the file only calls it (a fake passed to monkeypatch, a fixture or a subclass stays), it
    is no test, and nothing in the file may bind the name otherwise (`import *`)."""
    tree = parse_module(source)
    if tree is None or _star_import(tree):
        return source, []
    called = _calls_of(tree)
    callees = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
    as_value = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)
                and id(n) not in callees}
    arguments = {a.arg for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
                 for a in [*n.args.posonlyargs, *n.args.args, *n.args.kwonlyargs]}
    copies = [s for s in tree.body if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef)) and not s.decorator_list
              and not s.name.startswith("test") and s.name in called and s.name not in as_value | arguments
              and sum(s.name in names for names in providers.values()) == 1]
    text, drop = _without(source, tree, copies)
    if not drop:
        return source, []
    return text.strip("\n") + "\n", [s.name for s in drop]
