"""The `process` fallback: limits, a scrubbed environment, process-group kill, output and growth caps; its warning
is a constant the run summary carries, not a Python warning that a filter could silence."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import cli

from greenloop.errors import ConfigError
from greenloop.sandboxes.common import Limits
from greenloop.sandboxes.process import WARNING, ProcessSandbox
from greenloop.sandboxes.select import choose

LIMITS = Limits(memory_bytes=512 * 1024**2, file_size_bytes=4 * 1024**2, processes=4096, cpu_seconds=20,
                output_bytes=32 * 1024, worktree_growth_bytes=8 * 1024**2)


def box() -> ProcessSandbox:
    return ProcessSandbox(LIMITS)


def test_the_warning_is_a_constant_not_a_python_warning_a_filter_could_silence() -> None:
    code = ("import warnings\nwarnings.simplefilter('error')\nfrom greenloop.sandboxes.select import choose\n"
            "from greenloop.sandboxes.common import Limits\nfrom greenloop.sandboxes.process import WARNING\n"
            "print(choose('process', Limits())[0].name, choose('none', Limits())[0].name)\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.stdout.split() == ["process", "none"], proc.stderr
    assert "does NOT isolate" in WARNING


def test_environment_is_built_from_an_allowlist(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "very-secret")
    result = box().run([sys.executable, "-c", "import os; print(sorted(os.environ))"], tmp_path, timeout_s=20)
    assert "AWS_SECRET" not in result.stdout and "'PATH'" in result.stdout


def test_limits_apply(tmp_path: Path) -> None:
    mem = box().run([sys.executable, "-c", "x = bytearray(2 * 1024**3)"], tmp_path, timeout_s=20)
    assert "MemoryError" in mem.stderr
    big = box().run([sys.executable, "-c", "open('f', 'wb').write(b'x' * 8 * 1024**2)"], tmp_path, timeout_s=20)
    assert big.exit_code != 0 and (tmp_path / "f").stat().st_size <= LIMITS.file_size_bytes


def test_timeout_kills_the_process_group(tmp_path: Path) -> None:
    code = ("import os, time\nif os.fork() == 0:\n    while True:\n        open('beat', 'w').write(str(time.time()))\n"
            "        time.sleep(0.05)\ntime.sleep(60)\n")
    result = box().run([sys.executable, "-c", code], tmp_path, timeout_s=1)
    assert result.timed_out and result.duration_s < 5
    first = (tmp_path / "beat").read_text()
    time.sleep(0.4)
    assert (tmp_path / "beat").read_text() == first


def test_output_is_capped(tmp_path: Path) -> None:
    result = box().run([sys.executable, "-c", "print('y' * 200000)"], tmp_path, timeout_s=20)
    assert result.truncated and "output truncated" in result.stdout


def test_output_keeps_its_head_and_its_tail(tmp_path: Path) -> None:
    code = "import sys\nprint('HEAD-LINE')\nsys.stdout.write('x' * 3 * 1024**2)\nprint()\nprint('SUMMARY-LINE')\n"
    result = box().run([sys.executable, "-c", code], tmp_path, timeout_s=20)
    assert result.stdout.startswith("HEAD-LINE") and result.stdout.rstrip().endswith("SUMMARY-LINE")
    assert result.truncated and "bytes omitted" in result.stdout
    omitted = int(result.stdout.split("output truncated: ")[1].split()[0])
    total = len("HEAD-LINE\n") + 3 * 1024**2 + len("\nSUMMARY-LINE\n")
    assert omitted == total - LIMITS.output_bytes  # all that is not kept is counted as omitted
    assert len(result.stdout.encode()) <= LIMITS.output_bytes + 200


def test_worktree_growth_is_stopped(tmp_path: Path) -> None:
    code = "import time\nfor i in range(10**6):\n    open(f'f{i}', 'wb').write(b'x' * 65536)\n    time.sleep(0.002)\n"
    result = box().run([sys.executable, "-c", code], tmp_path, timeout_s=20)
    assert not result.timed_out and result.exit_code != 0 and "worktree grew" in result.stderr
    assert sum(p.stat().st_size for p in tmp_path.iterdir()) < 64 * 1024**2


def test_sandbox_choice() -> None:
    chosen, reason = choose("process", LIMITS)
    assert chosen.name == "process" and "requested" in reason
    assert choose("none", LIMITS)[0].name == "none"
    with pytest.raises(ConfigError, match="unknown"):
        choose("docker", LIMITS)


def test_doctor_reports_the_sandbox_and_its_self_test() -> None:
    proc = cli("doctor")
    assert "sandbox:" in proc.stdout and "self-test:" in proc.stdout
    if proc.returncode == 0:
        assert "self-test: OK" in proc.stdout and "sandbox: bwrap" in proc.stdout
    else:  # the process fallback cannot pass: it does not isolate, and doctor says so
        assert "FAIL" in proc.stdout
