"""The typed run record: every kind written in src/ is declared, lines round-trip through their types, and old or
foreign lines are skipped or kept untyped with a warning, never a crash."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest
from conftest import TASK, cli, summary, whole, write_script

from greenloop import record
from greenloop.runlog import load, story
from greenloop.trajectory import Trajectory

SRC = Path(__file__).resolve().parents[1] / "src" / "greenloop"


def _emit_calls() -> list[tuple[str, int, str, list[str]]]:
    """(file, line, kind, keyword names) of every `X.event(step, "kind", ...)` call in src/greenloop."""
    out = []
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "event":
                kind = node.args[1] if len(node.args) > 1 else None
                assert isinstance(kind, ast.Constant), f"{path}:{node.lineno}: the kind must be a literal"
                out.append((str(path.relative_to(SRC)), node.lineno, kind.value,
                            [k.arg for k in node.keywords if k.arg is not None]))
    return out


def test_every_kind_written_in_src_is_declared_with_its_fields() -> None:
    calls = _emit_calls()
    assert len(calls) >= 25  # the scan finds the call sites (it cannot silently find none)
    for file, line, kind, keywords in calls:
        assert kind in record.KINDS, f"{file}:{line}: declare the event kind '{kind}' in greenloop/record.py"
        unknown = set(keywords) - record.declared_fields(kind)
        assert not unknown, f"{file}:{line}: '{kind}' has undeclared fields {sorted(unknown)} (record.py)"


def test_round_trip_through_the_types(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    with Trajectory(path, "r1", strict=True) as traj:
        traj.event("test", "test_run", command=["pytest"], exit_code=1, passed=2, failed=1, errors=0,
                   timed_out=False, seconds=0.25, output="F..", regressions=[], new=[["t::a", "failed"]])
        traj.write(record.Commit(ts=0, run_id="", step="commit", sha="abc", branch="b", message="m", diff="d"))
        with pytest.raises(record.RecordError, match="not declared"):
            traj.event("x", "brand_new_kind", a=1)
        with pytest.raises(record.RecordError, match="exit_code"):
            traj.event("test", "test_run", command=["pytest"])
    reading = record.read(path, strict=True)
    run, commit = reading.events
    assert isinstance(run, record.TestRun) and run.failed == 1 and run.new == [["t::a", "failed"]]
    assert isinstance(commit, record.Commit) and commit.sha == "abc" and commit.run_id == "r1"
    again = record.parse_lines([json.dumps(e.to_json()) for e in reading.events], strict=True)
    assert again.events == reading.events


def test_undeclared_kind_is_kept_whole_and_old_or_foreign_lines_are_skipped(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    with Trajectory(path, "r1") as traj:  # not strict: a kind from a newer greenloop is written all the same
        traj.event("plan", "plan_made", files=["a.py"])
        traj.event("test", "test_run", command=["pytest"])  # fields that do not match its declaration
    with open(path, "a") as fh:
        fh.write('["not", "an", "event"]\n{"torn": \n')
        fh.write('{"ts": "soon", "run_id": 7, "step": null, "kind": "from_elsewhere"}\n')  # no number: ts 0
    reading = record.read(path)
    generic, partial, foreign = reading.events
    assert isinstance(foreign, record.GenericEvent) and (foreign.ts, foreign.run_id) == (0.0, "7")
    assert isinstance(generic, record.GenericEvent) and generic.kind == "plan_made"
    assert generic.data == {"files": ["a.py"]}
    assert isinstance(partial, record.GenericEvent) and partial.data == {"command": ["pytest"]}
    assert len(reading.warnings) == 3 and "line 3" in reading.warnings[1] and "line 4" in reading.warnings[2]
    with pytest.raises(record.RecordError):
        record.read(path, strict=True)


def test_old_record_without_record_version_loads(tmp_path: Path) -> None:
    path = tmp_path / "runs" / "20260101-old" / "trajectory.jsonl"
    path.parent.mkdir(parents=True)
    old = [{"ts": 1.0, "run_id": "old", "step": "start", "kind": "run_start", "greenloop_version": "0.0.1",
            "prompt_version": "1", "config": {}, "task": "an old task", "model": "scripted:x", "sandbox": "bwrap"},
           {"ts": 2.0, "run_id": "old", "step": "generate", "kind": "attempt", "number": 1, "outcome": "passed"},
           {"ts": 3.0, "run_id": "old", "step": "end", "kind": "run_end", "seconds": 2.0,
            "summary": {"status": "success", "attempts": 1, "branch": "greenloop/x", "commit": "abc"}}]
    path.write_text("".join(json.dumps(e) + "\n" for e in old) + "garbage\n")
    rec = load(path)
    assert (rec.task, rec.status, rec.attempts, rec.branch) == ("an old task", "success", 1, "greenloop/x")
    lines = story(rec)
    assert "attempt 1 (generate): passed" in lines and any("not JSON" in w for w in lines)
    assert record.read(path).first(record.RunStart).record_version == 0


def test_a_real_run_writes_only_declared_matching_events(repo: Path, tmp_path: Path) -> None:
    script = write_script(tmp_path / "s.json", [whole()])
    s = summary(cli("run", TASK, "--repo", str(repo), "--model", f"scripted:{script}", "--json"))
    assert s["status"] == "success"
    reading = record.read(Path(s["trajectory"]), strict=True)
    start = reading.first(record.RunStart)
    assert start.record_version == record.RECORD_VERSION and start.task == TASK
    assert reading.last(record.RunEnd).summary["status"] == "success"
    graded = reading.first(record.Grade).quality["files"]["textkit/slug.py"]
    assert s["quality"]["files"]["textkit/slug.py"] == graded and graded["cc_max"] == 1
    shown = cli("show", s["run_id"], "--repo", str(repo)).stdout
    assert "grade textkit/slug.py: complexity max 1" in shown
    mutation = s["quality"]["mutation"]
    assert mutation["total"] >= 1 and mutation["killed"] + mutation["survived"] == mutation["total"]
    assert cli("show", s["run_id"], "--repo", str(repo)).returncode == 0
