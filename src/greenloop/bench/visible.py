"""The visible tests of a HumanEval task: its docstring's examples, run as doctests against solution.py.

Three things make the raw docstrings unusable as tests, measured over all 164 tasks with the reference
solution: 5 tasks write examples as `>>> f(x) == y` with no output line (doctest then expects no output and
fails on `True`); some expect `"21"` where the repr is `'21'`; one docstring (HumanEval/51) does not parse
as a doctest at all; and a few state a wrong result (HumanEval/47's median, HumanEval/116's order). A visible
test that the reference fails would make green impossible for any program. So examples are compared as
Python values when both sides are literals, an example without output that is an `==` must print True, each
example is parsed on its own (one that does not parse is dropped), and only the examples that the reference
solution meets are kept: that check runs once per task, in the sandbox. The examples themselves are copied
into the test file, so rewriting solution.py's docstring cannot change them."""

from __future__ import annotations

import doctest
import json
import tempfile
from pathlib import Path
from typing import Any

from greenloop.protocols import Sandbox

CHECK_TIMEOUT_S = 30.0

RUNNER = '''import ast
import doctest

import solution


class _Checker(doctest.OutputChecker):
    """doctest's comparison, then the same values written as literals ("21" is '21'), then an `==` example
    without output, which must print True."""

    def check_output(self, want, got, optionflags):
        if super().check_output(want, got, optionflags):
            return True
        if not want.strip():
            return got.strip() == "True"
        try:
            return ast.literal_eval(want.strip()) == ast.literal_eval(got.strip())
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            return False


def failures(examples):
    """The indexes of the examples that solution.py does not meet (each run on its own)."""
    failed = []
    for i, (source, want) in enumerate(examples):
        test = doctest.DocTest([doctest.Example(source, want)], dict(vars(solution)), "docstring", "solution.py",
                               0, None)
        runner = doctest.DocTestRunner(checker=_Checker(), optionflags=doctest.NORMALIZE_WHITESPACE)
        runner.run(test, out=lambda text: None)
        if runner.failures:
            failed.append(i)
    return failed
'''

TEST_FILE = '''"""The docstring's examples, run as doctests against solution.py: the visible tests of this task.
The examples are copied from the task here, so rewriting solution.py's docstring cannot change them."""
{runner}

EXAMPLES = {examples!r}


def test_docstring_examples():
    failed = failures(EXAMPLES)
    shown = "; ".join(f">>> {{EXAMPLES[i][0].strip()}} expected {{EXAMPLES[i][1].strip() or 'True'}}" for i in failed)
    assert not failed, f"{{len(failed)}} of {{len(EXAMPLES)}} docstring example(s) failed: {{shown}}"
'''

CHECK_SCRIPT = '''{runner}

import json
print(json.dumps(failures({examples!r})))
'''


def docstring_examples(docstring: str) -> list[tuple[str, str]]:
    """(source, expected output) of each `>>>` example, parsed one by one; an example that does not
    parse (or compile) is dropped."""
    out: list[tuple[str, str]] = []
    for chunk in docstring.split(">>>")[1:]:
        try:
            examples = doctest.DocTestParser().get_examples(">>>" + chunk)
        except ValueError:
            continue
        for ex in examples:
            try:
                compile(ex.source, "<example>", "exec")
            except SyntaxError:
                continue
            out.append((ex.source, ex.want))
    return out


def agreed_examples(problem: dict[str, Any], docstring: str, sandbox: Sandbox) -> list[tuple[str, str]]:
    """The docstring's examples that the task's reference solution meets, checked in the sandbox."""
    examples = docstring_examples(docstring)
    if not examples:
        return []
    with tempfile.TemporaryDirectory(prefix="greenloop-visible-") as tmp:
        (Path(tmp) / "solution.py").write_text(problem["prompt"] + problem["canonical_solution"])
        (Path(tmp) / "check_examples.py").write_text(CHECK_SCRIPT.format(runner=RUNNER, examples=examples))
        result = sandbox.run(["python", "check_examples.py"], Path(tmp), timeout_s=CHECK_TIMEOUT_S)
    if result.exit_code != 0 or result.timed_out:
        raise RuntimeError(f"{problem['task_id']}: the reference solution's example check failed: "
                           f"{result.stderr[-500:]}")
    failed = set(json.loads(result.stdout.strip().splitlines()[-1]))
    return [ex for i, ex in enumerate(examples) if i not in failed]


def test_file(examples: list[tuple[str, str]]) -> str:
    return TEST_FILE.format(runner=RUNNER, examples=examples)
