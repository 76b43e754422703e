"""The ranked repo map: the files a task is about rank first, the budget holds, the cache is reused and a corrupt
one rebuilt, bad files are skipped with a count, and the map reaches the generate prompt."""

from __future__ import annotations

import json
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import cli, git, init_repo

from greenloop.context import gather
from greenloop.mapgraph import GRAPH_VERSION
from greenloop.repomap import cache_path, index, rank, render, repo_map


def _project(root: Path, filler: int = 40) -> None:
    pkg = root / "shop"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "pricing.py").write_text("class PriceRule:\n    def apply_discount(self, cents: int) -> int:\n"
                                    "        return cents\n\n\ndef vat_rate(country):\n    return 0.2\n")
    (pkg / "cart.py").write_text("from shop.pricing import PriceRule, vat_rate\n\n\nclass Cart:\n"
                                 "    def total(self):\n        return PriceRule().apply_discount(1) * vat_rate('fr')\n")
    for i in range(filler):
        (pkg / f"aaa_mod{i:03d}.py").write_text(f"def helper_{i}(x):\n    return x + {i}\n")
    (pkg / "broken.py").write_bytes(b"\0\x01binary\xff" * 100)
    git(root, "add", "-A")
    git(root, "commit", "-qm", "project")


def test_a_files_definitions_are_shown_in_its_order_each_method_under_its_class(repo: Path) -> None:
    """The task's names were listed first, out of their classes (`def total` above `class Invoice:`), and two
    methods of one name showed once (py_repo_tasks.py `summary`: the 1.5B wrote classes of its own)."""
    (repo / "inv.py").write_text("class Line:\n    def total(self):\n        return 1\n\n\nclass Invoice:\n"
                                 "    def add(self, line):\n        pass\n\n    def total(self):\n        return 2\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "invoice")
    m = repo_map(repo, "add a summary of the invoice total", max_tokens=200)
    assert ("inv.py:\n│class Line:\n│    def total(self):\n│class Invoice:\n│    def add(self, line):\n"
            "│    def total(self):\n") in m.text, m.text


def test_the_file_the_task_is_about_ranks_first_within_the_budget(repo: Path) -> None:
    _project(repo)
    m = repo_map(repo, "give apply_discount a minimum price", max_tokens=60)
    assert m.ranked[0] == "shop/pricing.py"
    assert m.text.startswith("shop/pricing.py:\n")
    assert "def apply_discount(self, cents: int) -> int:" in m.text
    assert len(m.text) <= 60 * 4  # the budget holds the footer that says what was left out too
    assert "more file(s) not shown" in m.text and "1 skipped" in m.text  # the binary file, counted


def test_named_file_ranks_high_and_its_dependency_next(repo: Path) -> None:
    _project(repo)
    m = repo_map(repo, "add a discount line to shop/cart.py", max_tokens=200)
    assert m.ranked[0] == "shop/cart.py"
    assert m.ranked[1] == "shop/pricing.py"  # what cart.py references


def test_cache_reused_changed_file_reread_and_corrupt_cache_rebuilt(repo: Path) -> None:
    _project(repo)
    first = index(repo)
    db = cache_path(repo)
    assert db is not None and db.is_file()
    (repo / "shop" / "pricing.py").write_text("def brand_new_rule():\n    return 1\n")
    again = index(repo)
    everything = again.graph.paths
    assert [d[1] for d in again.tags(["shop/pricing.py"])["shop/pricing.py"].defs] == ["brand_new_rule"]
    assert again.tags(["shop/cart.py"]) == first.tags(["shop/cart.py"])
    db.write_bytes(b"not a sqlite file" * 100)
    rebuilt = index(repo)
    assert rebuilt.tags(everything) == again.tags(everything)


def _graph_file(repo: Path) -> Path:
    db = cache_path(repo)
    assert db is not None
    return db.with_name("repomap-graph.bin")


def test_warm_map_uses_the_graph_cache_and_reads_only_the_files_it_shows(repo: Path) -> None:
    _project(repo)
    cold = repo_map(repo, "give apply_discount a minimum price", max_tokens=60)
    built = _graph_file(repo).stat().st_mtime_ns
    warm_index = index(repo)
    assert warm_index.loaded == {}  # the graph came from the cache, no file's tags were unpacked
    warm = render(warm_index, rank(warm_index, "give apply_discount a minimum price"),
                  "give apply_discount a minimum price", 60)
    assert warm == cold
    assert set(warm_index.loaded) == set(warm.ranked[:16]) and warm.shown < 16 < warm.files
    assert _graph_file(repo).stat().st_mtime_ns == built  # not rewritten when nothing changed


def test_corrupt_old_or_stale_graph_cache_is_rebuilt_and_the_map_stays_right(repo: Path) -> None:
    _project(repo)
    task = "add a discount line to shop/cart.py"
    right = repo_map(repo, task, max_tokens=200, use_cache=False)
    graph = _graph_file(repo)
    repo_map(repo, task, max_tokens=200)
    good = graph.read_bytes()
    damaged = [good[:len(good) // 2],  # cut short
               good[:-40] + bytes(b ^ 0xFF for b in good[-40:]),  # bits flipped in the body
               good.replace(struct.pack("<I", GRAPH_VERSION), struct.pack("<I", GRAPH_VERSION + 7), 1),  # old version
               b"garbage" * 50, b""]
    for bad in damaged:
        graph.write_bytes(bad)
        assert repo_map(repo, task, max_tokens=200) == right
        assert graph.read_bytes() == good  # rebuilt, not trusted
    (repo / "shop" / "cart.py").write_text("from shop.pricing import vat_rate\n\n\ndef fee():\n"
                                           "    return vat_rate('de')\n")  # a changed file: another listing
    changed = repo_map(repo, task, max_tokens=200)
    assert "def fee():" in changed.text and "class Cart" not in changed.text
    assert changed == repo_map(repo, task, max_tokens=200, use_cache=False)


def test_map_in_context_and_cli(repo: Path) -> None:
    _project(repo)
    ctx = gather(repo, "make vat_rate depend on the country", map_tokens=300)
    assert ctx.repo_map.startswith("shop/pricing.py:")
    assert ctx.examples[0].path != "shop/aaa_mod000.py"  # examples follow the map, not the alphabet
    proc = cli("map", "--repo", str(repo), "--tokens", "100", "vat_rate", "country")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("shop/pricing.py:")
    for bad, says in ((["--tokens", "99999"], "--tokens must be between 0 and 16000"),
                      (["--repo", str(repo / "nope")], "is not a directory; pass --repo DIR"),
                      (["--depth", "2"], "no such option: --depth")):
        proc = cli("map", *bad, "vat_rate")
        assert proc.returncode == 2 and says in proc.stderr and not proc.stdout, proc.stderr
    assert "Usage: greenloop map" in cli("map", "--help").stdout  # help is the typer command's


def test_the_map_command_starts_without_the_cli_framework(repo: Path) -> None:
    """`greenloop map` is a fast path (entry.py): a warm map is mostly Python's start, not typer/rich/pydantic."""
    _project(repo)
    code = ("import sys\nfrom greenloop import entry\nsys.argv = ['greenloop', 'map', '--repo', sys.argv[1], 'vat_rate']\n"
            "try:\n    entry.main()\nexcept SystemExit as e:\n    assert e.code == 0, e.code\n"
            "print(sorted(m for m in ('typer', 'rich', 'pydantic', 'click') if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code, str(repo)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("shop/pricing.py:") and proc.stdout.strip().endswith("[]")


def test_a_node_project_is_mapped_by_its_js_and_ts_definitions(repo: Path) -> None:
    (repo / "package.json").write_text('{"name": "shop", "scripts": {"test": "node --test"}}\n')
    lib = repo / "lib"
    lib.mkdir()
    (lib / "money.js").write_text("function formatCents(cents) {\n  return `$${cents / 100}`;\n}\n\n"
                                  "module.exports = { formatCents };\n")
    (lib / "cart.js").write_text("const { formatCents } = require('./money');\n\nclass Cart {\n  total(items) {\n"
                                 "    return formatCents(items.length);\n  }\n}\n\nmodule.exports = { Cart };\n")
    (lib / "unrelated.ts").write_text("export interface Shape { w: number }\nexport const area = (s: Shape) => s.w;\n")
    (lib / "vendor.min.js").write_text("function formatCents(){}\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "node")
    text = repo_map(repo, "format the cart total with formatCents", max_tokens=300, use_cache=False).text
    files = [line for line in text.splitlines() if line.endswith(":")]
    assert files == ["lib/cart.js:", "lib/money.js:", "lib/unrelated.ts:"], text  # the task's words rank them
    assert "function formatCents(cents)" in text and "  total(items)" in text and "vendor.min.js" not in text
    assert "textkit/" not in text  # the repository's few Python files are not the map of a Node project


@pytest.mark.parametrize("index", [0, 1, 3, 4, 7, 13])  # of benchmarks/data/relevance-rich.json
def test_on_real_code_the_file_a_maintainer_opens_first_is_in_the_top_three(tmp_path: Path, index: int) -> None:
    """rich, which greenloop installs, as a second real project (held out: Django's tasks tuned the weights)."""
    import shutil

    import rich

    data = json.loads((Path(__file__).resolve().parents[1] / "benchmarks" / "data" / "relevance-rich.json").read_text())
    item = data["tasks"][index]
    shutil.copytree(Path(rich.__file__).parent, tmp_path / "rich", ignore=shutil.ignore_patterns("__pycache__"))
    init_repo(tmp_path)
    assert item["expected"] in repo_map(tmp_path, item["task"], 1024, use_cache=False).ranked[:3]
