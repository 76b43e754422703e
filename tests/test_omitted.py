"""A reply that sends the user's file whole but leaves out a function, a constant, an import or the examples of
a docstring does not delete them: what the task did not ask to remove stays in the commit. Real loop, scripted
model, real sandbox, real pytest, real git."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import cli, events, git, summary, write_script

from greenloop.omitted import keep_omitted

USER_FILE = '''import unicodedata

SEPARATOR = "-"


def ascii_only(text):
    """The text without accents."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def slugify(text):
    """Lower-case words joined by hyphens.

    >>> slugify("Hello, World!")
    'hello-world'
    """
'''
PROJECT_TEST = ("from textkit.slug import ascii_only, slugify\n\n\ndef test_slug():\n"
                "    assert slugify('  A, b!  ') == 'a-b'\n\n\ndef test_ascii():\n    assert ascii_only('é') == 'e'\n")
# the model sends the one function it was asked for, as the whole file, its docstring cut to the first line
REPLY = ('```python\nimport re\n\n\ndef slugify(text):\n    """Lower-case words joined by hyphens."""\n'
         '    return re.sub(r"[^a-z0-9]+", SEPARATOR, ascii_only(text).lower()).strip(SEPARATOR)\n```\n')
ENV = {"GREENLOOP_REQUIRE_TESTS": "false", "GREENLOOP_COMMIT_MESSAGE": "template"}


@pytest.fixture
def project(repo: Path) -> Path:
    (repo / "textkit" / "slug.py").write_text(USER_FILE)
    (repo / "tests").mkdir()
    (repo / "tests" / "test_slug.py").write_text(PROJECT_TEST)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "stub")
    return repo


def run(repo: Path, tmp_path: Path, task: str, replies: list[dict]) -> dict:
    script = write_script(tmp_path / "s.json", replies)
    proc = cli("run", task, "--repo", str(repo), "--model", f"scripted:{script}", "--json",
               "--test-cmd", "python -m pytest -q -p no:cacheprovider tests", env=ENV)
    assert proc.stdout.strip(), proc.stderr
    return summary(proc)


def test_a_whole_file_reply_does_not_delete_what_it_left_out(project: Path, tmp_path: Path) -> None:
    s = run(project, tmp_path, "Implement slugify in textkit/slug.py as its docstring says",
            [{"step": "generate", "text": REPLY}])
    assert s["status"] == "success", s
    committed = git(project, "show", f"{s['commit']}:textkit/slug.py")
    assert "import unicodedata\n" in committed and 'SEPARATOR = "-"\n' in committed
    assert 'def ascii_only(text):\n    """The text without accents."""\n' in committed
    assert '    >>> slugify("Hello, World!")\n    \'hello-world\'\n' in committed  # the docstring's example
    assert "return re.sub(" in committed and committed.index("def ascii_only") < committed.index("def slugify")
    assert any("kept" in w and "ascii_only" in w and "the docstring of slugify" in w for w in s["warnings"]), s
    repairs = [e for e in events(s["trajectory"]) if e["kind"] == "repair" and e.get("restored")]
    assert repairs and "ascii_only" in repairs[0]["restored"]
    assert (project / "textkit" / "slug.py").read_text() == USER_FILE  # the user's checkout is untouched


def test_what_the_task_names_the_reply_may_drop(project: Path, tmp_path: Path) -> None:
    reply = ('```python\nimport re\n\n\ndef slugify(text):\n    """Lower-case words joined by hyphens.\n\n'
             '    >>> slugify("Hello, World!")\n    \'hello-world\'\n    """\n'
             '    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")\n```\n')
    (project / "tests" / "test_slug.py").write_text(PROJECT_TEST.replace("ascii_only, ", "").split("\n\n\ndef test_ascii")[0]
                                                    + "\n")
    git(project, "commit", "-qam", "ascii_only is going")
    s = run(project, tmp_path, "Remove ascii_only and SEPARATOR and implement slugify in textkit/slug.py",
            [{"step": "generate", "text": reply}])
    assert s["status"] == "success", s
    committed = git(project, "show", f"{s['commit']}:textkit/slug.py")
    assert "ascii_only" not in committed and "SEPARATOR" not in committed
    assert "import unicodedata\n" in committed  # not named: the import stays (unused, but the user's)


def test_what_the_run_itself_wrote_is_not_kept() -> None:
    """Only names of the file at the base commit come back: a helper of an earlier reply may go."""
    original = "def f(x):\n    pass\n"
    before = "def _helper(x):\n    return x\n\n\ndef f(x):\n    return _helper(x)\n"
    after = "def f(x):\n    return x\n"
    assert keep_omitted(after, before, original).restored == ()
    assert keep_omitted(after, before, before).source == "def _helper(x):\n    return x\n\n\ndef f(x):\n    return x\n"


def test_a_future_import_left_out_goes_back_to_the_top_of_the_file() -> None:
    """py_repo_tasks.py discount: the reply sent invoice.py whole with an import of its own first and without
    `from __future__ import annotations`, which was put back after that import: a SyntaxError of greenloop's."""
    before = ('"""Invoices."""\n\nfrom __future__ import annotations\n\nimport math\n\n\n'
              'def total(xs: list[int]) -> int:\n    return math.fsum(xs)\n')
    after = "from decimal import Decimal\n\n\ndef total(xs):\n    return sum(xs)\n"
    kept = keep_omitted(after, before, before)
    assert kept.source.startswith("from __future__ import annotations\n"), kept.source
    assert "import math\n" in kept.source and "from decimal import Decimal\n" in kept.source
    compile(kept.source, "invoice.py", "exec")
    script = keep_omitted("#!/usr/bin/env python\n# -*- coding: utf-8 -*-\n" + after, before, before).source
    assert script.startswith("#!/usr/bin/env python\n# -*- coding: utf-8 -*-\nfrom __future__ import annotations\n")


def test_a_rewritten_docstring_is_the_replys_and_broken_code_is_left_as_sent() -> None:
    before = 'def f(x):\n    """Double x.\n\n    >>> f(2)\n    4\n    """\n'
    reworded = 'def f(x):\n    """Twice x, for any number."""\n    return 2 * x\n'
    assert keep_omitted(reworded, before, before).source == reworded  # a new line: the model rewrote it
    broken = "def f(x):\n    return (\n"
    assert keep_omitted(broken, before, before).source == broken  # validation reports it, as sent
