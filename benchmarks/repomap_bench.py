"""Repo map speed and relevance on Django 5.2.19 (and Aider 0.86.2's map side by side, if installed).

Setup:  mkdir -p /tmp/map-django && cd /tmp/map-django && pip download --no-deps --no-binary :all: django==5.2.19 &&
        tar --no-same-owner -xzf django-5.2.19.tar.gz && cd django-5.2.19 && git init -q && git add -A &&
        git commit -qm init;   python3 -m venv /tmp/aider-venv && /tmp/aider-venv/bin/pip install aider-chat
Run:    nice -n 10 python benchmarks/repomap_bench.py --repo /tmp/map-django/django-5.2.19 [--aider /tmp/aider-venv]
        [--baseline-src /path/to/other/checkout/src]
Cold: the cache removed, `greenloop map` as a fresh process; warm: the same again. Medians quoted; CPU seconds too
(user+sys of the child), because the 2 cores are shared with other work. With --baseline-src, another greenloop
source tree (e.g. main's) is timed in the same loop, each round alternating the two, so both see the same load."""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

TASKS = [  # (task as a user would phrase it, the file a maintainer would open first)
    ("memcached cache backend should accept a timeout option", "django/core/cache/backends/memcached.py"),
    ("slugify should keep unicode letters when allow_unicode is set", "django/utils/text.py"),
    ("EmailValidator rejects valid addresses with long domain names", "django/core/validators.py"),
    ("add a max_length check to URLField in forms", "django/forms/fields.py"),
    ("paginator should raise EmptyPage for page numbers below one", "django/core/paginator.py"),
    ("QuerySet.bulk_create ignores batch_size", "django/db/models/query.py"),
    ("the csrf middleware should log the reason when it rejects a request", "django/middleware/csrf.py"),
    ("JsonResponse should accept a custom encoder", "django/http/response.py"),
    ("naturaltime in humanize gives wrong output for future dates", "django/contrib/humanize/templatetags/humanize.py"),
    ("signing dumps loads should support a custom serializer", "django/core/signing.py"),
    ("make the password validators check similarity with the email",
     "django/contrib/auth/password_validation.py"),
    ("the runserver command should print the url with https", "django/core/management/commands/runserver.py"),
    ("add a setting to change the session cookie samesite value for the signed cookies backend",
     "django/contrib/sessions/backends/signed_cookies.py"),
    ("timesince should handle leap years correctly", "django/utils/timesince.py"),
]

AIDER_SNIPPET = r"""
import sys, time, re
from aider.repomap import RepoMap
from aider.io import InputOutput
from aider.models import Model
root, task = sys.argv[1], sys.argv[2]
import subprocess
files = [root + "/" + f for f in subprocess.run(["git", "ls-files", "*.py"], cwd=root, capture_output=True,
                                                 text=True).stdout.split()]
rm = RepoMap(map_tokens=1024, root=root, main_model=Model("gpt-4o"), io=InputOutput(yes=True, pretty=False))
t = time.perf_counter()
out = rm.get_repo_map([], files, mentioned_fnames=set(), mentioned_idents=set(re.findall(r"\w+", task))) or ""
print("SECONDS", time.perf_counter() - t)
print(out)
"""


def _timed(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> tuple[float, float, str]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    out = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=900, env=env)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if out.returncode != 0:
        raise SystemExit(f"{cmd[:4]} failed: {out.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, out.stdout


def _map_files(text: str) -> list[str]:
    return [line.rstrip(":") for line in text.splitlines() if line and not line.startswith(("│", "(", " ", "⋮"))]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repo", type=Path, required=True)
    ap.add_argument("--aider", type=Path, default=None, help="a venv with aider-chat installed")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--baseline-src", type=Path, default=None, help="another greenloop src/ to time alongside")
    args = ap.parse_args()
    root = args.repo.resolve()
    load_before = os.getloadavg()
    cmd = [sys.executable, "-m", "greenloop", "map", "--repo", str(root), "--tokens", "1024", TASKS[0][0]]
    cache = root / ".git" / "greenloop" / "cache"
    baseline_env = {**os.environ, "PYTHONPATH": str(args.baseline_src.resolve())} if args.baseline_src else None
    times: dict[str, list[float]] = {k: [] for k in ("cold", "cold_cpu", "warm", "warm_cpu", "b_cold", "b_cold_cpu",
                                                       "b_warm", "b_warm_cpu")}
    for _ in range(args.runs):
        for prefix, env in (("", None), ("b_", baseline_env)):
            if prefix and env is None:
                continue
            shutil.rmtree(cache, ignore_errors=True)
            w, c, _ = _timed(cmd, root, env)
            times[prefix + "cold"].append(w)
            times[prefix + "cold_cpu"].append(c)
            w, c, _ = _timed(cmd, root, env)
            times[prefix + "warm"].append(w)
            times[prefix + "warm_cpu"].append(c)
    shutil.rmtree(cache, ignore_errors=True)
    cold, cold_cpu, warm, warm_cpu = times["cold"], times["cold_cpu"], times["warm"], times["warm_cpu"]
    hits = []
    for task, expected in TASKS:
        _, _, text = _timed([*cmd[:-1], task], root)
        top = _map_files(text)[:10]
        hits.append({"task": task, "expected": expected, "rank": top.index(expected) + 1 if expected in top else None,
                     "top3": top[:3]})
    result: dict[str, object] = {
        "machine": f"{platform.node()} {platform.machine()} {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}",
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                                 cwd=Path(__file__).parent, timeout=30).stdout.strip(),
        "repo": str(root), "py_files": len(subprocess.run(["git", "ls-files", "*.py"], cwd=root, capture_output=True,
                                                          text=True, timeout=60).stdout.split()),
        "greenloop": {"cold_s": cold, "warm_s": warm, "cold_median_s": statistics.median(cold),
                      "warm_median_s": statistics.median(warm), "cold_cpu_median_s": statistics.median(cold_cpu),
                      "warm_cpu_median_s": statistics.median(warm_cpu)},
        "relevance": {"top10": sum(h["rank"] is not None for h in hits), "tasks": len(hits), "detail": hits},
    }
    if baseline_env:
        base_commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                                     cwd=args.baseline_src, timeout=30).stdout.strip()
        result["baseline"] = {"src": str(args.baseline_src), "commit": base_commit,
                              "cold_s": times["b_cold"], "warm_s": times["b_warm"],
                              "cold_median_s": statistics.median(times["b_cold"]),
                              "warm_median_s": statistics.median(times["b_warm"]),
                              "cold_cpu_median_s": statistics.median(times["b_cold_cpu"]),
                              "warm_cpu_median_s": statistics.median(times["b_warm_cpu"])}
    result["load_1min_before_after"] = [round(load_before[0], 1), round(os.getloadavg()[0], 1)]
    if args.aider:
        py = str(args.aider / "bin" / "python")
        aider_cache = [p for p in root.glob(".aider.tags.cache*")]
        for p in aider_cache:
            shutil.rmtree(p, ignore_errors=True)
        env = {**os.environ, "AIDER_ANALYTICS": "false"}
        a_cold = _timed([py, "-c", AIDER_SNIPPET, str(root), TASKS[0][0]], root, env)
        a_warm = _timed([py, "-c", AIDER_SNIPPET, str(root), TASKS[0][0]], root, env)
        after = a_warm[2].split("SECONDS", 1)[1]  # aider prints network warnings first (offline here)
        result["aider"] = {"version": "0.86.2", "cold_s": a_cold[0], "warm_s": a_warm[0], "cold_cpu_s": a_cold[1],
                           "warm_cpu_s": a_warm[1], "map_call_warm_s": float(after.split()[0]),
                           "top10_first_task": _map_files(after.split("\n", 1)[1])[:10]}
        result["ratio_cold"] = a_cold[0] / statistics.median(cold)
        result["ratio_warm"] = a_warm[0] / statistics.median(warm)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
