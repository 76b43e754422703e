"""The task's own examples as the run's test file, written by greenloop when the model's test design is
unusable. The 0.5B model wrote the implementation into the test file, a test file with no test, or `import *`
in 14 of 37 HumanEval test designs under the shipped defaults, and an attempt that gets no tests asked for no
code: 9 of the tasks it lost never reached a test run (benchmarks/results/humaneval-0.5b-2026-12-05-require-
tests-partial). The examples are the user's words, which no model test may overrule anyway (check.py holds
every program to them); written as the run's tests they let the attempt go on to its code."""

from __future__ import annotations

from collections.abc import Sequence

from greenloop.examples import Example, module_name

HEADER = '"""The task\'s own examples, written as tests by greenloop (the model\'s tests were not usable)."""\n'


def example_tests(examples: Sequence[Example], target: str | None, test_path: str) -> str | None:
    """A reply in the fenced-file format that writes the examples to `test_path`, one test each, importing each
    function from the file whose docstring holds its example, else from `target` (validated as any reply);
    None without examples, or when a function has no module to import it from."""
    imports: dict[str, set[str]] = {}
    for ex in examples:
        module = module_name(ex.origin or target or "")
        if module is None or not ex.function:
            return None
        imports.setdefault(module, set()).add(ex.function)
    if not examples or not test_path.endswith(".py"):
        return None
    lines = [HEADER]
    lines += [f"from {module} import {', '.join(sorted(names))}" for module, names in imports.items()]
    for i, assertion in enumerate(dict.fromkeys(ex.assertion for ex in examples), 1):
        lines += ["", "", f"def test_task_example_{i}():", f"    {assertion}"]
    return f"{test_path}\n```python\n" + "\n".join(lines) + "\n```\n"
