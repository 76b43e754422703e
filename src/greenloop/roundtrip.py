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
from greenloop.outline import parse_module
from greenloop.probe import run_checks
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


def accepted(inverse: Inverse, candidates: Sequence[str], ws: Workspace, sandbox: Sandbox, python: Path,
             timeout_s: float) -> list[str]:
    """The values the module's own function takes without raising, run in the sandbox (it is the repository's
    code) as the module is now: `g(x) == g(x)` fails only where `g` raises (or gives a value unequal to itself)."""
    probes = [Example(f"{inverse.undoes}({v})", f"{inverse.undoes}({v})", inverse.path) for v in candidates]
    module = examples_module(probes, [inverse.path])
    if module is None or len(module.checks) != len(candidates):
        return []
    outcomes = run_checks(sandbox, python, ws.root, [module], timeout_s)
    return [v for v, check in zip(candidates, module.checks, strict=True)
            if (o := outcomes.get(check.id)) is not None and o.ok]


def test_source(inverse: Inverse, examples: Sequence[Example]) -> str:
    """The round trips as one test function, importing what it needs itself, to append to the run's test file."""
    f, g = inverse.function, inverse.undoes
    return (f"\n\ndef test_{f}_undoes_{g}():\n"
            f'    """Written by greenloop: the task asks for {f} to undo {g}."""\n'
            f"    from {module_name(inverse.path)} import {f}, {g}\n\n"
            + "".join(f"    {ex.assertion}\n" for ex in examples))


def derive(st: State, designed: ReplyOutcome, ws: Workspace, sandbox: Sandbox, python: Path, timeout_s: float,
           traj: Trajectory) -> None:
    """After the test design of a Python run: the round trips of the task's inverse functions join its examples,
    and the designed test file gets them as one more test."""
    target = st.target
    source = ws.read_text(target) if target is not None and st.runner is None else None
    tests = next((f for f in designed.written.values() if f.is_test and f.path.endswith(".py")), None)
    if target is None or source is None or tests is None:
        return
    added: list[Example] = []
    appended = ""
    for inverse in inverses(source, target, st.task):
        kept = accepted(inverse, values(tests.after, inverse), ws, sandbox, python, timeout_s)
        trips = [round_trip(inverse, v) for v in kept]
        if trips:
            added += trips
            appended += test_source(inverse, trips)
    if not added:
        return
    st.examples = list(dict.fromkeys([*st.examples, *added]))
    designed.written[tests.path] = replace(tests, after=tests.after.rstrip("\n") + "\n" + appended)
    traj.event("test_design", "round_trips", path=tests.path, examples=[e.assertion for e in added])
