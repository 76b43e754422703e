"""Sandbox overhead: a tiny pytest run (3 tests) and `python -c pass`, bare vs in the bwrap jail.

Interleaved (bare, jailed, bare, jailed, ...) so that machine noise hits both alike; medians reported.
Writes benchmarks/results/sandbox-overhead-<date>.json and prints a Markdown line for the README.
Usage: python benchmarks/sandbox_overhead.py [--runs 30]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from greenloop.sandboxes.bwrap import BwrapSandbox, bwrap_problem
from greenloop.sandboxes.common import Limits, base_env

TESTS = ("def test_a():\n    assert 1 + 1 == 2\n\n\ndef test_b():\n    assert 'a'.upper() == 'A'\n\n\n"
         "def test_c():\n    assert sorted([3, 1, 2]) == [1, 2, 3]\n")


def bare(argv: list[str], cwd: Path, extra: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, cwd=cwd, env=base_env(cwd, [Path(sys.executable).parent], extra),
                   capture_output=True, timeout=120, check=True)
    return time.perf_counter() - start


def jailed(box: BwrapSandbox, argv: list[str], cwd: Path, extra: dict[str, str]) -> float:
    start = time.perf_counter()
    result = box.run(argv, cwd, timeout_s=120, env=extra)
    assert result.exit_code == 0, result.stderr
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    if (problem := bwrap_problem()) is not None:
        sys.exit(f"bwrap unavailable: {problem}")
    box = BwrapSandbox(Limits())
    pytest_argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_tiny.py"]
    cases = {  # name: (argv, extra environment)
        "python -c pass": ([sys.executable, "-c", "pass"], {}),
        "pytest, 3 tests": (pytest_argv, {}),
        "pytest, 3 tests, no plugin autoload": (pytest_argv, {"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}),
    }
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "test_tiny.py").write_text(TESTS)
        for name, (argv, extra) in cases.items():
            bare(argv, work, extra), jailed(box, argv, work, extra)  # warm-up
            b, j = [], []
            for _ in range(args.runs):
                b.append(bare(argv, work, extra))
                j.append(jailed(box, argv, work, extra))
            mb, mj = statistics.median(b), statistics.median(j)
            results[name] = {"bare_ms": round(mb * 1000, 1), "jailed_ms": round(mj * 1000, 1),
                             "ratio": round(mj / mb, 3), "runs": args.runs}
            print(f"{name}: bare {mb * 1000:.0f} ms, jailed {mj * 1000:.0f} ms, ratio {mj / mb:.2f}x "
                  f"(median of {args.runs})")
    record = {
        "benchmark": "sandbox_overhead", "date": time.strftime("%Y-%m-%d"),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
                    "euid": os.geteuid()},
        "results": results,
    }
    out = Path(__file__).parent / "results" / f"sandbox-overhead-{record['date']}.json"
    out.write_text(json.dumps(record, indent=2) + "\n")
    print(f"written to {out}")


if __name__ == "__main__":
    main()
