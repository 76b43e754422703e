"""Round trips: the task asks for a function that undoes another one of its module (`decode_cyclic`, whose
docstring says it takes strings encoded with `encode_cyclic`). The task then states a property of its own:
applied to the output of `encode_cyclic`, `decode_cyclic` gives back a string that `encode_cyclic` turns into that
output again, `g(f(g(x))) == g(x)`. Written that way it holds for any value `g` accepts, whether or not `g` is
one-to-one there (HumanEval/50's shift cipher folds upper case into lower case).

The values come from the run's own tests (after the test design of a Python run): the literal arguments of
one-argument calls to either function, and the literals those calls are compared with. A value the module's own
`g` raises on, run in the sandbox, is not used, and a `g` that gives one value for all (or None) is no inverse to
check. The round trips join the task's examples as anchors the code must meet (but they are not examples the task
wrote: agreement weighs a task with none as before) and are appended to the run's test file as one test greenloop
wrote, so the commit carries them.

A model assert `f(a) == b` where `g(b)` is another value than `a` may be wrong, or `a` may be no value `g` ever
gives (a JSON text with other spacing than `dumps` writes); once a program meets every round trip and `g(f(a)) ==
a` holds on it, `a` is what `g` gives and `b` is not what undoing it gives: the assert is dropped (check.py).
HumanEval/38 with the 1.5B: right code, and the model's one test hand-computed `decode_cyclic("abc") == "bac"`;
with no example nothing weighed it, and the run failed where the model alone was right. Not derived: runs without
the test design, JS/TS runs, and a continued run (its examples are the task's again; the appended test stays)."""

from __future__ import annotations

import ast
import keyword
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from greenloop.attempt import ReplyOutcome
from greenloop.examples import MAX_EXPR, Example, Refutable, examples_module, module_name
from greenloop.frozen import test_functions
from greenloop.outline import docstring, parse_module
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
Function = ast.FunctionDef | ast.AsyncFunctionDef


@dataclass(frozen=True)
class Inverse:
    function: str  # the function the task asks for
    undoes: str  # the module's function it undoes: one positional parameter
    path: str  # the module both are defined in


def inverses(source: str, path: str, task: str) -> list[Inverse]:
    """The functions the task asks for that undo a function of the module: a top-level stub of one argument, or
    one the module does not define at all that the task calls (`decode(...)`); its name pairs with a written
    top-level function of one argument (PAIRS; not any `un` + name: `unregister` does not undo `register` as
    `decode` undoes `encode`) that the task or the stub's docstring names."""
    tree = parse_module(source)
    if tree is None or module_name(path) is None:
        return []
    top: dict[str, Function] = {n.name: n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    defined = {n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
    stubs = set(unwritten(source))
    found = []
    for name in dict.fromkeys(re.findall(r"[A-Za-z_]\w*", task)):
        stub = top.get(name) if name in stubs else None
        asked = (stub is not None and _one_argument(stub)) or (
            name not in defined and re.search(rf"(?<![\w.]){re.escape(name)}\(", task) is not None)
        if not asked or keyword.iskeyword(name):
            continue
        told = f"{task}\n{docstring(stub) if stub is not None else ''}"
        found += [Inverse(name, other, path) for other, node in top.items()
                  if other != name and other not in stubs and _paired(name, other) and _one_argument(node)
                  and _named(other, told)]
    return found


def _named(name: str, text: str) -> bool:
    return re.search(rf"(?<![\w.]){re.escape(name)}(?!\w)", text) is not None


def _paired(a: str, b: str) -> bool:
    for p, q in (*PAIRS, *((q, p) for p, q in PAIRS)):
        if a.startswith(p) and b.startswith(q) and a[len(p):] == b[len(q):] and a[len(p):][:1] in ("", "_"):
            return True
    return False


def _one_argument(fn: Function) -> bool:
    args = fn.args
    required = len(args.posonlyargs) + len(args.args) - len(args.defaults)
    return required == 1 and not args.kwonlyargs


def _pairs(node: ast.Compare) -> list[tuple[ast.Call, ast.expr]]:
    """`call == other` both ways round, for an `==` of one call of one positional argument."""
    if len(node.ops) != 1 or not isinstance(node.ops[0], ast.Eq):
        return []
    sides = (node.left, node.comparators[0])
    return [(c, o) for c, o in (sides, sides[::-1])
            if isinstance(c, ast.Call) and len(c.args) == 1 and not c.keywords]


def _callee(call: ast.Call, module: str | None = None) -> str:
    """`f` of `f(x)` or `name.f(x)` (not of `b'x'.decode(...)` or `obj().f(x)`); with `module`, of `name.f(x)`
    only where `name` is that module's last name (`solution.decode`, not `json.loads` or `self.decode`)."""
    func = call.func
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
        return func.attr if module is None or func.value.id == module.rsplit(".", 1)[-1] else ""
    return func.id if isinstance(func, ast.Name) else ""


def _literal(node: ast.expr, floats: bool = True) -> bool:
    """A literal other than None, short enough to repeat in a test (and, unless `floats`, with no float in it:
    a float compared for equality after a round trip is a rounding question)."""
    try:
        value = ast.literal_eval(node)
    except (ValueError, TypeError, MemoryError, RecursionError):
        return False
    plain = floats or not any(isinstance(n, ast.Constant) and isinstance(n.value, (float, complex))
                              for n in ast.walk(node))
    return value is not None and plain and len(ast.unparse(node)) <= MAX_EXPR


def values(tests: ast.Module, inverse: Inverse) -> list[str]:
    """The literals the tests give either function of the pair or compare its result with, as source, in order."""
    found: list[str] = []
    for node in ast.walk(tests):
        for call, other in _pairs(node) if isinstance(node, ast.Compare) else ():
            if _callee(call) in (inverse.function, inverse.undoes):
                found += [ast.unparse(v) for v in (call.args[0], other) if _literal(v)]
    return list(dict.fromkeys(found))[:MAX_VALUES]


def claims(tests: ast.Module, inverse: Inverse) -> list[tuple[str, str, str]]:
    """The run's tests' asserts of `f(a) == b` (a statement of its own in a test function, no float in them):
    (the assert as ast.unparse writes it, a, b)."""
    found = []
    for _, fn in test_functions(tests):
        for stmt in fn.body:
            test = stmt.test if isinstance(stmt, ast.Assert) and isinstance(stmt.test, ast.Compare) else None
            found += [(ast.unparse(stmt), ast.unparse(call.args[0]), ast.unparse(other))
                      for call, other in (_pairs(test) if test is not None else [])[:1]
                      if _callee(call, module_name(inverse.path)) == inverse.function
                      and _literal(call.args[0], False) and _literal(other, False)]
    return found


def round_trip(inverse: Inverse, value: str) -> Example:
    f, g = inverse.function, inverse.undoes
    return Example(f"{g}({f}({g}({value})))", f"{g}({value})", inverse.path, derived=True)


def _run(checks: Sequence[Example], path: str, ws: Workspace, sandbox: Sandbox, python: Path,
         timeout_s: float) -> list[Outcome | None]:
    """Each check's outcome on the module as it is now, run in the sandbox (the module's function is the
    repository's code); None for one that never ran."""
    module = examples_module(checks, [path])
    if module is None or len(module.checks) != len(checks):
        return [None] * len(checks)
    outcomes = run_checks(sandbox, python, ws.root, [module], timeout_s)
    return [outcomes.get(c.id) for c in module.checks]


def test_source(inverse: Inverse, examples: Sequence[Example], taken: str) -> str:
    """The round trips as one test function, importing what it needs itself, to append to the run's test file
    (`taken`: its text, whose test names it must not shadow)."""
    f, g = inverse.function, inverse.undoes
    name = f"test_{f}_undoes_{g}"
    while re.search(rf"\bdef {name}\(", taken):
        name += "_again"
    return (f"\n\ndef {name}():\n"
            f'    """Written by greenloop: the task asks for {f} to undo {g}."""\n'
            f"    from {module_name(inverse.path)} import {f}, {g}\n\n"
            + "".join(f"    {ex.assertion}\n" for ex in examples))


def derive(st: State, designed: ReplyOutcome, ws: Workspace, sandbox: Sandbox, python: Path, timeout_s: float,
           traj: Trajectory) -> None:
    """After the test design of a Python run: the round trips of each inverse function the task asks for join its
    examples and the designed test file, and the model's asserts they may contradict are noted (`st.refutable`)."""
    target = st.target
    source = ws.read_text(target) if target is not None and st.runner is None else None
    tests = next((f for f in designed.written.values() if f.is_test and f.path.endswith(".py")), None)
    tree = parse_module(tests.after) if tests is not None else None
    if target is None or source is None or tests is None or tree is None:
        return
    added: list[Example] = []
    appended = ""
    for inverse in inverses(source, target, st.task):
        found, said = values(tree, inverse), claims(tree, inverse)
        g = inverse.undoes
        ran = _run([*(Example(f"{g}({v})", f"{g}({v})", target) for v in found),
                    *(Example(f"{g}({b})", a, target) for _, a, b in said)], target, ws, sandbox, python, timeout_s)
        # the values g takes and changes: a round trip of a value g gives back as it is checks nothing, and a g
        # that gives one value for all (or None, or its argument: `register(name)`) is nothing to undo
        gave = {v: o.got for v, o in zip(found, ran, strict=False)
                if o is not None and o.ok and o.got != repr(ast.literal_eval(v))}
        if len(set(gave.values()) - {"None"}) < 2:
            continue
        trips = [round_trip(inverse, v) for v in gave]
        added += trips
        appended += test_source(inverse, trips, tests.after + appended)
        f = inverse.function
        st.refutable += [Refutable(line, g, Example(f"{g}({f}({a}))", a, target), Example(f"{g}({b})", a, target),
                                   Example(f"{f}({a})", b, target), f"{g}({b}) is not {a}")
                         for (line, a, b), o in zip(said, ran[len(found):], strict=True)
                         if o is not None and not o.ok and not o.raised]
    if not added:
        return
    st.examples = list(dict.fromkeys([*st.examples, *added]))
    designed.written[tests.path] = replace(tests, after=tests.after.rstrip("\n") + "\n" + appended)
    traj.event("test_design", "round_trips", path=tests.path, examples=[e.assertion for e in added],
               refutable=[r.assertion for r in st.refutable])


def refute(st: State, ws: Workspace, sandbox: Sandbox, python: Path, timeout_s: float, traj: Trajectory) -> bool:
    """For a program that meets every example and round trip: the noted asserts its values contradict are dropped
    from the frozen tests (the summary names them). In one process: `g(f(a)) == a` holds (so `a` is what `g`
    gives), `g(b) == a` and `f(a) == b` fail without raising; and `g` is still the module's own. The others wait
    for a later program. Returns whether one was dropped."""
    pending = st.refutable
    if not pending or st.guard is None or not _unchanged(st, pending[0].witness.origin, pending):
        return False
    checks = [c for r in pending for c in (r.witness, r.contradiction, r.claim)]
    ran = _run(checks, pending[0].witness.origin, ws, sandbox, python, timeout_s)
    shown = [r for i, r in enumerate(pending)
             if (w := ran[3 * i]) is not None and w.ok and all(
                 o is not None and not o.ok and not o.raised for o in ran[3 * i + 1:3 * i + 3])]
    notes = st.guard.dispute("\n".join(f"DISPUTE: {r.assertion}" for r in shown), st.examples)
    accepted = {target for _, target in st.guard.last}
    st.guard.follow(st.red_checked)  # the files follow, as after any accepted dispute (draft.loosen)
    st.refutable = [r for r in pending if r.assertion not in accepted]
    traj.event("test", "round_trips_refuted", witnessed=[r.assertion for r in shown], notes=notes,
               reasons=[r.reason for r in shown])
    return bool(accepted)


def _unchanged(st: State, path: str, pending: Sequence[Refutable]) -> bool:
    """The module's functions the refutable asserts were weighed with are as the repository wrote them."""
    entry = st.ledger.entries.get(path)
    before = parse_module(entry.original or "") if entry is not None else None
    after = parse_module(entry.current or "") if entry is not None else None
    if before is None or after is None:
        return False
    names = {r.undoes for r in pending}
    return all(_definition(before, n) == _definition(after, n) is not None for n in names)


def _definition(tree: ast.Module, name: str) -> str | None:
    return next((ast.dump(n) for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
                 and n.name == name), None)
