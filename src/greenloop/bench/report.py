"""Totals, per-task JSONL and a self-contained HTML page with plots (inline SVG, no dependencies)."""

from __future__ import annotations

import html
import json
import statistics
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from greenloop.bench.humaneval import TaskResult
from greenloop.figures import EVIDENCE_LEVELS


def totals(results: Sequence[TaskResult], mode: str, model: str, seconds: float) -> dict[str, Any]:
    n = len(results)
    passed = sum(r.solved for r in results)
    green = [r for r in results if r.green]
    return {
        "benchmark": "humaneval", "mode": mode, "model": model, "tasks": n, "passed": passed,
        "pass_rate": round(passed / n, 4) if n else 0.0,
        "false_green": round(sum(not r.solved for r in green) / len(green), 4) if green else 0.0,
        "calls": sum(r.calls for r in results), "input_tokens": sum(r.input_tokens for r in results),
        "output_tokens": sum(r.output_tokens for r in results), "seconds": round(seconds, 2),
        "mutation": mutation_vs_false_green(green),
        "evidence": by_evidence(green),
    }


def by_evidence(green: Sequence[TaskResult]) -> dict[str, dict[str, int]]:
    """Greens and false greens by the evidence the run claimed (a record without it: unmeasured): does a strong
    green hold on the hidden tests?"""
    out = {level: {"greens": 0, "false": 0} for level in EVIDENCE_LEVELS}
    for r in green:
        row = out[r.evidence if r.evidence in out else "unmeasured"]
        row["greens"] += 1
        row["false"] += not r.solved
    return out


def mutation_vs_false_green(green: Sequence[TaskResult]) -> dict[str, Any]:
    """Does the mutation score of a green result's tests predict that it is false (hidden tests red)? The
    mean score of true and of false greens, and the false-green rate below and at/above the median score."""
    scored = sorted((r for r in green if r.mutation_score is not None), key=lambda r: r.mutation_score or 0.0)

    def mean(rs: Sequence[TaskResult]) -> float | None:
        return round(sum(r.mutation_score or 0.0 for r in rs) / len(rs), 3) if rs else None

    def false_rate(rs: Sequence[TaskResult]) -> float | None:
        return round(sum(not r.solved for r in rs) / len(rs), 3) if rs else None

    half = len(scored) // 2
    return {"scored_greens": len(scored), "mean_score": mean(scored),
            "mean_score_true_green": mean([r for r in scored if r.solved]),
            "mean_score_false_green": mean([r for r in scored if not r.solved]),
            "false_green_rate_low_half": false_rate(scored[:half]),
            "false_green_rate_high_half": false_rate(scored[half:])}


def _bars(title: str, counts: dict[str, float], unit: str = "") -> str:
    width, bar_h, gap = 420, 18, 6
    top = max(counts.values(), default=1) or 1
    rows = []
    for i, (label, value) in enumerate(counts.items()):
        y = 24 + i * (bar_h + gap)
        w = int((width - 160) * value / top)
        rows.append(f'<text x="0" y="{y + 13}" font-size="12">{html.escape(label)}</text>'
                    f'<rect x="110" y="{y}" width="{w}" height="{bar_h}" fill="#3a7d44"/>'
                    f'<text x="{115 + w}" y="{y + 13}" font-size="12">{value:g}{unit}</text>')
    height = 30 + len(counts) * (bar_h + gap)
    return (f'<figure><figcaption>{html.escape(title)}</figcaption><svg width="{width}" height="{height}" '
            f'xmlns="http://www.w3.org/2000/svg">{"".join(rows)}</svg></figure>')


def write_report(directory: Path, results: Sequence[TaskResult], total: dict[str, Any]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    stem = f"humaneval-{total['mode']}"
    with open(directory / f"{stem}.jsonl", "w", encoding="utf-8") as fh:
        for r in results:
            fh.write(json.dumps(r.as_dict()) + "\n")
    solved_by_attempt: Counter[int] = Counter(r.attempts for r in results if r.solved)
    cumulative, running = {}, 0
    for k in range(1, max([r.attempts for r in results], default=1) + 1):
        running += solved_by_attempt.get(k, 0)
        cumulative[f"≤ {k} attempt(s)"] = round(100 * running / max(1, len(results)), 1)
    calls = Counter(r.calls for r in results)
    secs = sorted(r.seconds for r in results)
    buckets = {f"≤ {b}s": sum(s <= b for s in secs) for b in (5, 10, 20, 40, 80, 160)}
    rows = "".join(
        f"<tr><td>{html.escape(r.task_id)}</td><td>{'✔' if r.solved else '✘'}</td><td>{'✔' if r.green else ''}</td>"
        f"<td>{r.attempts}</td><td>{r.calls}</td><td>{r.input_tokens}</td><td>{r.output_tokens}</td>"
        f"<td>{r.seconds}</td></tr>" for r in results)
    median = statistics.median(secs) if secs else 0
    page = f"""<!doctype html><meta charset="utf-8"><title>{stem}</title>
<style>body{{font-family:sans-serif;max-width:900px;margin:2em auto}}td,th{{padding:2px 8px;text-align:right}}</style>
<h1>HumanEval, {html.escape(total['mode'])}, {html.escape(total['model'])}</h1>
<p>{total['passed']}/{total['tasks']} solved ({100 * total['pass_rate']:.1f}%), false-green rate
{100 * total['false_green']:.1f}%, {total['calls']} model calls ({total['calls'] / max(1, total['tasks']):.2f} a task),
{total['input_tokens']}+{total['output_tokens']} tokens, {total['seconds']} s (median {median:.1f} s a task).</p>
{_bars("Pass rate by attempt (cumulative, %)", cumulative, "%")}
{_bars("Model calls per task (tasks)", {f"{k} call(s)": v for k, v in sorted(calls.items())})}
{_bars("Wall time per task (tasks)", buckets)}
<table><tr><th>task</th><th>solved</th><th>green</th><th>attempts</th><th>calls</th><th>in</th><th>out</th><th>s</th></tr>{rows}</table>
"""
    out = directory / f"{stem}.html"
    out.write_text(page, encoding="utf-8")
    return out
