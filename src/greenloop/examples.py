"""The task's own examples, as checks.

A task like "... Example: slugify('Hello, World!') == 'hello-world'." states what the result must do
in the user's words; greenloop holds every implementation to it, whatever the model's own tests say.
Recognised: `CALL == LITERAL` (also `=`, `->`, `→`, `➞`, `=>`, `==>`, `returns`, `gives`; `true`, `false` and
`null` as Python's) anywhere in the text, and doctest
pairs (`>>> CALL` followed by the expected value on the next line), where CALL is `name(literals)`; in a
Python function's docstring also `Input: x = [1, 2], k = 3` followed by `Output: [2]`, and
`For lst = [1, 2] the output should be 3` (also `the result should be`). In a task's text about one function of
one parameter (`parse_duration(text)`), also `LITERAL -> LITERAL` (`'45s' -> 45`, also `→`, `➞`, `=>`, `gives`,
`returns`, `becomes`, `should give`, `should return`, `should become`).

A bug report states what the code does now, which is no example of what it must do: `format_cents(-5) gives
'$-1.95'; it should give '-$0.05'` is the example `format_cents(-5) == '-$0.05'` (prose.py says how a sentence
is read).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from greenloop import validate
from greenloop.outline import docstring, parse_module
from greenloop.probe import Module, instrument
from greenloop.prose import arrow_kind, reading, says_wrong_now
from greenloop.types import Attempt

EXAMPLE_FAILS = "The task's own example fails: "  # how a missed example is told to the model and the user
ROUND_TRIP_FAILS = "A round trip of the task fails (the function must undo the one it names): "  # roundtrip.py
CALL_START = re.compile(r"(?<![\w.])[A-Za-z_][\w.]*\(")
_ARROW = re.compile(r"\s*(?:===|==>|==|->|→|➞|=>|=(?![=>])|\breturns\b|\bshould return\b|\bgives\b)\s*")
_WORDS = {"true": "True", "false": "False", "null": "None"}  # JSON's, as written in prose: `f(1) => true`
_WORD = re.compile(r"(true|false|null)\b")
_DOCTEST = re.compile(r"^[ \t]*>>> (.+)\n[ \t]*(?!>>>)(\S.*)$", re.M)  # [ \t]: see _INPUT_OUTPUT
MAX_EXPR = 300
MAX_WEIGHED = 400  # `call arrow` pairs read as examples from one text (each up to MAX_EXPR parses)
EXAMPLES_PATH = "<task examples>"


@dataclass(frozen=True)
class Example:
    call: str
    expected: str  # a Python literal, as written (a round trip's: an expression, roundtrip.py)
    origin: str = ""  # the file whose docstring holds it; "" for the task's text
    derived: bool = False  # a round trip greenloop derived (roundtrip.py): an anchor, but not one the task wrote

    @property
    def assertion(self) -> str:
        return f"assert {self.call} == {self.expected}"

    @property
    def function(self) -> str:
        """The name of the function the example calls."""
        return _called(self.call)


@dataclass(frozen=True)
class Refutable:
    """A run's test assert `f(a) == b` that a round trip contradicts once a program shows `a` is what the module's
    `g` gives (roundtrip.py): `witness`, `g(f(a)) == a`, holds on it, and `g(b)` is not `a`."""

    assertion: str  # as ast.unparse writes it
    undoes: str  # g
    witness: Example  # g(f(a)) == a
    contradiction: Example  # g(b) == a: must fail
    claim: Example  # f(a) == b: must fail
    reason: str  # "encode('bac') is not 'abc'"


def _parses(text: str, literal: bool) -> bool:
    """`literal`: a Python literal. Otherwise a self-contained call: `name(literal, key=literal)`;
    a call on an object or on a variable of the prose (`s.push(x)`) is no example greenloop can run."""
    try:
        node = ast.parse(text, mode="eval").body
        if literal:
            ast.literal_eval(node)
            return True
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
            return False
        for arg in [*node.args, *(k.value for k in node.keywords)]:
            ast.literal_eval(arg)
        return True
    except (SyntaxError, ValueError, TypeError, MemoryError, RecursionError):
        return False


def call_at(text: str, start: int) -> int | None:
    """End of the shortest call expression that starts at `start` (it ends at a ')'), if it is an example's
    (`_parses`). The first prefix that is an expression at all decides: its parentheses are the call's, so no
    longer one is a call of the name (`a(b)a(b)...` costs one parse per call, not one per ')' after it)."""
    for end in range(start + 1, min(len(text), start + MAX_EXPR) + 1):
        if text[end - 1] == ")" and _expression(text[start:end]):
            return end if _parses(text[start:end], literal=False) else None
    return None


def _expression(text: str) -> bool:
    try:
        ast.parse(text, mode="eval")
        return True
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return False


_GLUED = re.compile(r"[\w'\"(\[{]")  # right after a literal, it is part of a longer token: `""aaa"` is no `""`
_GOES_ON = re.compile(r"[ \t]*[-+*/%<>=&|^@]")  # the expression goes on: `19 - 5 - 6 = 8`


def literal_at(text: str, start: int) -> str | None:
    """The longest Python literal at `start`, without a sentence's closing punctuation; None when what is
    written there goes on past the literal (a typo, an arithmetic expression): no anchor. A comment after
    it is no part of it."""
    window = text[start:start + MAX_EXPR]
    for end in range(len(window), 0, -1):
        candidate = window[:end].strip()
        if (candidate and not candidate.endswith((".", ",", ";", ":")) and _parses(candidate, literal=True)
                and not _commented(candidate)):
            after = start + len(window[:end].rstrip())
            return None if _GLUED.match(text, after) or _GOES_ON.match(text, after) else candidate
    return None


def _commented(candidate: str) -> bool:
    """`24 # sum of 21 + 3` parses as the literal 24: the comment is not part of it."""
    node = ast.parse(candidate, mode="eval").body
    lines = candidate.splitlines()
    return (node.end_lineno, node.end_col_offset) != (len(lines), len(lines[-1].encode()))


def _ambiguous(expected: str) -> bool:
    """`("Venus")` in prose is a string to Python and most likely a tuple of one to its writer: no anchor."""
    return expected.startswith("(") and not isinstance(ast.literal_eval(expected), tuple)


# A docstring is the repository's: no two parts of a pattern may match the same blanks, or a line of spaces or a
# run of blank lines backtracks for hours (`\s*\n(?:\s*\n)*` was exponential; test_redteam_context.py)
_INPUT_OUTPUT = re.compile(r"^[ \t]*Input[ \t]*:(.*)\n(?:[ \t]*\n)*[ \t]*Output[ \t]*:(.*)$", re.M)
_FOR_SHOULD = re.compile(r"^[ \t]*For[ \t]+([A-Za-z_]\w*[ \t]*=.*?\S),?[ \t]+the[ \t]+(?:output|result)[ \t]+should"
                         r"[ \t]+be[ \t]+(.+)$", re.M | re.I)


def _input_output(tree: ast.Module, origin: str) -> list[Example]:
    """`Input: a = [1, 2], k = 3` then `Output: [2]`, or `For lst = [1, 2] the output should be 3`, in the
    docstring of a function of the module. The names must be the function's parameters (then they are passed
    by name), or as many as it has (then they are passed in order); else the sentence is no call of it."""
    found = []
    for f in (n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)):
        doc = docstring(f)
        for m in [*_INPUT_OUTPUT.finditer(doc), *_FOR_SHOULD.finditer(doc)]:
            arguments, result = m.group(1).strip().rstrip("."), m.group(2).strip()
            call, expected = _call_of(f, arguments) if arguments else None, literal_at(result, 0)
            if call is not None and expected is not None and not _ambiguous(expected):
                found.append(Example(call, expected, origin))
    return found


def _call_of(f: ast.FunctionDef, arguments: str) -> str | None:
    """`f(arguments)` for `arguments` like `a = [1], k = 3`, fitted to f's parameters; None if it does not fit."""
    call = f"{f.name}({arguments})"
    if not _parses(call, literal=False):
        return None
    node = ast.parse(call, mode="eval").body
    assert isinstance(node, ast.Call)
    params = [a.arg for a in [*f.args.posonlyargs, *f.args.args] if a.arg not in ("self", "cls")]
    given = [k.arg for k in node.keywords]
    if node.args or all(k in params + [a.arg for a in f.args.kwonlyargs] for k in given):
        return call
    if len(given) == len(params) and None not in given:  # `For lst = [1]` of `def f(arr)`: in order
        return f"{f.name}({', '.join(ast.unparse(k.value) for k in node.keywords)})"
    return None


def extract(task: str, origin: str = "", functions: Iterable[str] = ()) -> list[Example]:
    """The examples written in `task` (a task's text, or the content of a file it names: `origin`). In a
    Python file, an example must call a name the file defines or imports (HumanEval/81's docstring calls
    `grade_equation` in a file that defines `numerical_letter_grade`: no program of that file can meet it).
    `functions`: the one-parameter functions of the files the task names (`one_parameter_functions`), which
    the task may name without parentheses (`Fix normalize_name in names.py: 'a-b' should give 'A-B'`)."""
    tree = parse_module(task) if origin.endswith(".py") else None
    found = _extract(task, origin, tree)
    if not origin:
        return list(dict.fromkeys(found + _pairs(task, functions)))
    if tree is None:  # a file that does not parse: nothing to hold the examples to
        return found
    names = _top_level_names(tree)
    return [ex for ex in found if _called(ex.call) in names]


_SIGNATURE = re.compile(r"(?<![\w.])([A-Za-z_]\w*)\(\s*(?!e?s\s*\))([A-Za-z_]\w*)\s*\)")  # not `value(s)`
_PAIR_ARROW = re.compile(r"[ \t]*(?:->|→|➞|=>|\b(?:should[ \t]+(?:give|return|become)|gives|returns|becomes)\b)[ \t]*")
_BOUNDARY = " \t\n,:;("
_LIST_START = re.compile(r"(?::|\be\.g\.,?|\bfor example,?|\bsuch as)[ \t]*$", re.I)
_LIST_NEXT = re.compile(r"^[ \t]*(?:[,;]|,?[ \t]+and)[ \t]*$")
_CODE_LIKE = re.compile(r"_|\d|[a-z][A-Z]")  # normalize_name, parse2, toDict: no English word like `format`


def one_parameter_functions(source: str) -> set[str]:
    """The module's top-level functions that take exactly one argument."""
    tree = parse_module(source)
    return set() if tree is None else {
        f.name for f in tree.body if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))
        and len([*f.args.posonlyargs, *f.args.args]) == 1 and not (f.args.vararg or f.args.kwonlyargs)}


def _pairs(task: str, known: Iterable[str]) -> list[Example]:
    """`'1h30m' -> 5400, '45s' -> 45` in a task about one function of one parameter (`parse_duration(text)`, or
    a name of `known` the task mentions as code: `normalize_name`): the example `parse_duration('1h30m') == 5400`.
    Prose often writes a helper's examples without its name. A pair with a sign or a verb of the present must
    stand in a list (after a colon, `e.g.`, `for example` or `such as`, or after the pair before it: not `mean of
    [1, 2] -> 2` or `from 'utf-8' -> 'latin-1'`); one with `should give` may stand anywhere. A bug report's value
    of today is read as prose.py says."""
    functions = {m.group(1) for m in _SIGNATURE.finditer(task)} | {
        n for n in known if _CODE_LIKE.search(n) and re.search(rf"(?<![\w.]){re.escape(n)}(?![\w(])", task)}
    if len(functions) != 1:
        return []
    (name,) = functions
    found: list[Example] = []
    last_end = -1
    for arrow in _PAIR_ARROW.finditer(task):
        left = _literal_before(task, arrow.start())
        right = _literal_after(task, arrow.end())
        if left is None or right is None or left.rstrip().endswith(","):
            continue
        start, end = arrow.start() - len(left), arrow.end() + len(right)
        listed = bool(_LIST_START.search(task[max(0, start - 20):start]) or
                      (last_end >= 0 and _LIST_NEXT.match(task[last_end:start])))
        if not listed and arrow_kind(arrow.group()) != "desired":
            continue
        value = _meant(task, start, end, arrow.group(), right)
        if value and not _ambiguous(left) and not _ambiguous(value):
            found.append(Example(f"{name}({left})", value))
            last_end = end
    return found


def _meant(text: str, start: int, end: int, arrow: str, value: str) -> str:
    """The value the code must give, for `value` written after `arrow` (text[start:end] is the example): `value`,
    or the one the sentence says it should be instead of it, or "" when it is a value of today and nothing says
    what it should be (prose.py)."""
    kind = arrow_kind(arrow)
    said, instead = reading(text, end, kind, literal_at)
    if said == "current":
        return instead
    if said == "none" and kind != "desired" and says_wrong_now(text, start, end):
        return ""
    return value


_PAIR_END = re.compile(r"[ \t]*(?:[,;)]|\.(?:\s|$)|\n|$)|[ \t]+(?:and\b|or\b|\()")


def _literal_after(text: str, start: int) -> str | None:
    """The shortest Python literal at `start` that ends its item of a list of examples (`5400, '45s' -> 45`:
    `5400`, not the tuple `5400, '45s'`)."""
    for end in range(start + 1, min(len(text), start + MAX_EXPR) + 1):
        candidate = text[start:end]
        if _PAIR_END.match(text, end) and _parses(candidate, literal=True):
            return candidate
    return None


def _literal_before(text: str, end: int) -> str | None:
    """The shortest Python literal that ends at `end` and starts after a space, a comma, a colon or the text's
    start (`f(1)` is no literal `(1)`)."""
    for start in range(end - 1, max(-1, end - MAX_EXPR), -1):
        if (start == 0 or text[start - 1] in _BOUNDARY) and text[start] not in " \t\n":
            candidate = text[start:end]
            if _parses(candidate, literal=True):
                return candidate
    return None


def _called(call: str) -> str:
    func = ast.parse(call, mode="eval").body
    return func.func.id if isinstance(func, ast.Call) and isinstance(func.func, ast.Name) else ""


def _top_level_names(tree: ast.Module) -> set[str]:
    """The names a module binds at its top level."""
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name))
    return names


def _extract(task: str, origin: str, tree: ast.Module | None) -> list[Example]:
    found: list[Example] = _input_output(tree, origin) if tree is not None else []
    for m in _DOCTEST.finditer(task):
        call, expected = m.group(1).strip(), m.group(2).strip()
        if _parses(call, literal=False) and _parses(expected, literal=True):
            found.append(Example(call, expected, origin))
    loose: list[Example] = []  # `CALL = LITERAL`: prose also writes a definition so (`tri(1) = 3`)
    pos, weighed = 0, 0
    while (m := CALL_START.search(task, pos)) is not None:
        pos = m.end()
        end = call_at(task, m.start())
        if end is None:
            continue
        arrow = _ARROW.match(task, end)
        if arrow is None:
            continue
        weighed += 1
        if weighed > MAX_WEIGHED:  # a named file is the repository's: `f(1)=` repeated would take hours
            break
        expected = literal_at(task, arrow.end())
        if expected is None and (word := _WORD.match(task, arrow.end())) is not None:
            found.append(Example(task[m.start():end], _WORDS[word.group(1)], origin))
            pos = word.end()
        elif expected is not None:
            after = arrow.end() + len(expected)
            value = _meant(task, m.start(), after, arrow.group(), expected)
            if value != expected:  # a bug report's value of today: the one it should be instead, if it says
                if value and not _ambiguous(value):
                    found.append(Example(task[m.start():end], value, origin))
                pos = after
                continue
            if not _ambiguous(expected):
                (loose if arrow.group().strip() == "=" else found).append(Example(task[m.start():end], expected,
                                                                                  origin))
            pos = arrow.end() + len(expected)
    return list(dict.fromkeys(found + _one_kind(loose, found)))


def _one_kind(loose: list[Example], found: list[Example]) -> list[Example]:
    """The `CALL = LITERAL` examples of the functions whose every example gives one type of result. HumanEval/130
    defines its sequence as `tri(1) = 3` and shows the function as `tri(3) = [1, 3, 2, 8]`: no example of tri."""
    kinds: dict[str, set[type]] = {}
    for ex in loose + found:
        kinds.setdefault(_called(ex.call), set()).add(type(ast.literal_eval(ex.expected)))
    return [ex for ex in loose if len(kinds[_called(ex.call)]) == 1]


def module_name(path: str) -> str | None:
    """The importable module of a `.py` path (`src/` and `__init__` as validate.module_name reads
    them); None when the path is no module an example can import from."""
    if not path.endswith(".py"):
        return None
    name = validate.module_name(path)
    return name if name and all(p.isidentifier() for p in name.split(".")) else None


def examples_module(examples: Sequence[Example], implementation_paths: Iterable[str]) -> Module | None:
    """The examples as one instrumented check module (ids tagged `task:`); None without examples."""
    if not examples:
        return None
    return instrument(EXAMPLES_PATH, examples_source(examples, implementation_paths), "task:")


def examples_source(examples: Iterable[Example], implementation_paths: Iterable[str]) -> str:
    """A test module that imports the implementation's names (and those of the files the examples
    come from) and asserts each example. A module that fails to import is named in the `got` of each
    example that then fails with NameError (probe's runner provides `_gl_import_failed`)."""
    examples = list(examples)
    lines = []
    for path in dict.fromkeys([*implementation_paths, *(ex.origin for ex in examples if ex.origin)]):
        name = module_name(path)
        if name:
            lines += ["try:", f"    from {name} import *", "except Exception as _gl_exc:",
                      f"    _gl_import_failed({name!r}, _gl_exc)"]
    lines.append("def test_task_examples():")
    lines += [f"    {ex.assertion}" for ex in examples]
    return "\n".join(lines) + "\n"


def contested(history: Sequence[Attempt]) -> str | None:
    """For a failed run: every program judged (two at least) returned one and the same value on one of the task's
    examples, and not the one it states, though the fixes were told of it. The example itself may be wrong
    (HumanEval/116: its docstring's examples contradict its own rule, and every draft followed the rule): the
    user is told to check it. A program that raised there, or never got there, says nothing of the example."""
    judged = [a.missed for a in history if a.outcome == "tests_failed"]
    first = judged[0] if judged else None
    if (len(judged) < 2 or first is None or first.returned is None or any(m != first for m in judged)
            or not first.line.startswith(EXAMPLE_FAILS)):  # a round trip greenloop wrote is no example to check
        return None
    return (f"all {len(judged)} programs judged failed the task's example the same way "
            f"({first.line.removeprefix(EXAMPLE_FAILS)}): check that example; if it is right, this model does not "
            "meet it")
