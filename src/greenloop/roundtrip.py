"""Round trips: the task asks for a function that undoes another one of its module (`decode_cyclic`, whose
docstring says it takes strings encoded with `encode_cyclic`). The task then states a property of its own that no
model test can overrule: applied to the output of `encode_cyclic`, `decode_cyclic` gives back a string that
`encode_cyclic` turns into that output again, `g(f(g(x))) == g(x)`. Written that way it holds for any value `g`
accepts, whether or not `g` is one-to-one there (HumanEval/50's shift cipher folds upper case into lower case).

The values come from the run's own tests: the literal arguments of one-argument calls to either function, and the
literals those calls are compared with. A value the module's own `g` raises on (in the sandbox) is not used. The
round trips join the task's examples (anchors: agreement and the guard treat them as the task's own) and are
appended to the run's test file as one test greenloop wrote, so the commit carries them (HumanEval/38 with the
1.5B: right code, and the model's one test expected `decode_cyclic("abc") == "bac"`, hand-computed and wrong;
with no example nothing weighed it, and the run failed where the model alone was right)."""

from __future__ import annotations

import ast
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from greenloop.attempt import ReplyOutcome
from greenloop.examples import Example, examples_module, module_name
from greenloop.frozen import test_functions
from greenloop.outline import is_string_statement, parse_module
from greenloop.probe import Outcome, run_checks
from greenloop.protocols import Sandbox
from greenloop.state import State
from greenloop.trajectory import Trajectory
from greenloop.validate import unwritten
from greenloop.workspace import Workspace

# name prefixes of a function and the one it undoes, either way round (`decode_x` / `encode_x`, `from_x` / `to_x`)
PAIRS = (("decode", "encode"), ("decrypt", "encrypt"), ("decompress", "compress"), ("deserialize", "serialize"),
         ("unpack", "pack"), ("unescape", "escape"), ("unquote", "quote"), ("from", "to"), ("parse", "format"),
         ("loads", "dumps"))
MAX_VALUES = 4  # round trips per pair: each value is one more check of every program


@dataclass(frozen=True)
class Inverse:
    function: str  # the function the task asks for
    undoes: str  # the module's function it undoes: one positional parameter
    path: str  # the module both are defined in


def inverses(source: str, path: str, task: str) -> list[Inverse]:
    """The functions the task names that the module lacks or has only as a stub, each with the function of the
    module it undoes: the names pair up (PAIRS, or `un` + name), the other one is written, takes one argument, and
    the task or the stub's docstring names it."""
    tree = parse_module(source)
    if tree is None or module_name(path) is None:
        return []
    top = {n.name: n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    stubs = set(unwritten(source))
    found = []
    for name in dict.fromkeys(re.findall(r"[A-Za-z_]\w*", task)):
        if name in top and name not in stubs:
            continue
        told = f"{task}\n{ast.get_docstring(top[name]) or '' if name in top else ''}"
        found += [Inverse(name, other, path) for other, node in top.items()
                  if other != name and other not in stubs and _paired(name, other) and _one_argument(node)
                  and _named(other, told)]
    return found


def _named(name: str, text: str) -> bool:
    return re.search(rf"(?<![\w.]){re.escape(name)}(?!\w)", text) is not None


def _paired(a: str, b: str) -> bool:
    if a == f"un{b}" or b == f"un{a}":
        return True
    for p, q in (*PAIRS, *((q, p) for p, q in PAIRS)):
        if a.startswith(p) and b.startswith(q) and a[len(p):] == b[len(q):] and a[len(p):][:1] in ("", "_"):
            return True
    return False


def _one_argument(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    args = fn.args
    required = len(args.posonlyargs) + len(args.args) - len(args.defaults)
    return required == 1 and not args.kwonlyargs


def values(tests: str, inverse: Inverse) -> list[str]:
    """The literals the tests give either function of the pair (one positional argument, no keywords) or compare
    its result with, as source, in order of appearance."""
    tree = parse_module(tests)
    found: list[str] = []
    for node in ast.walk(tree) if tree is not None else ():
        if not (isinstance(node, ast.Compare) and len(node.ops) == 1 and isinstance(node.ops[0], ast.Eq)):
            continue
        sides = [node.left, node.comparators[0]]
        for side, other in (sides, sides[::-1]):
            if _calls(side, (inverse.function, inverse.undoes)):
                found += [ast.unparse(v) for v in (side.args[0], other) if _literal(v)]  # type: ignore[union-attr]
    return list(dict.fromkeys(found))[:MAX_VALUES]


def _calls(node: ast.expr, names: Sequence[str]) -> bool:
    if not (isinstance(node, ast.Call) and len(node.args) == 1 and not node.keywords):
        return False
    func = node.func
    return (func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else "") in names


def _literal(node: ast.expr) -> bool:
    try:
        return ast.literal_eval(node) is not None
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False


def round_trip(inverse: Inverse, value: str) -> Example:
    f, g = inverse.function, inverse.undoes
    return Example(f"{g}({f}({g}({value})))", f"{g}({value})", inverse.path)


def _run(checks: Sequence[Example], path: str, ws: Workspace, sandbox: Sandbox, python: Path,
         timeout_s: float) -> list[Outcome | None]:
    """Each check's outcome on the module as it is now, run in the sandbox (the module's function is the
    repository's code); None for one that never ran."""
    module = examples_module(checks, [path])
    if module is None or len(module.checks) != len(checks):
        return [None] * len(checks)
    outcomes = run_checks(sandbox, python, ws.root, [module], timeout_s)
    return [outcomes.get(c.id) for c in module.checks]


@dataclass(frozen=True)
class Claim:
    """`assert f(given) == result` in a test function of the run's tests: it says g(result) == given."""

    node: ast.Assert
    given: str
    result: str

    def check(self, inverse: Inverse) -> Example:
        return Example(f"{inverse.undoes}({self.result})", self.given, inverse.path)


def claims(tree: ast.Module, inverse: Inverse) -> list[Claim]:
    """The run's tests' asserts, each a statement of its own in a test function, of `f(literal) == literal`."""
    found = []
    for _, fn in test_functions(tree):
        for stmt in fn.body:
            test = stmt.test if isinstance(stmt, ast.Assert) else None
            if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq)):
                continue
            for call, other in ((test.left, test.comparators[0]), (test.comparators[0], test.left)):
                if _calls(call, (inverse.function,)) and _literal(call.args[0]) and _literal(other):  # type: ignore[attr-defined]
                    found.append(Claim(stmt, ast.unparse(call.args[0]), ast.unparse(other)))  # type: ignore[attr-defined,arg-type]
                    break
    return found


def without(source: str, tree: ast.Module, dropped: Sequence[ast.Assert]) -> str:
    """`source` without the dropped asserts; a module-level test function left with nothing else goes too (a test
    that asserts nothing would be vacuous), one in a class keeps a `pass`."""
    spans = {(a.lineno, a.end_lineno or a.lineno) for a in dropped}
    cut: list[tuple[int, int, str]] = []
    for name, fn in test_functions(tree):
        mine = [(a, b) for a, b in spans if fn.lineno <= a <= (fn.end_lineno or a)]
        if not mine:
            continue
        rest = [st for st in fn.body if (st.lineno, st.end_lineno or st.lineno) not in spans
                and not is_string_statement(st)]
        if not rest and "::" not in name:
            first = min([fn.lineno, *(d.lineno for d in fn.decorator_list)])
            cut.append((first, fn.end_lineno or fn.lineno, ""))
        else:
            cut += [(a, b, "" if rest else "pass") for a, b in mine]
    lines = source.splitlines(keepends=True)
    for a, b, keep in sorted(cut, reverse=True):
        indent = lines[a - 1][:len(lines[a - 1]) - len(lines[a - 1].lstrip())]
        lines[a - 1:b] = [f"{indent}{keep}\n"] if keep else []
    return "".join(lines)


def test_source(inverse: Inverse, examples: Sequence[Example]) -> str:
    """The round trips as one test function, importing what it needs itself, to append to the run's test file."""
    f, g = inverse.function, inverse.undoes
    return (f"\n\ndef test_{f}_undoes_{g}():\n"
            f'    """Written by greenloop: the task asks for {f} to undo {g}."""\n'
            f"    from {module_name(inverse.path)} import {f}, {g}\n\n"
            + "".join(f"    {ex.assertion}\n" for ex in examples))


def derive(st: State, designed: ReplyOutcome, ws: Workspace, sandbox: Sandbox, python: Path, timeout_s: float,
           traj: Trajectory) -> None:
    """After the test design of a Python run, for each inverse function the task asks for: an assert of the
    run's tests that says `f(a) == b` where the module's `g(b)` is not `a` is dropped (b cannot be what undoing
    a gives; HumanEval/38's `decode_cyclic("abc") == "bac"`: encode_cyclic("bac") is "acb"); the round trips join
    the task's examples and are appended to the test file as one more test."""
    target = st.target
    source = ws.read_text(target) if target is not None and st.runner is None else None
    tests = next((f for f in designed.written.values() if f.is_test and f.path.endswith(".py")), None)
    tree = parse_module(tests.after) if tests is not None else None
    if target is None or source is None or tests is None or tree is None:
        return
    added: list[Example] = []
    appended = ""
    dropped: list[ast.Assert] = []
    for inverse in inverses(source, target, st.task):
        found = values(tests.after, inverse)
        said = claims(tree, inverse)
        ran = _run([*(Example(f"{inverse.undoes}({v})", f"{inverse.undoes}({v})", target) for v in found),
                    *(c.check(inverse) for c in said)], target, ws, sandbox, python, timeout_s)
        trips = [round_trip(inverse, v) for v, o in zip(found, ran, strict=False) if o is not None and o.ok]
        # g returned another value than the claim's (not: raised, never ran), and g runs on the tests' values
        wrong = [c for c, o in zip(said, ran[len(found):], strict=True)
                 if trips and o is not None and not o.ok and not o.raised]
        dropped += [c.node for c in wrong]
        designed.warnings += [f"{tests.path}: `{ast.unparse(c.node)}` was dropped: {inverse.undoes}({c.result}) is not "
                              f"{c.given}, so {inverse.function}({c.given}) cannot be {c.result}" for c in wrong]
        if trips:
            added += trips
            appended += test_source(inverse, trips)
    if not added and not dropped:
        return
    st.examples = list(dict.fromkeys([*st.examples, *added]))
    kept = without(tests.after, tree, dropped)
    designed.written[tests.path] = replace(tests, after=kept.rstrip("\n") + "\n" + appended)
    traj.event("test_design", "round_trips", path=tests.path, examples=[e.assertion for e in added],
               dropped=[ast.unparse(a) for a in dropped])
