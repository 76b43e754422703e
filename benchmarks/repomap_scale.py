"""Repo map at scale: synthetic Python repositories of growing size (default 10k, 30k and 100k files), each mapped
cold (cache removed) and warm by `greenloop map` as a fresh process. Checks that the map stays within its token
budget (characters / 4, the map's own measure), that the peak memory stays bounded, and how the cold time grows
with the tree (CPU seconds, which the shared machine's load disturbs less than wall time).

Each file is a small module in pkg_K/: two functions and a class that call functions of three other modules
(seeded, so every run builds the same trees). `git add` is timed apart: it is git's cost, not the map's.
Usage: python benchmarks/repomap_scale.py [--sizes 10000,30000,100000] [--tokens 1024] [--dir /tmp/map-scale]
Writes benchmarks/results/repomap-scale-<date>.json."""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TASK = "the invoice total should round half up in compute_invoice_total"


def build(root: Path, files: int) -> float:
    """The synthetic tree and its git index; returns git add's seconds."""
    rng = random.Random(files)
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    for i in range(files):
        folder = root / f"pkg_{i // 1000}"
        if i % 1000 == 0:
            folder.mkdir()
            (folder / "__init__.py").write_text("")
        calls = "\n".join(f"    total += helper_{j}_a(value)" for j in rng.sample(range(files), 3))
        name = "compute_invoice_total" if i == files // 2 else f"helper_{i}_b"
        (folder / f"mod_{i}.py").write_text(
            f'"""Module {i}."""\n\n\ndef helper_{i}_a(value):\n    return value * {i % 7 + 1}\n\n\n'
            f"def {name}(value):\n    total = 0\n{calls}\n    return total\n\n\nclass Thing{i}:\n"
            f"    def run(self, value):\n        return helper_{i}_a(value)\n")
    subprocess.run(["git", "init", "-q"], cwd=root, check=True, timeout=60)
    start = time.perf_counter()
    subprocess.run(["git", "add", "-A"], cwd=root, check=True, timeout=1800)
    return time.perf_counter() - start


def timed_map(root: Path, tokens: int) -> dict[str, float | int | str]:
    """One `greenloop map` process under /usr/bin/time: wall and CPU seconds, its peak RSS (MiB), its output."""
    proc = subprocess.run(["/usr/bin/time", "-f", "@@%e %U %S %M", sys.executable, "-m", "greenloop", "map", "--repo",
                           str(root), "--tokens", str(tokens), TASK], capture_output=True, text=True, timeout=1800)
    if proc.returncode != 0:
        raise SystemExit(f"greenloop map failed: {proc.stderr[-2000:]}")
    wall, user, system, rss_kib = proc.stderr.rsplit("@@", 1)[1].split()
    lines = proc.stdout.splitlines()
    return {"wall_s": float(wall), "cpu_s": round(float(user) + float(system), 2), "max_rss_mib": int(rss_kib) // 1024,
            "chars": len(proc.stdout), "tokens_est": len(proc.stdout) // 4, "first": lines[0] if lines else "",
            "footer": lines[-1] if lines else ""}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="10000,30000,100000")
    ap.add_argument("--tokens", type=int, default=1024)
    ap.add_argument("--dir", type=Path, default=Path("/tmp/map-scale"))
    args = ap.parse_args()
    rows = []
    for size in (int(s) for s in args.sizes.split(",")):
        root = args.dir / f"repo-{size}"
        git_add = build(root, size)
        cold = timed_map(root, args.tokens)
        warm = timed_map(root, args.tokens)
        rows.append({"files": size, "git_add_s": round(git_add, 1), "cold": cold, "warm": warm,
                     "within_budget": cold["tokens_est"] <= args.tokens and warm["tokens_est"] <= args.tokens})
        print(json.dumps(rows[-1]), file=sys.stderr)
        shutil.rmtree(root, ignore_errors=True)
    base = rows[0]
    for row in rows:
        row["cold_cpu_per_1k_files"] = round(row["cold"]["cpu_s"] / row["files"] * 1000, 3)  # type: ignore[index]
        row["cold_cpu_ratio_vs_smallest"] = round(row["cold"]["cpu_s"] / base["cold"]["cpu_s"], 2)  # type: ignore[index]
    result = {"machine": f"{platform.node()} {platform.machine()} {os.cpu_count()} cores, load "
                         f"{os.getloadavg()[0]:.1f}", "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
              "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                                       text=True, timeout=30).stdout.strip(),
              "tokens": args.tokens, "task": TASK, "rows": rows}
    out = ROOT / "benchmarks" / "results" / f"repomap-scale-{result['date'][:10]}.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(out)


if __name__ == "__main__":
    main()
