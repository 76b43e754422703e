"""Differential probes: inputs made from the task's own examples, and what each of several programs returns on
them. Two implementations that both meet a task's examples can still differ elsewhere; the inputs where they
differ are found by varying the examples' arguments (an int one more and one less, a list reversed or emptied,
a string upper-cased ...), the way differential testing finds them, without a model call. The seeds are the
examples' calls and the calls the task's file writes in prose: `name(literals)` with any arrow (`➞`, `=> true`),
and in a function's docstring `Input: a = [1, 2], k = 3` or `For n = 5` lines (no expected value is needed).

Every program runs in one sandboxed process, each in a module of its own, each call under a time limit; a call
that raises gives `!ExceptionName`. Nothing here decides which program is right (crosscheck.py does)."""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import zip_longest
from pathlib import Path

from greenloop.examples import CALL_START, Example, call_at, literal_at
from greenloop.outline import docstring, parse_module
from greenloop.probe import payload_file
from greenloop.protocols import Sandbox

MAX_CALLS = 48
CALL_LIMIT_S = 1.0  # each call; a program's import gets five times that
MARKER = "@@greenloop-probes@@"

MISSING = "<no such function>"  # a probe call's output when the program does not define the function it calls
RUNNER = r'''
import ast, io, json, signal, sys, types

def _alarm(signum, frame):
    raise TimeoutError("probe call timed out")

signal.signal(signal.SIGALRM, _alarm)
with open(sys.argv[1], encoding="utf-8") as _fh:
    payload = json.load(_fh)
limit = payload["limit"]
real_stdout = sys.stdout
rows = []
for source in payload["programs"]:
    sys.stdout = io.StringIO()
    module = types.ModuleType(payload["module"])
    module.__file__ = payload["path"]
    try:
        signal.setitimer(signal.ITIMER_REAL, limit * 5)
        exec(compile(source, payload["path"], "exec"), module.__dict__)
    except BaseException:
        rows.append(None)
        continue
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    row = {"examples": [], "outputs": [], "lines": []}
    for assertion in payload["examples"]:
        try:
            signal.setitimer(signal.ITIMER_REAL, limit)
            exec(assertion, dict(module.__dict__))
            row["examples"].append(True)
        except BaseException:
            row["examples"].append(False)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
    for name, args in payload["calls"]:
        if not callable(module.__dict__.get(name)):  # the program has no such function: no call, no crash
            row["outputs"].append("!" + payload["missing"])
            row["lines"].append(0)
            continue
        line = 0
        try:
            signal.setitimer(signal.ITIMER_REAL, limit)
            value = module.__dict__[name](*[ast.literal_eval(a) for a in args])
            out = repr(value)[:300]
        except BaseException as exc:
            out = "!" + type(exc).__name__
            tb = exc.__traceback__
            while tb is not None:  # the program's last line the error passed through
                if tb.tb_frame.f_code.co_filename == payload["path"]:
                    line = tb.tb_lineno or 0
                tb = tb.tb_next
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        row["outputs"].append(out)
        row["lines"].append(line)
    rows.append(row)
sys.stdout = real_stdout
print(payload["marker"] + json.dumps(rows))
'''


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple[str, ...]  # each a Python literal, as source

    def show(self) -> str:
        return f"{self.name}({', '.join(self.args)})"


@dataclass(frozen=True)
class Row:
    """One program on the probes: which task examples it meets, and what each call gave."""

    examples: tuple[bool, ...]
    outputs: tuple[str, ...]
    lines: tuple[int, ...]  # per call: the program's last line a raised error passed through (0: none)

    @property
    def meets_examples(self) -> bool:
        return all(self.examples)


Seed = tuple[str, list[object]]  # a function's name and its positional arguments
_INPUT_LINE = re.compile(r"^[ \t]*Input[ \t]*:(.*)$", re.M)  # [ \t]: see examples._INPUT_OUTPUT
_FOR_LINE = re.compile(r"\bFor (\w+) = (.+)$", re.M)


def _call_of(call: str, params: dict[str, list[str]] | None = None) -> Seed | None:
    """`name(literal, ..., key=literal)` as a seed; keywords are put in their place by `params` (name -> the
    function's parameter names)."""
    try:
        node = ast.parse(call, mode="eval").body
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
            return None
        args = [ast.literal_eval(a) for a in node.args]
        if node.keywords:
            names = (params or {}).get(node.func.id, [])
            given = {k.arg: ast.literal_eval(k.value) for k in node.keywords}
            if len(names) != len(args) + len(given) or set(names[len(args):]) != set(given):
                return None
            args += [given[n] for n in names[len(args):]]
        return node.func.id, args
    except (SyntaxError, ValueError, TypeError, MemoryError, RecursionError):
        return None


def seed_calls(source: str) -> list[Seed]:
    """The calls to the file's own functions that its text writes out (docstrings and comments included)."""
    tree = parse_module(source)
    if tree is None:
        return []
    functions = [n for n in tree.body if isinstance(n, ast.FunctionDef)]
    params = {f.name: [a.arg for a in f.args.args] for f in functions}
    seeds: list[Seed] = []
    for m in CALL_START.finditer(source):
        if m.group()[:-1] in params and (end := call_at(source, m.start())) is not None:
            seeds += [seed] if (seed := _call_of(source[m.start():end], params)) else []
    for f in functions:
        doc = docstring(f)
        lines = [_call_of(f"{f.name}({m.group(1).strip()})", params) for m in _INPUT_LINE.finditer(doc)]
        if len(params[f.name]) == 1:
            lines += [_call_of(f"{f.name}({value})", params) for m in _FOR_LINE.finditer(doc)
                      if m.group(1) == params[f.name][0] and (value := literal_at(m.group(2), 0))]
        seeds += [seed for seed in lines if seed is not None]
    return seeds


def _sortable(items: Sequence[object]) -> bool:
    try:
        sorted(items)  # type: ignore[type-var]
        return True
    except TypeError:
        return False


def variants(value: object) -> list[object]:
    """Values near `value` that a function of the same argument is likely to be asked about."""
    if isinstance(value, bool):
        return [not value]
    if isinstance(value, int):
        return [0, 1, -1, value + 1, value - 1, value * 2]
    if isinstance(value, float):
        return [0.0, -value, value + 0.5, value * 2]
    if isinstance(value, str):
        return ["", value[::-1], value.upper(), value[: len(value) // 2], value + value[:1], value + " " + value,
                value[-1:], value[:1]]
    if isinstance(value, (list, tuple)):
        kind = type(value)
        seqs: list[object] = [kind(), value[::-1], value[:1], value + value[-1:], value[1:]]
        if value and _sortable(value):
            seqs.append(kind(sorted(value)))  # type: ignore[type-var]
        if value:
            seqs += [kind([v, *value[1:]]) for v in variants(value[0])[:2]]
        return seqs
    if isinstance(value, dict):
        return [{}, dict(list(value.items())[:1])]
    return []


def _shown(name: str, args: list[object]) -> Call | None:
    """The call written as literals, if they read back as the same values (no nan, no inf, no objects)."""
    try:
        shown = tuple(repr(a) for a in args)
        same = all(ast.literal_eval(s) == a for s, a in zip(shown, args, strict=True))
    except (ValueError, SyntaxError, TypeError, RecursionError, MemoryError):
        return None
    return Call(name, shown) if same else None


def _varied(name: str, args: list[object]) -> list[Call]:
    """The call with one argument at a time replaced by each of its variants."""
    calls = (_shown(name, [*args[:i], v, *args[i + 1:]]) for i, arg in enumerate(args) for v in variants(arg))
    return [c for c in calls if c is not None]


def probe_calls(examples: Sequence[Example], source: str = "") -> list[Call]:
    """The seeds (the examples' calls, then those written in `source`, the task file as it was), then each
    argument of each seed varied in turn, the seeds taken round-robin; at most MAX_CALLS."""
    seeds = [c for ex in examples if (c := _call_of(ex.call)) is not None] + seed_calls(source)
    calls: dict[Call, None] = dict.fromkeys(c for name, args in seeds if (c := _shown(name, args)))
    for round_ in zip_longest(*(_varied(name, args) for name, args in seeds)):
        calls.update(dict.fromkeys(c for c in round_ if c is not None))
    return list(calls)[:MAX_CALLS]


def run_probes(programs: Sequence[str], path: str, module: str, examples: Sequence[Example], calls: Sequence[Call],
               sandbox: Sandbox, python: Path, workdir: Path, timeout_s: float) -> list[Row | None]:
    """Each program (the source of the file `path`, importable as `module`) on the task's examples and the
    calls. None for a program that did not load, or for all of them when the probe process did not finish."""
    payload = json.dumps({"programs": list(programs), "path": path, "module": module, "limit": CALL_LIMIT_S,
                          "examples": [ex.assertion for ex in examples], "marker": MARKER, "missing": MISSING,
                          "calls": [[c.name, list(c.args)] for c in calls]})
    with payload_file(workdir, payload) as name:
        result = sandbox.run([str(python), "-B", "-c", RUNNER, name], workdir, timeout_s=timeout_s)
    line = next((ln for ln in reversed(result.stdout.splitlines()) if ln.startswith(MARKER)), None)
    if line is None:
        return [None] * len(programs)
    try:  # the programs ran in this process: a line they forged must not crash the run
        rows = json.loads(line[len(MARKER):])
        found = [Row(tuple(r["examples"]), tuple(map(str, r["outputs"])),
                     tuple(n if type(n) is int else 0 for n in r["lines"]))  # a forged Infinity: no OverflowError
                 if r is not None else None for r in rows]
    except (ValueError, KeyError, TypeError, RecursionError):  # RecursionError: `[[[...` nested deep
        return [None] * len(programs)
    if len(found) != len(programs) or any(r is not None and not len(r.outputs) == len(r.lines) == len(calls)
                                          for r in found):
        return [None] * len(programs)
    return found
