"""Red team, part "jail": hostile programs in the real bwrap jail try to read what the jail must hide (git
metadata, the user's checkout, other homes), to exhaust host memory or disk, to use syscalls the tests never
need, and to leave files owned by the sandbox uid. Each asserts the host-side effect is absent."""

from __future__ import annotations

import ctypes
import errno
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from string import Template

import pytest

from greenloop import gitops
from greenloop.sandboxes.bwrap import BwrapSandbox, bwrap_problem
from greenloop.sandboxes.common import Limits
from greenloop.sandboxes.seccomp import DENIED

pytestmark = [pytest.mark.bwrap, pytest.mark.skipif(bwrap_problem() is not None,
                                                     reason=f"bwrap unavailable: {bwrap_problem()}")]
MiB = 1024**2
LIMITS = Limits(memory_bytes=512 * MiB, file_size_bytes=8 * MiB, processes=64, cpu_seconds=20,
                output_bytes=64 * 1024, tmpfs_bytes=16 * MiB, worktree_growth_bytes=8 * MiB)
TRY = "def attempt(f):\n    try:\n        f(); print('SUCCEEDED')\n    except BaseException as e:\n        print('blocked', type(e).__name__)\n"


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.name=a", "-c", "user.email=a@b", *args], cwd=cwd, check=True,
                          capture_output=True, text=True, timeout=60).stdout


def jail(work: Path, code: str, limits: Limits = LIMITS, timeout: float = 30, **subs: object):
    (work / "hostile.py").write_text(Template(code).substitute({k: str(v) for k, v in subs.items()}))
    return BwrapSandbox(limits).run([sys.executable, "hostile.py"], work, timeout_s=timeout)


@pytest.fixture
def visible_dir() -> Iterator[Path]:
    """A directory the old jail showed (the ro-bound host /, not under the masked /tmp): where users keep repos."""
    path = Path(tempfile.mkdtemp(prefix="greenloop-redteam-", dir="/var/tmp"))
    path.chmod(0o755)  # as a user's directory is: readable by others, so only the jail's layout can hide it
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def planted(visible_dir: Path) -> Iterator[dict]:
    """A user's repository with secrets in every place the jail must hide, and a real greenloop worktree."""
    token = os.urandom(4).hex()
    root = visible_dir / "project"
    root.mkdir()
    (root / "app.py").write_text("X = 1\n")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "init")
    git(root, "branch", f"secret-branch-{token}")
    git(root, "config", "http.extraHeader", f"Authorization: token ghp_{token}")
    (root / ".env").write_text(f"API_KEY=env-{token}\n")
    git(root, "worktree", "add", "-q", str(visible_dir / "feature"), "-b", "feature")  # the user's own second checkout
    (visible_dir / "feature" / ".env").write_text(f"API_KEY=feature-{token}\n")
    repo = gitops.open_repo(root)
    old = repo.greenloop_dir / "runs" / "20200101-000000-abcdef"
    old.mkdir(parents=True)
    (old / "trajectory.jsonl").write_text(f'{{"prompt": "record-{token}"}}\n')
    other = gitops.create_worktree(repo, gitops.new_run_id(), "other run")
    (other.path / "notes.txt").write_text(f"other-run-{token}")
    wt = gitops.create_worktree(repo, gitops.new_run_id(), "red team")
    yield {"token": token, "root": root, "common": repo.common_dir, "wt": wt.path, "other": other.path,
           "feature": visible_dir / "feature"}
    gitops.remove_worktree(repo, wt, delete_branch=True)
    gitops.remove_worktree(repo, other, delete_branch=True)


# 1. git metadata and the user's checkout

def test_git_config_with_a_token_is_unreadable(planted: dict) -> None:
    result = jail(planted["wt"], TRY + "import subprocess\nattempt(lambda: print(open('$common/config').read()))\n"
                  "print(subprocess.run(['git', 'config', '--list'], capture_output=True, text=True).stdout)\n",
                  common=planted["common"])
    assert planted["token"] not in result.stdout + result.stderr


def test_other_branches_refs_are_invisible(planted: dict) -> None:
    code = (TRY + "import os, subprocess\n"
            "attempt(lambda: print(os.listdir('$common/refs/heads')))\n"
            "attempt(lambda: print(open('$common/packed-refs').read()))\n"
            "for args in (['branch', '-a'], ['for-each-ref'], ['show-ref']):\n"
            "    print(subprocess.run(['git', *args], capture_output=True, text=True).stdout)\n")
    result = jail(planted["wt"], code, common=planted["common"])
    assert f"secret-branch-{planted['token']}" not in result.stdout + result.stderr


def test_greenloop_records_and_other_runs_are_invisible(planted: dict) -> None:
    code = (TRY + "import os\n"
            "attempt(lambda: print(open('$common/greenloop/runs/20200101-000000-abcdef/trajectory.jsonl').read()))\n"
            "attempt(lambda: print(os.listdir('$common/greenloop/runs')))\n"
            "attempt(lambda: print(open('$other/notes.txt').read()))\n")
    result = jail(planted["wt"], code, common=planted["common"], other=planted["other"])
    assert planted["token"] not in result.stdout and "20200101" not in result.stdout


def test_the_users_checkouts_are_hidden(planted: dict) -> None:
    code = TRY + ("import os\nfor tree in ('$root', '$feature'):\n    attempt(lambda: print(open(tree + '/.env').read()))\n"
                  "    attempt(lambda: print(os.listdir(tree)))\n")
    result = jail(planted["wt"], code, root=planted["root"], feature=planted["feature"])
    assert planted["token"] not in result.stdout and ".env" not in result.stdout and "app.py" not in result.stdout


def test_git_still_reads_the_worktrees_own_history(planted: dict) -> None:
    head = git(planted["wt"], "rev-parse", "HEAD").strip()
    result = jail(planted["wt"], "import subprocess\nfor a in (['log', '-1', '--format=%H'], ['status', '--short']):\n"
                  "    r = subprocess.run(['git', '-c', 'safe.directory=*', *a], capture_output=True, text=True)\n"
                  "    print(r.returncode, r.stdout, r.stderr)\n")
    assert f"0 {head}" in result.stdout, result.stdout + result.stderr
    assert "hostile.py" in result.stdout  # git status saw the worktree through its own index


# 2. homes

def test_secrets_in_other_homes_and_in_HOME_are_unreadable(visible_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    token = os.urandom(4).hex()
    other_home = Path("/home") / f"gl-redteam-{token}"
    other_home.mkdir(parents=True)
    fake_home = visible_dir / "home"
    fake_home.mkdir()
    try:
        for home in (other_home, fake_home):
            (home / ".netrc").write_text(f"machine x password pw-{token}\n")
            (home / ".netrc").chmod(0o644)
        monkeypatch.setenv("HOME", str(fake_home))
        work = visible_dir / "work"
        work.mkdir()
        result = jail(work, TRY + "import os\nfor h in ('$other', '$fake'):\n"
                      "    attempt(lambda: print(open(h + '/.netrc').read()))\n    attempt(lambda: print(os.listdir(h)))\n"
                      "attempt(lambda: print(os.listdir('/home')))\n", other=other_home, fake=fake_home)
        assert token not in result.stdout and ".netrc" not in result.stdout, result.stdout
    finally:
        shutil.rmtree(other_home)


def test_an_interpreter_under_a_home_stays_visible(tmp_path: Path) -> None:
    token = os.urandom(4).hex()
    home = Path("/home") / f"gl-redteam-{token}"
    try:
        venv = home / "venv"
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
        work = tmp_path / "w"
        work.mkdir()
        result = BwrapSandbox(LIMITS).run([str(venv / "bin" / "python"), "-c", "import sys; print(sys.prefix)"],
                                          work, timeout_s=30)
        assert result.exit_code == 0 and result.stdout.strip() == str(venv), result.stderr
    finally:
        shutil.rmtree(home, ignore_errors=True)


# 3. tmpfs caps

FILL = ("import os\nn = 0\ntry:\n    os.makedirs('$where', exist_ok=True)\n    for i in range($chunks):\n"
        "        with open(f'$where/fill{i}', 'wb') as f:\n            f.write(b'x' * 1048576)\n        n += 1\n"
        "    print('wrote all', n)\nexcept OSError as e:\n    print('stopped', n, e.errno)\n")  # 1 MiB files: under RLIMIT_FSIZE


@pytest.mark.parametrize("where", ["/tmp", "/dev/shm", "/run", "/dev", "/home", "/root", "/tmp/home", "$HOME"])
def test_every_tmpfs_is_capped(tmp_path: Path, where: str) -> None:
    where = where.replace("$HOME", str(Path.home()))
    chunks = 2 * LIMITS.tmpfs_bytes // MiB
    result = jail(tmp_path, FILL, where=where, chunks=chunks)
    assert "wrote all" not in result.stdout, result.stdout + result.stderr
    words = result.stdout.split()
    assert words[0] == "stopped" and int(words[1]) <= LIMITS.tmpfs_bytes // MiB  # the writes stopped at the cap
    assert int(words[2]) in (errno.ENOSPC, errno.EROFS, errno.EACCES)


# 4. worktree growth

GROW = {
    "big_files": "import time\nfor i in range(100000):\n    open(f'blob{i}', 'wb').write(b'x' * 1048576); time.sleep(0.02)\n"
                 "print('wrote all')\n",
    "many_small_files": "import os\nos.mkdir('d')\nfor i in range(10**7):\n    open(f'd/f{i}', 'w').close()\nprint('wrote all')\n",
}


@pytest.mark.parametrize("kind", sorted(GROW))
def test_worktree_growth_is_stopped(tmp_path: Path, kind: str) -> None:
    result = jail(tmp_path, GROW[kind], timeout=8)
    assert "wrote all" not in result.stdout and not result.timed_out, result.stderr[-500:]
    assert "worktree grew" in result.stderr and result.exit_code != 0
    blobs = sum(p.stat().st_size for p in tmp_path.glob("blob*"))
    assert blobs < 200 * MiB


def test_growth_under_the_cap_is_fine(tmp_path: Path) -> None:
    result = jail(tmp_path, "open('a.bin', 'wb').write(b'x' * 1048576)\nprint('done')\n")
    assert result.exit_code == 0 and "done" in result.stdout and "worktree grew" not in result.stderr


# 5. seccomp

SYSCALL = ("import ctypes, os\nlibc = ctypes.CDLL(None, use_errno=True)\nlibc.syscall.restype = ctypes.c_long\n"
           "r = libc.syscall($nr, 0, 0, 0, 0, 0, 0)\nprint('result', r, ctypes.get_errno())\n")


@pytest.mark.parametrize("name", sorted(DENIED))
def test_needless_syscalls_get_eperm(tmp_path: Path, name: str) -> None:
    from greenloop.sandboxes.seccomp import syscall_numbers
    result = jail(tmp_path, SYSCALL, nr=syscall_numbers()[name])
    assert f"result -1 {errno.EPERM}" in result.stdout, result.stdout + result.stderr


def test_ptrace_of_a_sibling_and_traceme_fail(tmp_path: Path) -> None:
    code = ("import ctypes, os, time\nlibc = ctypes.CDLL(None, use_errno=True)\npid = os.fork()\n"
            "if pid == 0:\n    time.sleep(5); os._exit(0)\n"
            "print('attach', libc.ptrace(16, pid, 0, 0), ctypes.get_errno())\n"
            "print('traceme', libc.ptrace(0, 0, 0, 0), ctypes.get_errno())\nos.kill(pid, 9)\n")
    result = jail(tmp_path, code)
    assert f"attach -1 {errno.EPERM}" in result.stdout and f"traceme -1 {errno.EPERM}" in result.stdout, result.stdout


def test_the_filter_is_installed(tmp_path: Path) -> None:
    result = jail(tmp_path, "print(open('/proc/self/status').read())\n")
    assert "Seccomp:\t2" in result.stdout


@pytest.mark.skipif(os.uname().machine != "x86_64", reason="x32 is an x86_64 ABI")
def test_a_foreign_abi_syscall_kills_the_process(tmp_path: Path) -> None:
    code = ("import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\nprint('before', flush=True)\n"
            "libc.syscall(39 | 0x40000000)\nprint('survived', flush=True)\n")  # x32 getpid
    result = jail(tmp_path, code)
    assert "before" in result.stdout and "survived" not in result.stdout and result.exit_code != 0


I386 = ("import ctypes, mmap\ncode = bytes([0xb8, 0x14, 0, 0, 0, 0xcd, 0x80, 0xc3])  # mov eax, 20 (getpid); int 0x80; ret\n"
        "buf = mmap.mmap(-1, mmap.PAGESIZE, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)\nbuf.write(code)\n"
        "addr = ctypes.addressof(ctypes.c_char.from_buffer(buf))\nprint('before', flush=True)\n"
        "print('i386 getpid', ctypes.CFUNCTYPE(ctypes.c_int)(addr)(), flush=True)\n")


@pytest.mark.skipif(os.uname().machine != "x86_64", reason="the i386 ABI is an x86_64 one here")
def test_an_i386_syscall_kills_the_process(tmp_path: Path) -> None:
    host = subprocess.run([sys.executable, "-c", I386], capture_output=True, text=True, timeout=30)
    if "i386 getpid" not in host.stdout:
        pytest.skip("this kernel has no i386 emulation")
    result = jail(tmp_path, I386)
    assert "before" in result.stdout and "i386 getpid" not in result.stdout and result.exit_code != 0


def test_ordinary_pytest_still_works_in_the_jail(tmp_path: Path) -> None:
    (tmp_path / "test_ok.py").write_text("import subprocess, threading\n\ndef test_a(tmp_path):\n"
                                         "    (tmp_path / 'x').write_text('1')\n"
                                         "    assert subprocess.run(['true']).returncode == 0\n\n"
                                         "def test_b():\n    t = threading.Thread(target=print); t.start(); t.join()\n")
    result = BwrapSandbox(LIMITS).run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_ok.py"],
                                      tmp_path, timeout_s=60)
    assert result.exit_code == 0 and "2 passed" in result.stdout, result.stdout + result.stderr


# 6. ownership after a run as root

@pytest.mark.skipif(os.geteuid() != 0, reason="the uid switch happens only when greenloop runs as root")
def test_the_worktree_is_owned_by_its_owner_again_after_the_run(tmp_path: Path) -> None:
    work = tmp_path / "w"
    (work / "pkg").mkdir(parents=True)
    (work / "pkg" / "mod.py").write_text("x = 1\n")
    for p in (work, work / "pkg", work / "pkg" / "mod.py"):
        os.chown(p, 4321, 4322)
    code = ("import os\nos.makedirs('a/b/c')\nopen('a/b/c/f.txt', 'w').write('x')\nos.symlink('/etc/passwd', 'a/link')\n"
            "os.mkfifo('a/fifo')\nopen('pkg/new.py', 'w').write('y')\nopen('suid', 'w').write('#!/bin/sh\\n')\n"
            "os.chmod('suid', 0o6755)\nos.mkdir('locked'); open('locked/x', 'w').close(); os.chmod('locked', 0)\n")
    result = jail(work, code)
    assert result.exit_code == 0, result.stderr
    seen = 0
    for dirpath, dirnames, filenames in os.walk(work):
        for name in (".", *dirnames, *filenames):
            st = os.lstat(os.path.join(dirpath, name))
            assert (st.st_uid, st.st_gid) == (4321, 4322), os.path.join(dirpath, name)
            assert not st.st_mode & (stat.S_ISUID | stat.S_ISGID), os.path.join(dirpath, name)
            seen += 1
    assert seen >= 10
    assert os.lstat(work / "locked" / "x").st_uid == 4321


# 7. staging directories of a killed greenloop

STAGER = ("import sys\nfrom pathlib import Path\nfrom greenloop.sandboxes.bwrap import BwrapSandbox\n"
          "BwrapSandbox().run(['/bin/sleep', '60'], Path(sys.argv[1]), timeout_s=60)\n")


@pytest.mark.skipif(os.geteuid() != 0, reason="staging happens only when greenloop runs as root")
def test_staging_dirs_of_a_killed_run_are_swept(tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-c", STAGER, str(tmp_path)])
    pattern = f"greenloop-stage-{proc.pid}-*"
    deadline = time.monotonic() + 30
    while not list(Path(tempfile.gettempdir()).glob(pattern)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert list(Path(tempfile.gettempdir()).glob(pattern)), "the stager never staged"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    assert list(Path(tempfile.gettempdir()).glob(pattern))  # SIGKILL left it behind
    work = tmp_path / "w2"
    work.mkdir()
    assert BwrapSandbox(LIMITS).run(["/bin/true"], work, timeout_s=30).exit_code == 0
    assert not list(Path(tempfile.gettempdir()).glob(pattern))


# 8. output keeps its tail

def test_the_output_tail_survives_truncation(tmp_path: Path) -> None:
    result = jail(tmp_path, "import sys\nsys.stdout.write('x' * 3 * 1024**2)\nprint()\nprint('SUMMARY-LINE')\n")
    assert result.truncated and "SUMMARY-LINE" in result.stdout and "output truncated" in result.stdout
    assert len(result.stdout.encode()) <= LIMITS.output_bytes + 200


# 9. selection never silently weakens

def _fake_bwrap(bin_dir: Path, fail_times: int) -> dict[str, str]:
    """A `bwrap` first on PATH that fails `fail_times` times (counted in a file), then execs the real one."""
    real = shutil.which("bwrap")
    state = bin_dir / "state"
    state.mkdir(mode=0o777)
    state.chmod(0o777)  # the root path runs bwrap as the sandbox uid
    script = bin_dir / "bwrap"
    script.write_text(f"#!/bin/sh\nn=$(ls {state} | wc -l)\nif [ \"$n\" -lt {fail_times} ]; then\n"
                      f"  touch {state}/fail$n; echo 'transient: setting up uid map: Resource busy' >&2; exit 1\nfi\n"
                      f"exec {real} \"$@\"\n")
    script.chmod(0o755)
    return {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}


CHOOSE = ("from greenloop.sandboxes.select import choose\nfrom greenloop.sandboxes.common import Limits\nimport sys\n"
          "try:\n    box, reason = choose(sys.argv[1], Limits())\n    print('chose', box.name, reason)\n"
          "except Exception as e:\n    print('refused', type(e).__name__, e)\n")


@pytest.mark.parametrize(("fail_times", "kind", "expected"), [(1, "auto", "chose bwrap"), (99, "auto", "chose process"),
                                                             (99, "bwrap", "refused ConfigError")])
def test_sandbox_choice_retries_and_never_silently_weakens(visible_dir: Path, fail_times: int, kind: str,
                                                           expected: str) -> None:
    visible_dir.chmod(0o755)
    env = _fake_bwrap(visible_dir, fail_times)
    proc = subprocess.run([sys.executable, "-W", "error", "-c", CHOOSE, kind], capture_output=True, text=True,
                          env=env, timeout=120)
    assert expected in proc.stdout, proc.stdout + proc.stderr
    if "process" in expected:
        assert "fallback" in proc.stdout and "transient" in proc.stdout


# 10. doctor

def test_doctor_measures_the_seccomp_filter() -> None:
    from greenloop.doctor import limits_report, self_test
    ok, message, _ = self_test(BwrapSandbox(LIMITS))
    assert ok and "seccomp active" in message, message
    report = limits_report(LIMITS)
    assert "tmpfs cap: 16 MiB" in report and "worktree growth cap: 8 MiB" in report


def test_the_libc_syscall_wrapper_reports_errno() -> None:
    """Guard for the seccomp tests: outside the jail ptrace(TRACEME) of a fresh child succeeds, so EPERM means the filter."""
    code = "import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\nprint(libc.ptrace(0, 0, 0, 0))\n"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30).stdout.strip() == "0"
    assert ctypes.sizeof(ctypes.c_long) == 8
