"""Repo-map relevance on a second real project, held out from the tuning (Django's tasks tuned the weights): the
`rich` package greenloop itself installs, copied into a fresh git repository, and the tasks in
benchmarks/data/relevance-rich.json; for each, the rank of the file a maintainer would open first in the map.
Usage: python benchmarks/repomap_relevance.py   Writes benchmarks/results/repomap-relevance-rich-<date>.json."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import time
from importlib.metadata import version
from pathlib import Path

import rich

from greenloop.repomap import repo_map

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "benchmarks" / "data" / "relevance-rich.json"


def rich_repo(dest: Path) -> Path:
    """rich's installed source as a git repository at `dest`."""
    shutil.copytree(Path(rich.__file__).parent, dest / "rich", ignore=shutil.ignore_patterns("__pycache__"))
    for args in (["init", "-q"], ["add", "-A"], ["-c", "user.name=b", "-c", "user.email=b@x", "commit", "-qm", "rich"]):
        subprocess.run(["git", *args], cwd=dest, check=True, capture_output=True, timeout=120)
    return dest


def ranks(root: Path) -> list[dict[str, object]]:
    out = []
    for item in json.loads(DATA.read_text())["tasks"]:
        top = repo_map(root, item["task"], 1024, use_cache=False).ranked[:10]
        out.append({**item, "rank": top.index(item["expected"]) + 1 if item["expected"] in top else None,
                    "top3": top[:3]})
    return out


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        rows = ranks(rich_repo(Path(tmp)))
    result = {"date": time.strftime("%F"), "rich": version("rich"),
              "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                                       text=True, timeout=30).stdout.strip(),
              "top10": sum(r["rank"] is not None for r in rows), "first": sum(r["rank"] == 1 for r in rows),
              "tasks": rows}
    out = ROOT / "benchmarks" / "results" / f"repomap-relevance-rich-{result['date']}.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"{result['top10']}/{len(rows)} in the top 10, {result['first']} first: {out}")


if __name__ == "__main__":
    main()
