"""The `process` fallback: limits, a scrubbed environment, process-group kill, and a loud warning."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest
from conftest import cli

from greenloop.errors import ConfigError
from greenloop.sandboxes.common import Limits
from greenloop.sandboxes.process import ProcessSandbox, SandboxWarning
from greenloop.sandboxes.select import choose

LIMITS = Limits(memory_bytes=512 * 1024**2, file_size_bytes=4 * 1024**2, processes=4096, cpu_seconds=20,
                output_bytes=32 * 1024)


def box() -> ProcessSandbox:
    with pytest.warns(SandboxWarning, match="does NOT isolate"):
        return ProcessSandbox(LIMITS)


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


def test_sandbox_choice() -> None:
    with pytest.warns(SandboxWarning):
        chosen, reason = choose("process", LIMITS)
    assert chosen.name == "process" and "requested" in reason
    with pytest.warns(SandboxWarning):
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
