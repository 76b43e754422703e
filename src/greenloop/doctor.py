"""`greenloop doctor`: which sandbox will be used and why, its caps, and a self-test of its jail (network off,
/etc read-only, environment clean, and the seccomp filter measured: ptrace and keyctl must answer EPERM)."""

from __future__ import annotations

import os
import socket
import sys
import tempfile
import threading
from pathlib import Path

from greenloop.protocols import Sandbox
from greenloop.sandboxes import seccomp
from greenloop.sandboxes.common import Limits

CANARY = "GREENLOOP_DOCTOR_CANARY"
_PROBE = """
import ctypes, errno, os, socket, sys
bad = []
libc = ctypes.CDLL(None, use_errno=True)
denied = []
for name, nr in ((n, int(v)) for n, v in (a.split("=") for a in sys.argv[2:])):
    denied.append(libc.syscall(nr, 0, 0, 0, 0, 0) == -1 and ctypes.get_errno() == errno.EPERM)
seccomp = "seccomp active" if denied and all(denied) else "seccomp inactive"
if not denied or not all(denied):
    bad.append(seccomp)
try:
    socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1).close(); bad.append("network reachable")
except OSError:
    pass
try:
    open("/etc/greenloop-doctor-probe", "w").close(); bad.append("/etc writable")
except OSError:
    pass
if any(k.startswith("GREENLOOP_DOCTOR") for k in os.environ):
    bad.append("environment leaked")
print("OK (" + seccomp + ")" if not bad else "FAIL: " + ", ".join(bad))
"""
# ptrace(PTRACE_TRACEME) succeeds without the filter; keyctl(KEYCTL_GET_KEYRING_ID, ...) does not fail with EPERM.
_SECCOMP_PROBES = ("ptrace", "keyctl")


def limits_report(limits: Limits) -> str:
    """The caps every run gets, one per line (for `greenloop doctor`)."""
    mib = 1024**2
    filt = "on" if seccomp.supported() else "not available on this architecture"
    return (f"tmpfs cap: {limits.tmpfs_bytes // mib} MiB per scratch tmpfs (/tmp, /dev/shm)\n"
            f"worktree growth cap: {limits.worktree_growth_bytes // mib} MiB\n"
            f"memory: {limits.memory_bytes // mib} MiB, file size: {limits.file_size_bytes // mib} MiB, "
            f"processes: {limits.processes}, cpu: {limits.cpu_seconds} s, output: {limits.output_bytes} bytes\n"
            f"seccomp filter: {filt}")


def self_test(sandbox: Sandbox) -> tuple[bool, str, float]:
    """(passed, message, seconds): network off, /etc read-only, environment clean, seccomp filter active."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]
    threading.Thread(target=lambda: _accept_one(server), daemon=True).start()
    os.environ[CANARY] = "secret"
    try:
        with tempfile.TemporaryDirectory() as tmp:
            (Path(tmp) / "probe.py").write_text(_PROBE)
            numbers = seccomp.syscall_numbers()
            probes = [f"{name}={numbers[name]}" for name in _SECCOMP_PROBES if name in numbers]
            result = sandbox.run([sys.executable, "probe.py", str(port), *probes], Path(tmp), timeout_s=20)
    finally:
        os.environ.pop(CANARY, None)
        server.close()
    out = result.stdout.strip() or result.stderr.strip()
    return out.startswith("OK"), out, result.duration_s


def _accept_one(server: socket.socket) -> None:
    try:
        conn, _ = server.accept()
        conn.close()
    except OSError:
        pass
