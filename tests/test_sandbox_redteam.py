"""Red team: hostile programs in the real bwrap jail; each asserts that its host-side effect is absent."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from string import Template

import pytest

from greenloop.sandboxes.bwrap import BwrapSandbox, bwrap_problem
from greenloop.sandboxes.common import Limits
from greenloop.workspace import Workspace

pytestmark = [pytest.mark.bwrap, pytest.mark.skipif(bwrap_problem() is not None,
                                                     reason=f"bwrap unavailable: {bwrap_problem()}")]
LIMITS = Limits(memory_bytes=512 * 1024**2, file_size_bytes=8 * 1024**2, processes=64, cpu_seconds=20,
                output_bytes=64 * 1024)


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    token = secrets.token_hex(4)
    work = tmp_path / "worktree"
    work.mkdir()
    (work / ".git").write_text("gitdir: /nonexistent\n")
    user_repo = tmp_path / "user-repo"
    user_repo.mkdir()
    (user_repo / "keep.txt").write_text("mine\n")
    home_secret = Path.home() / f".greenloop-redteam-{token}"
    home_secret.write_text(f"HOME-SECRET-{token}")
    home_secret.chmod(0o644)
    monkeypatch.setenv("GREENLOOP_REDTEAM_SECRET", f"ENV-SECRET-{token}")
    monkeypatch.setenv("OPENAI_API_KEY", f"sk-{token}")
    ctx = {"token": token, "work": work, "repo": user_repo, "home": Path.home(), "home_secret": home_secret}
    yield ctx
    home_secret.unlink(missing_ok=True)
    for leftover in (Path("/etc") / f"gl-{token}", Path("/tmp") / f"gl-{token}", Path.home() / f"gl-{token}",
                     Path("/var/tmp") / f"gl-{token}", Path("/dev/shm") / f"gl-{token}"):
        leftover.unlink(missing_ok=True)


def run(ctx: dict, code: str, timeout: float = 20, **subs: object):
    """Run the program as hostile-<token>.py, so that leftovers() finds exactly its processes."""
    program = Template(code).substitute({k: str(v) for k, v in {**ctx, **subs}.items()})
    name = f"hostile-{ctx['token']}.py"
    (ctx["work"] / name).write_text(program)
    return BwrapSandbox(LIMITS).run([sys.executable, name], ctx["work"], timeout_s=timeout)


TRY = "def attempt(f):\n    try:\n        f(); print('SUCCEEDED')\n    except BaseException as e:\n        print('blocked', type(e).__name__)\n"

WRITES = {
    "etc": "/etc/gl-$token",
    "host_tmp": "/tmp/gl-$token",
    "home": "$home/gl-$token",
    "var_tmp": "/var/tmp/gl-$token",
    "dev_shm": "/dev/shm/gl-$token",
    "user_repo_absolute": "$repo/gl-$token",
    "user_repo_dotdot": "../user-repo/gl-$token",
}


@pytest.mark.parametrize("name", sorted(WRITES))
def test_writes_outside_the_worktree_do_not_reach_the_host(env: dict, name: str) -> None:
    target = Template(WRITES[name]).substitute({k: str(v) for k, v in env.items()})
    run(env, TRY + f"attempt(lambda: open({target!r}, 'w').write('pwned'))\n")
    host_path = (env["work"] / target).resolve() if not target.startswith("/") else Path(target)
    assert not host_path.exists()


def test_write_through_a_planted_symlink(env: dict) -> None:
    result = run(env, TRY + "import os\nos.symlink('$repo', 'escape')\nattempt(lambda: open('escape/gl-$token', 'w').write('x'))\n")
    assert not (env["repo"] / f"gl-{env['token']}").exists() and "blocked" in result.stdout


def test_write_through_a_symlink_already_in_the_worktree(env: dict) -> None:
    (env["work"] / "link").symlink_to(env["repo"])
    run(env, TRY + "attempt(lambda: open('link/gl-$token', 'w').write('x'))\n")
    assert not (env["repo"] / f"gl-{env['token']}").exists()
    assert sorted(p.name for p in env["repo"].iterdir()) == ["keep.txt"]


def test_user_repository_files_cannot_be_changed(env: dict) -> None:
    run(env, TRY + "attempt(lambda: open('$repo/keep.txt', 'w').write('gone'))\nimport os\n"
                   "attempt(lambda: os.remove('$repo/keep.txt'))\n")
    assert (env["repo"] / "keep.txt").read_text() == "mine\n"


def test_environment_secrets_do_not_reach_the_program(env: dict) -> None:
    result = run(env, "import os\nprint(dict(os.environ))\nprint(open('/proc/self/environ','rb').read())\n")
    assert env["token"] not in result.stdout + result.stderr and "OPENAI_API_KEY" not in result.stdout


def test_home_directory_secrets_are_hidden(env: dict) -> None:
    result = run(env, TRY + "attempt(lambda: print(open('$home_secret').read()))\nimport os\nprint(os.listdir('$home'))\n")
    assert f"HOME-SECRET-{env['token']}" not in result.stdout and env["home_secret"].name not in result.stdout


def test_loopback_server_outside_is_unreachable(env: dict) -> None:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.settimeout(3)
    port = server.getsockname()[1]
    accepted: list[bool] = []
    thread = threading.Thread(target=lambda: accepted.append(_accept(server)))
    thread.start()
    result = run(env, TRY + "import socket\nattempt(lambda: socket.create_connection(('127.0.0.1', $port), timeout=2))\n",
                 port=port)
    thread.join()
    server.close()
    assert accepted == [False] and "blocked" in result.stdout


def _accept(server: socket.socket) -> bool:
    try:
        server.accept()[0].close()
        return True
    except OSError:
        return False


def test_unix_socket_on_the_host_is_unreachable(env: dict, tmp_path: Path) -> None:
    path = Path("/tmp") / f"gl-sock-{env['token']}"
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(path))
    server.listen(1)
    try:
        result = run(env, TRY + "import socket\ns = socket.socket(socket.AF_UNIX)\nattempt(lambda: s.connect('$path'))\n",
                     path=path)
    finally:
        server.close()
        path.unlink()
    assert "blocked" in result.stdout


def test_dns_does_not_resolve(env: dict) -> None:
    result = run(env, TRY + "import socket\nattempt(lambda: socket.getaddrinfo('pypi.org', 443))\n")
    assert "blocked" in result.stdout


def test_fork_storm_is_contained(env: dict) -> None:
    result = run(env, "import os\nn = 0\ntry:\n    while True:\n        if os.fork() == 0:\n            import time; time.sleep(30)\n"
                      "        n += 1\nexcept OSError as e:\n    print('stopped after', n)\n", timeout=15)
    assert "stopped after" in result.stdout and not result.timed_out
    assert int(result.stdout.split()[-1]) < LIMITS.processes
    assert leftovers(env["token"]) == 0


def leftovers(token: str) -> int:
    """Live processes still running this test's hostile program (zombies are dead, awaiting init)."""
    time.sleep(0.3)
    out = subprocess.run(["ps", "-eo", "stat=,args="], capture_output=True, text=True, timeout=10).stdout
    return sum(1 for line in out.splitlines() if f"hostile-{token}" in line and not line.strip().startswith("Z"))


def test_memory_hog_is_stopped(env: dict) -> None:
    result = run(env, "x = bytearray(2 * 1024**3)\nprint('allocated')\n")
    assert "allocated" not in result.stdout and "MemoryError" in result.stderr


def test_file_size_hog_is_capped(env: dict) -> None:
    result = run(env, "f = open('big.bin', 'wb')\nfor _ in range(64):\n    f.write(b'x' * 1024**2)\nprint('wrote all')\n")
    assert "wrote all" not in result.stdout
    assert (env["work"] / "big.bin").stat().st_size <= LIMITS.file_size_bytes


def test_infinite_loop_is_killed_at_the_timeout(env: dict) -> None:
    result = run(env, "while True:\n    pass\n", timeout=2)
    assert result.timed_out and result.duration_s < 5


def test_double_forked_daemon_does_not_outlive_the_run(env: dict) -> None:
    code = ("import os, time\nif os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n"
            "        while True:\n            open('heartbeat', 'w').write(str(time.time()))\n            time.sleep(0.05)\n"
            "    os._exit(0)\ntime.sleep(0.5)\nprint('parent exits')\n")
    result = run(env, code)
    assert "parent exits" in result.stdout
    beat = env["work"] / "heartbeat"
    first = beat.read_text()
    time.sleep(0.5)
    assert beat.read_text() == first  # nobody writes any more
    assert leftovers(env["token"]) == 0


def test_git_metadata_of_the_worktree_is_read_only(env: dict) -> None:
    run(env, TRY + "attempt(lambda: open('.git', 'w').write('gitdir: /tmp/evil'))\n"
                   "import os\nattempt(lambda: os.makedirs('.git/hooks'))\nattempt(lambda: os.remove('.git'))\n")
    assert (env["work"] / ".git").read_text() == "gitdir: /nonexistent\n"


def test_common_git_dir_hooks_and_config_cannot_be_planted(tmp_path: Path) -> None:
    from greenloop import gitops
    root = tmp_path / "r"
    root.mkdir()
    for args in (["init", "-q"], ["-c", "user.name=a", "-c", "user.email=a@b", "commit", "-q", "--allow-empty", "-m", "i"]):
        subprocess.run(["git", *args], cwd=root, check=True, timeout=30)
    repo = gitops.open_repo(root)
    wt = gitops.create_worktree(repo, gitops.new_run_id(), "red team")
    config_before = (repo.common_dir / "config").read_text()
    code = (TRY + "import subprocess\n"
            "attempt(lambda: open('$common/hooks/post-commit', 'w').write('#!/bin/sh\\ntouch /tmp/pwned'))\n"
            "attempt(lambda: open('$common/config', 'a').write('[core]\\n\\tfsmonitor = touch /tmp/pwned\\n'))\n"
            "attempt(lambda: open('$common/worktrees/$wtname/config.worktree', 'w').write('[core]\\nhooksPath=/tmp'))\n"
            "r = subprocess.run(['git', 'config', 'core.hooksPath', '/tmp'], capture_output=True)\nprint('git', r.returncode)\n")
    program = Template(code).substitute(common=repo.common_dir, wtname=wt.path.name)
    (wt.path / "hostile.py").write_text(program)
    result = BwrapSandbox(LIMITS).run([sys.executable, "hostile.py"], wt.path, timeout_s=20)
    try:
        assert "SUCCEEDED" not in result.stdout and "git 0" not in result.stdout, result.stdout
        assert not (repo.common_dir / "hooks" / "post-commit").exists()
        assert (repo.common_dir / "config").read_text() == config_before
        assert not (repo.common_dir / "worktrees" / wt.path.name / "config.worktree").exists()
    finally:
        gitops.remove_worktree(repo, wt, delete_branch=True)


def test_huge_output_is_truncated_with_a_marker(env: dict) -> None:
    result = run(env, "import sys\nsys.stdout.write('x' * 10 * 1024**2)\n")
    assert result.truncated and "output truncated" in result.stdout
    assert len(result.stdout) < LIMITS.output_bytes + 200


def test_ptrace_and_signals_cannot_reach_host_processes(env: dict) -> None:
    victim = subprocess.Popen(["sleep", "30"])
    try:
        code = (TRY + "import ctypes, os, signal\nlibc = ctypes.CDLL(None, use_errno=True)\n"
                "print('ptrace', libc.ptrace(16, $pid, 0, 0))\n"
                "attempt(lambda: os.kill($pid, signal.SIGKILL))\nattempt(lambda: os.kill($me, signal.SIGKILL))\n"
                "attempt(lambda: os.kill(os.getppid(), signal.SIGKILL))\n")
        result = run(env, code, pid=victim.pid, me=os.getpid())
        assert "ptrace -1" in result.stdout
        assert victim.poll() is None  # still alive
    finally:
        victim.kill()
        victim.wait(timeout=10)


def test_killing_the_sandbox_parent_leaves_the_host_untouched(env: dict) -> None:
    result = run(env, "import os, signal\nos.kill(1, signal.SIGKILL)\nos.kill(os.getppid(), signal.SIGKILL)\nprint('alive')\n")
    assert result.exit_code != 0 or "alive" in result.stdout  # it can only kill inside its own namespace
    assert leftovers(env["token"]) == 0


def test_remount_and_nested_namespaces_are_refused(env: dict) -> None:
    result = run(env, "import subprocess\nfor cmd in (['mount', '-o', 'remount,rw', '/'], ['unshare', '-Ur', 'true']):\n"
                      "    r = subprocess.run(cmd, capture_output=True)\n    print(cmd[0], r.returncode)\n"
                      + TRY + "attempt(lambda: open('/etc/gl-$token', 'w'))\n")
    assert "mount 0" not in result.stdout and "unshare 0" not in result.stdout
    assert not Path(f"/etc/gl-{env['token']}").exists()


def test_sysctl_and_proc_writes_are_refused(env: dict) -> None:
    before = Path("/proc/sys/kernel/hostname").read_text()
    result = run(env, TRY + "attempt(lambda: open('/proc/sys/kernel/hostname', 'w').write('pwned'))\n"
                            "attempt(lambda: open('/proc/sysrq-trigger', 'w').write('h'))\n")
    assert "SUCCEEDED" not in result.stdout and Path("/proc/sys/kernel/hostname").read_text() == before


def test_the_program_runs_as_an_unprivileged_user(env: dict) -> None:
    result = run(env, "import os\nprint(os.getuid() != 0 or os.geteuid() != 0, open('/proc/self/status').read())\n")
    status = result.stdout
    assert "CapEff:\t0000000000000000" in status


def test_results_are_read_back_without_following_symlinks(env: dict) -> None:
    run(env, "import os\nos.symlink('/etc/passwd', 'report.xml')\n")
    from greenloop.errors import GuardrailViolation
    with pytest.raises(GuardrailViolation):
        Workspace(env["work"]).read_text("report.xml")


def test_the_projects_own_venv_is_bound_read_only(tmp_path: Path) -> None:
    venv = tmp_path / "project" / ".venv"  # under /tmp, which the jail masks: it must be bound explicitly
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    work = tmp_path / "worktree"  # greenloop's worktree; the venv lives in the user's checkout beside it
    work.mkdir()
    code = "import sys\nprint(sys.prefix)\ntry:\n    open(sys.prefix + '/pwned', 'w')\nexcept OSError as e:\n    print('blocked', type(e).__name__)\n"
    result = BwrapSandbox(LIMITS).run([str(venv / "bin" / "python"), "-c", code], work, timeout_s=30)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[0] == str(venv) and "blocked" in result.stdout
    assert not (venv / "pwned").exists()
