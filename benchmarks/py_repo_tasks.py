"""Python benchmark: nine small repository tasks of the kind users give, through the whole loop with a real model.

The project, `ledgerkit`, is a small package with its own pytest suite: money formatting, an invoice class, and a
nested `text` package. The tasks are new helpers (one in a nested package, one in a new package), two bug fixes in
existing functions, a new class, a new method on an existing class, and a helper that must use an existing function.
Each task's test is hidden from the run; a green run counts as solved only when that test and the project's own
suite pass on the run's branch (in the jail). A green run that fails them is a false green.

    python benchmarks/py_repo_tasks.py --check                       # every hidden test passes on its reference
    python benchmarks/py_repo_tasks.py --model local:PATH [--tasks slug,stack] [--label NAME]

Settings are the shipped defaults unless GREENLOOP_* variables in the environment say otherwise; they are recorded.
Writes benchmarks/results/py-repo-tasks-<model>-<date>[-<label>].json and keeps each run's trajectory beside it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

from repotasks import ROOT, Hidden, Task, hidden_check, make_project, model_label, run_task, short_commit

PYPROJECT = ('[project]\nname = "ledgerkit"\nversion = "0.3.0"\nrequires-python = ">=3.9"\n\n'
             '[tool.pytest.ini_options]\ntestpaths = ["tests"]\n')
MONEY = '''"""Amounts are whole cents (int); these turn them into text and back."""


def format_cents(cents: int) -> str:
    """1234 -> '$12.34'."""
    return f"${cents // 100}.{cents % 100:02d}"


def parse_amount(text: str) -> int:
    """'$12.34', '12.34' or '12' -> cents."""
    text = text.strip().lstrip("$")
    whole, _, frac = text.partition(".")
    return int(whole) * 100 + int((frac + "00")[:2])
'''
INVOICE = '''"""An invoice: named lines, each a unit price in cents and a quantity."""

from __future__ import annotations

from dataclasses import dataclass, field

from ledgerkit.money import format_cents


@dataclass(frozen=True)
class Line:
    name: str
    cents: int
    qty: int = 1

    def total(self) -> int:
        return self.cents * self.qty


@dataclass
class Invoice:
    customer: str
    lines: list[Line] = field(default_factory=list)

    def add(self, name: str, cents: int, qty: int = 1) -> None:
        self.lines.append(Line(name, cents, qty))

    def total(self) -> int:
        return sum(line.total() for line in self.lines)

    def render(self) -> str:
        rows = [f"{line.qty} x {line.name}: {format_cents(line.total())}" for line in self.lines]
        return "\\n".join([f"Invoice for {self.customer}", *rows, f"Total: {format_cents(self.total())}"])
'''
NAMES = '''def normalize_name(name: str) -> str:
    """'  ada   LOVELACE ' -> 'Ada Lovelace'."""
    return " ".join(part.capitalize() for part in name.split())
'''
TEST_MONEY = '''from ledgerkit.money import format_cents, parse_amount


def test_format_cents():
    assert format_cents(1234) == "$12.34"
    assert format_cents(5) == "$0.05"


def test_parse_amount():
    assert parse_amount("$12.34") == 1234
    assert parse_amount("7") == 700
    assert parse_amount("0.5") == 50
'''
TEST_INVOICE = '''from ledgerkit.invoice import Invoice


def test_total_and_render():
    inv = Invoice("Ada")
    inv.add("tea", 250, 2)
    inv.add("cake", 300)
    assert inv.total() == 800
    assert inv.render() == "Invoice for Ada\\n2 x tea: $5.00\\n1 x cake: $3.00\\nTotal: $8.00"
'''
TEST_NAMES = '''from ledgerkit.text.names import normalize_name


def test_normalize_name():
    assert normalize_name("  ada   LOVELACE ") == "Ada Lovelace"
'''
FILES = {"pyproject.toml": PYPROJECT, "README.md": "# ledgerkit\n\nSmall bookkeeping helpers.\n",
         "ledgerkit/__init__.py": '"""Small bookkeeping helpers."""\n\n__version__ = "0.3.0"\n',
         "ledgerkit/money.py": MONEY, "ledgerkit/invoice.py": INVOICE,
         "ledgerkit/text/__init__.py": '"""Text helpers."""\n', "ledgerkit/text/names.py": NAMES,
         "tests/test_money.py": TEST_MONEY, "tests/test_invoice.py": TEST_INVOICE, "tests/test_names.py": TEST_NAMES,
         ".gitignore": "__pycache__/\n.venv/\n"}


def hidden(name: str, imports: str, body: str) -> Hidden:
    """The hidden test, and the project's own suite beside it, with greenloop's interpreter in the jail."""
    path = f"tests/test_hidden_{name}.py"
    return Hidden({path: f"import pytest\n\n{imports}\n\n\n{body}"},
                  (sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts=", "tests"))


TASKS: dict[str, Task] = {
    "slug": Task(
        "Add slugify(text) in a new module ledgerkit/text/slug.py: lowercase, every run of characters that are not "
        "letters or digits becomes one dash, and no dash at either end",
        hidden("slug", "from ledgerkit.text.slug import slugify", """def test_slugify():
    assert slugify('Hello World') == 'hello-world'
    assert slugify('  A, b!  ') == 'a-b'
    assert slugify('v2.0 release') == 'v2-0-release'
"""),
        {"ledgerkit/text/slug.py": """import re


def slugify(text):
    return re.sub(r'[^a-z0-9]+', '-', text.lower()).strip('-')
"""}),
    "negative": Task(
        "Fix format_cents in ledgerkit/money.py: negative amounts come out wrong (format_cents(-5) gives '$-1.95'); "
        "it should give '-$0.05'",
        hidden("negative", "from ledgerkit.money import format_cents", """def test_negative():
    assert format_cents(-5) == '-$0.05'
    assert format_cents(-1234) == '-$12.34'


def test_positive():
    assert format_cents(1234) == '$12.34'
    assert format_cents(0) == '$0.00'
"""),
        {"ledgerkit/money.py": MONEY.replace(
            '    return f"${cents // 100}.{cents % 100:02d}"',
            '    sign, cents = ("-", -cents) if cents < 0 else ("", cents)\n'
            '    return f"{sign}${cents // 100}.{cents % 100:02d}"')}),
    "stack": Task(
        "Add a class Stack in ledgerkit/stack.py with push(item), pop() and peek() (both raise IndexError when the "
        "stack is empty), is_empty(), and len(stack)",
        hidden("stack", "from ledgerkit.stack import Stack", """def test_stack():
    s = Stack()
    assert s.is_empty() and len(s) == 0
    s.push(1)
    s.push(2)
    assert s.peek() == 2 and len(s) == 2
    assert s.pop() == 2
    assert s.pop() == 1
    assert s.is_empty()


def test_empty():
    with pytest.raises(IndexError):
        Stack().pop()
    with pytest.raises(IndexError):
        Stack().peek()
"""),
        {"ledgerkit/stack.py": """class Stack:
    def __init__(self):
        self._items = []

    def push(self, item):
        self._items.append(item)

    def pop(self):
        if not self._items:
            raise IndexError('empty')
        return self._items.pop()

    def peek(self):
        if not self._items:
            raise IndexError('empty')
        return self._items[-1]

    def is_empty(self):
        return not self._items

    def __len__(self):
        return len(self._items)
"""}),
    "discount": Task(
        "Add a method discount(percent) to Invoice in ledgerkit/invoice.py that returns the total in cents after a "
        "percentage discount, rounded to the nearest cent; a percent below 0 or above 100 raises ValueError",
        hidden("discount", "from ledgerkit.invoice import Invoice", """def test_discount():
    inv = Invoice('Ada')
    inv.add('tea', 1000)
    inv.add('cake', 250, 2)
    assert inv.discount(10) == 1350
    assert inv.discount(0) == 1500
    assert inv.discount(100) == 0
    odd = Invoice('Bob')
    odd.add('pen', 999)
    assert odd.discount(10) == 899
    with pytest.raises(ValueError):
        inv.discount(101)
    with pytest.raises(ValueError):
        inv.discount(-1)
"""),
        {"ledgerkit/invoice.py": INVOICE.replace("    def render(self) -> str:", """    def discount(self, percent):
        if not 0 <= percent <= 100:
            raise ValueError(percent)
        return round(self.total() * (100 - percent) / 100)

    def render(self) -> str:""")}),
    "duration": Task(
        "Add parse_duration(text) in ledgerkit/timeparse.py returning seconds: '1h30m' -> 5400, '45s' -> 45, "
        "'2m5s' -> 125; raise ValueError for text that is not hours, minutes and seconds in that order",
        hidden("duration", "from ledgerkit.timeparse import parse_duration", """def test_parse():
    assert parse_duration('1h30m') == 5400
    assert parse_duration('45s') == 45
    assert parse_duration('2m5s') == 125
    assert parse_duration('1h') == 3600


@pytest.mark.parametrize('bad', ['', 'abc', '10x', '5s1h'])
def test_bad(bad):
    with pytest.raises(ValueError):
        parse_duration(bad)
"""),
        {"ledgerkit/timeparse.py": """import re


def parse_duration(text):
    m = re.fullmatch(r'(?:(\\d+)h)?(?:(\\d+)m)?(?:(\\d+)s)?', text)
    if not text or m is None:
        raise ValueError(text)
    h, mi, s = (int(g or 0) for g in m.groups())
    return h * 3600 + mi * 60 + s
"""}),
    "chunk": Task(
        "Add chunk(items, size) in ledgerkit/util/seq.py (a new package ledgerkit.util): split a list into "
        "consecutive lists of at most size items; a size below 1 raises ValueError",
        hidden("chunk", "from ledgerkit.util.seq import chunk", """def test_chunk():
    assert chunk([1, 2, 3, 4, 5], 2) == [[1, 2], [3, 4], [5]]
    assert chunk([], 3) == []
    assert chunk([1, 2], 5) == [[1, 2]]
    with pytest.raises(ValueError):
        chunk([1], 0)
"""),
        {"ledgerkit/util/__init__.py": "", "ledgerkit/util/seq.py": """def chunk(items, size):
    if size < 1:
        raise ValueError(size)
    return [items[i:i + size] for i in range(0, len(items), size)]
"""}),
    "summary": Task(
        "Add summary_line(invoice) in ledgerkit/report.py returning '<customer>: <number of lines> lines, <total>' "
        "with the total formatted by format_cents, for example 'Ada: 2 lines, $15.00'",
        hidden("summary", "from ledgerkit.invoice import Invoice\nfrom ledgerkit.report import summary_line",
               """def test_summary():
    inv = Invoice('Ada')
    inv.add('tea', 500)
    inv.add('cake', 500, 2)
    assert summary_line(inv) == 'Ada: 2 lines, $15.00'
    assert summary_line(Invoice('Bob')) == 'Bob: 0 lines, $0.00'
"""),
        {"ledgerkit/report.py": """from ledgerkit.money import format_cents


def summary_line(invoice):
    return f'{invoice.customer}: {len(invoice.lines)} lines, {format_cents(invoice.total())}'
"""}),
    "words": Task(
        "Add word_count(text) in ledgerkit/text/stats.py returning a dict from each lowercased word to the number "
        "of times it occurs; punctuation is not part of a word",
        hidden("words", "from ledgerkit.text.stats import word_count", """def test_word_count():
    assert word_count('The cat, the hat.') == {'the': 2, 'cat': 1, 'hat': 1}
    assert word_count('') == {}
    assert word_count('Go! go; GO') == {'go': 3}
"""),
        {"ledgerkit/text/stats.py": """import re
from collections import Counter


def word_count(text):
    return dict(Counter(re.findall(r'[a-z0-9]+', text.lower())))
"""}),
    "hyphen": Task(
        "Fix normalize_name in ledgerkit/text/names.py so that each part of a hyphenated name is capitalized too: "
        "'jean-luc PICARD' should give 'Jean-Luc Picard' (today it gives 'Jean-luc Picard')",
        hidden("hyphen", "from ledgerkit.text.names import normalize_name", """def test_hyphen():
    assert normalize_name('jean-luc PICARD') == 'Jean-Luc Picard'
    assert normalize_name('  ada   LOVELACE ') == 'Ada Lovelace'
    assert normalize_name('anne-marie-louise x') == 'Anne-Marie-Louise X'
"""),
        {"ledgerkit/text/names.py": NAMES.replace(
            '    return " ".join(part.capitalize() for part in name.split())',
            '    return " ".join("-".join(p.capitalize() for p in part.split("-")) for part in name.split())')}),
}


def check(tmp: Path) -> dict[str, bool]:
    """Each hidden check fails on the project as it is and passes with its reference solution written over it."""
    out = {}
    for name, task in TASKS.items():
        project = make_project(tmp / f"check-{name}", FILES)
        before = hidden_check(project, None, task.hidden, tmp)
        after = hidden_check(project, None, task.hidden, tmp, task.reference)
        out[name] = (not before) and after
        print(f"{name}: fails before {not before}, passes with the reference {after}", file=sys.stderr)
    return out


def totals(rows: list[dict]) -> dict:
    green = [r for r in rows if r["green"]]
    return {"tasks": len(rows), "solved": sum(r["status"] == "success" for r in rows),
            "false_green": sum(r["status"] == "false_green" for r in rows), "green": len(green),
            "calls_per_task": round(statistics.mean(r["calls"] or 0 for r in rows), 2),
            "tokens_per_task": round(statistics.mean(r["tokens"] or 0 for r in rows)),
            "median_seconds": statistics.median(r["seconds"] for r in rows)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", help="local:PATH, openai:NAME, ...")
    parser.add_argument("--check", action="store_true", help="prove the hidden tests on the reference solutions")
    parser.add_argument("--tasks", default=",".join(TASKS), help="comma-separated task names")
    parser.add_argument("--label", default="", help="a name for the configuration, added to the output file")
    args = parser.parse_args()
    names = [n for n in args.tasks.split(",") if n]
    unknown = [n for n in names if n not in TASKS]
    if unknown or not (args.check or args.model):
        parser.error(f"unknown task(s) {unknown}; known: {', '.join(TASKS)}" if unknown else "give --model or --check")
    with tempfile.TemporaryDirectory() as tmp_dir:
        if args.check:
            ok = check(Path(tmp_dir))
            print(json.dumps(ok))
            sys.exit(0 if all(ok.values()) else 1)
        date, label = time.strftime("%F"), model_label(args.model)
        stem = f"py-repo-tasks-{label}-{date}" + (f"-{args.label}" if args.label else "")
        out = ROOT / "benchmarks" / "results" / f"{stem}.json"
        rows = []
        for name in names:
            project = make_project(Path(tmp_dir) / name, FILES)
            outcome = run_task(project, TASKS[name], Path(tmp_dir), args.model, out.with_suffix(""), name)
            rows.append({"name": name, **asdict(outcome), "task": TASKS[name].text})
            print(f"{name}: {outcome.status} in {outcome.calls} calls, {outcome.seconds} s", file=sys.stderr)
    result = {"machine": f"{platform.node()} {platform.machine()} {os.cpu_count()} cpus", "date": date,
              "commit": short_commit(), "model": args.model,
              "settings": {k: v for k, v in os.environ.items() if k.startswith("GREENLOOP_")},
              "totals": totals(rows), "tasks": rows}
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result["totals"]))


if __name__ == "__main__":
    main()
