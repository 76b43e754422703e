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


def example_tests(examples: Sequence[Example], target: str | None) -> str | None:
    """The examples as a test file, one test each, each function imported from the file whose docstring holds its
    example, else from `target`; None without examples, or when a function has no module to import it from, or
    two (a second import would shadow the first). The caller validates it as any reply, and keeps it only if it
    is exactly this file (an example's literal may hold what a reply parser reads as a reply of its own)."""
    homes: dict[str, str] = {}
    for ex in examples:
        module = module_name(ex.origin or target or "")
        if module is None or not ex.function or homes.setdefault(ex.function, module) != module:
            return None
    if not examples:
        return None
    modules = sorted(set(homes.values()))
    lines = [HEADER] + [f"from {m} import {', '.join(sorted(n for n, h in homes.items() if h == m))}" for m in modules]
    for i, assertion in enumerate(dict.fromkeys(ex.assertion for ex in examples), 1):
        lines += ["", "", f"def test_task_example_{i}():", f"    {assertion}"]
    return "\n".join(lines) + "\n"
