"""`greenloop doctor`: which sandbox will be used and why, and a self-test of its jail."""

from __future__ import annotations

import os
import socket
import sys
import tempfile
import threading
from pathlib import Path

from greenloop.protocols import Sandbox

CANARY = "GREENLOOP_DOCTOR_CANARY"
_PROBE = """
import os, socket, sys
bad = []
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
print("OK" if not bad else "FAIL: " + ", ".join(bad))
"""


def self_test(sandbox: Sandbox) -> tuple[bool, str, float]:
    """(passed, message, seconds): network off, /etc read-only, environment clean."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]
    threading.Thread(target=lambda: _accept_one(server), daemon=True).start()
    os.environ[CANARY] = "secret"
    try:
        with tempfile.TemporaryDirectory() as tmp:
            (Path(tmp) / "probe.py").write_text(_PROBE)
            result = sandbox.run([sys.executable, "probe.py", str(port)], Path(tmp), timeout_s=20)
    finally:
        os.environ.pop(CANARY, None)
        server.close()
    out = result.stdout.strip() or result.stderr.strip()
    return out == "OK", out, result.duration_s


def _accept_one(server: socket.socket) -> None:
    try:
        conn, _ = server.accept()
        conn.close()
    except OSError:
        pass
