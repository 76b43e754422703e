"""How each task of a HumanEval agent run reached its end, and which of the loop's features were on that path: the
attempt that passed (the first draft, a redraft, a resample chosen by the examples, a fix, a rewrite) and what
acted before it (a cut test design salvaged, imports repaired without a call, the task's examples catching a
wrong draft, agreement dropping a model assert, round trips refuting one, an early stop). Beside one-shot's record
of each task, this says what the features bought on that run: a task won against one-shot is credited to the
features on its path, and so is one both solve that a feature acted on (kept: without an assert dropped, the
model's own tests would have failed a right program). That is attribution, not an ablation (a feature switched
off can change every call after it); the ablations measured are in the README.

Pure: it reads the run's records and trajectories and runs nothing.

Usage: python benchmarks/humaneval_paths.py DIR --oneshot FILE.jsonl [--out FILE.json]
DIR: a `greenloop bench humaneval --report DIR` directory (humaneval-agent.jsonl, trajectories/).
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

from humaneval_same_tasks import records

from greenloop.trajectory import read_events

FEATURES = ("salvaged test design", "imports repaired", "examples caught a draft", "agreement dropped a model assert",
            "round trips refuted a model assert", "early stop")


@dataclass
class TaskPath:
    task_id: str
    outcome: str  # solved | false green | red
    oneshot: bool
    passed_by: str | None  # the passing attempt's step: generate (the first draft), redraft, resample, fix, rewrite
    attempts: int
    calls: int
    features: list[str] = field(default_factory=list)


def path_of(task_id: str, record: dict, oneshot: bool, trajectory: Path) -> TaskPath:
    passed_by, features = None, []
    for event in read_events(trajectory):
        kind = event["kind"]
        if kind == "attempt" and event["outcome"] == "passed":
            passed_by = event["step"]
        elif kind == "salvaged":
            features.append(FEATURES[0])
        elif kind == "repair" and (event.get("added_imports") or event.get("dropped_self_tests")):
            features.append(FEATURES[1])
        elif kind == "task_examples" and event["failures"]:
            features.append(FEATURES[2])
        elif kind == "agreement" and event.get("dropped"):
            features.append(FEATURES[3])
        elif kind == "round_trips_refuted" and event["witnessed"]:
            features.append(FEATURES[4])
        elif kind == "early_stop":
            features.append(FEATURES[5])
    outcome = "solved" if record["solved"] else "false green" if record["green"] else "red"
    return TaskPath(task_id, outcome, oneshot, passed_by if record["green"] else None, record["attempts"],
                 record["calls"], sorted(set(features), key=FEATURES.index))


def summary(paths: list[TaskPath]) -> dict:
    won = [p for p in paths if p.outcome == "solved" and not p.oneshot]
    kept = [p for p in paths if p.outcome == "solved" and p.oneshot and p.features]
    lost = [p for p in paths if p.outcome != "solved" and p.oneshot]
    greens = [p for p in paths if p.outcome != "red"]
    by_step = Counter(p.passed_by for p in greens)
    false_by_step = Counter(p.passed_by for p in greens if p.outcome == "false green")
    return {
        "tasks": len(paths),
        "solved": sum(p.outcome == "solved" for p in paths),
        "oneshot_solved": sum(p.oneshot for p in paths),
        "greens_by_passing_step": {step: {"greens": n, "false": false_by_step[step]} for step, n in by_step.items()},
        "feature_on_path": {f: {"greens": sum(f in p.features for p in greens),
                                "false": sum(f in p.features for p in greens if p.outcome == "false green"),
                                "won_against_oneshot": [p.task_id for p in won if f in p.features],
                                "kept_from_oneshot": [p.task_id for p in kept if f in p.features]}
                            for f in FEATURES},
        "won": [{"task_id": p.task_id, "passed_by": p.passed_by, "features": p.features} for p in won],
        "lost": [{"task_id": p.task_id, "outcome": p.outcome, "calls": p.calls} for p in lost],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("dir", type=Path)
    parser.add_argument("--oneshot", type=Path, required=True)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    agent, one = records([args.dir / "humaneval-agent.jsonl"]), records([args.oneshot])
    paths = [path_of(t, r, one[t]["solved"], args.dir / "trajectories" / f"{t.replace('/', '-')}.jsonl")
             for t, r in agent.items()]
    out = {"dir": str(args.dir), "summary": summary(paths), "paths": [asdict(p) for p in paths]}
    text = json.dumps(out, indent=1)
    if args.out:
        args.out.write_text(text + "\n")
    print(json.dumps(out["summary"], indent=1))


if __name__ == "__main__":
    main()
