"""The Workspace: greenloop's own door to the worktree. Every read and write walks the path one component at a
time without following a link; only regular files are read, and only up to a size cap. Hostile shapes (a link
in the middle, a FIFO, a device, a socket, a huge file) are refused; each test asserts what did NOT happen on
the host (no secret returned, no hang, no file written outside, nothing read past the cap)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from greenloop.errors import GuardrailViolation
from greenloop.guardrails import WritePolicy
from greenloop.workspace import MAX_READ_BYTES, Workspace, remove_tree

SECRET = "ROOT-ONLY-SECRET-7f3a"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    work = tmp_path / "worktree"
    (work / "pkg").mkdir(parents=True)
    (work / "pkg" / "mod.py").write_text("x = 1\n")
    return work


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A root-only directory outside the worktree holding a 0600 secret."""
    secret_dir = tmp_path / "outside"
    secret_dir.mkdir(mode=0o700)
    (secret_dir / "secret.py").write_text(SECRET)
    (secret_dir / "secret.py").chmod(0o600)
    return secret_dir


def in_child(root: Path, body: str, timeout: float = 20) -> str:
    """Run `body` (with `ws` bound to a Workspace of `root`) in a child process, so that a hang is a failure
    of this test and not of the whole suite. Returns stdout; a hang raises AssertionError."""
    code = f"from pathlib import Path\nfrom greenloop.workspace import Workspace\nws = Workspace(Path({str(root)!r}))\n"
    code += textwrap.dedent(body)
    try:
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        raise AssertionError(f"greenloop hung for {timeout}s") from exc
    return proc.stdout + proc.stderr


def deep_tree(top: Path, depth: int, outside: Path) -> None:
    """top/d/d/.../d, each level with a file and a link to `outside`, owned by the jail's uid 65534; the
    deepest directory has mode 0 (no read, write or search permission)."""
    top.mkdir()
    fd = os.open(top, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for _ in range(depth):
            os.mkdir("d", dir_fd=fd)
            os.symlink(str(outside), "link", dir_fd=fd)
            os.close(os.open("f.py", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd))
            nxt = os.open("d", os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
            os.fchown(nxt, 65534, 65534)
            os.close(fd)
            fd = nxt
        os.fchmod(fd, 0)
    finally:
        os.close(fd)


REFUSED = """
from greenloop.errors import GuardrailViolation
try:
    out = ws.read_text({name!r})
    print("READ", repr(out)[:200])
except GuardrailViolation as exc:
    print("REFUSED", exc)
"""


def test_a_symlinked_directory_in_the_middle_is_refused_and_the_secret_never_returned(root: Path,
                                                                                      outside: Path) -> None:
    (root / "pkg" / "linked").symlink_to(outside, target_is_directory=True)
    ws = Workspace(root)
    with pytest.raises(GuardrailViolation):
        ws.read_text("pkg/linked/secret.py")
    with pytest.raises(GuardrailViolation):
        ws.read_bytes("pkg/linked/secret.py")
    assert not ws.is_regular("pkg/linked/secret.py")
    with pytest.raises(GuardrailViolation):
        ws.write_text("pkg/linked/new.py", "pwned = 1\n")
    with pytest.raises(GuardrailViolation):
        ws.remove("pkg/linked/secret.py")
    assert sorted(p.name for p in outside.iterdir()) == ["secret.py"]
    assert (outside / "secret.py").read_text() == SECRET


def test_a_symlinked_directory_inside_the_worktree_is_not_followed_either(root: Path) -> None:
    """A link that stays inside (docs -> .github/workflows) would let a write skip the restricted-path check."""
    (root / ".github" / "workflows").mkdir(parents=True)
    (root / "docs").symlink_to(root / ".github" / "workflows", target_is_directory=True)
    ws = Workspace(root)
    with pytest.raises(GuardrailViolation):
        WritePolicy((".yml",), 20).check(ws, "docs/evil.yml")
    with pytest.raises(GuardrailViolation):
        ws.write_text("docs/evil.yml", "on: push\n")
    assert list((root / ".github" / "workflows").iterdir()) == []


def test_a_fifo_returns_promptly_with_an_error(root: Path) -> None:
    os.mkfifo(root / "pkg" / "mod.py.fifo")
    os.unlink(root / "pkg" / "mod.py")
    os.mkfifo(root / "pkg" / "mod.py")
    out = in_child(root, REFUSED.format(name="pkg/mod.py"))
    assert "REFUSED" in out and "READ" not in out, out


def test_a_device_is_refused_without_reading_it(root: Path) -> None:
    os.unlink(root / "pkg" / "mod.py")
    os.mknod(root / "pkg" / "mod.py", 0o644 | 0o020000, os.makedev(1, 5))  # /dev/zero: endless bytes
    out = in_child(root, REFUSED.format(name="pkg/mod.py"))
    assert "REFUSED" in out and "READ" not in out, out


def test_a_socket_is_refused(root: Path) -> None:
    os.unlink(root / "pkg" / "mod.py")
    sock = socket.socket(socket.AF_UNIX)
    try:
        sock.bind(str(root / "pkg" / "mod.py"))
        with pytest.raises(GuardrailViolation, match="not a regular file"):
            Workspace(root).read_text("pkg/mod.py")
    finally:
        sock.close()


def test_a_20_mb_file_is_refused_and_not_read(root: Path) -> None:
    big = root / "pkg" / "big.py"
    with open(big, "wb") as fh:
        fh.truncate(20 * 1024 * 1024)
    ws = Workspace(root)
    with pytest.raises(GuardrailViolation, match="bytes"):
        ws.read_text("pkg/big.py")
    with pytest.raises(GuardrailViolation):
        ws.read_bytes("pkg/big.py", max_bytes=1000)
    assert MAX_READ_BYTES < 20 * 1024 * 1024
    assert ws.read_bytes("pkg/mod.py", max_bytes=6) == b"x = 1\n"


def test_writes_create_directories_without_following_links_and_replace_a_planted_link(root: Path,
                                                                                     outside: Path) -> None:
    ws = Workspace(root)
    ws.write_text("a/b/c/new.py", "y = 2\n")
    assert (root / "a" / "b" / "c" / "new.py").read_text() == "y = 2\n"
    (root / "pkg" / "mod.py").unlink()
    (root / "pkg" / "mod.py").symlink_to(outside / "secret.py")
    ws.write_text("pkg/mod.py", "x = 2\n")  # replaces the link itself, never writes through it
    assert not (root / "pkg" / "mod.py").is_symlink()
    assert (root / "pkg" / "mod.py").read_text() == "x = 2\n"
    assert (outside / "secret.py").read_text() == SECRET
    (root / "pkg" / "hard.py").unlink(missing_ok=True)
    os.link(outside / "secret.py", root / "pkg" / "hard.py")  # a hard link: a write must not reach the other name
    ws.write_text("pkg/hard.py", "z = 3\n")
    assert (outside / "secret.py").read_text() == SECRET


def test_bad_names_are_refused(root: Path) -> None:
    ws = Workspace(root)
    for name in ("/etc/passwd", "../x.py", "a/../../x.py", "~/x.py", "", "a\0b.py", "x" * 300 + ".py"):
        with pytest.raises(GuardrailViolation):
            ws.write_text(name, "x")
    with pytest.raises(GuardrailViolation, match="directory"):
        ws.read_text("pkg")
    assert ws.read_text("pkg/absent.py") is None and ws.read_text("absent/x.py") is None


def test_walk_is_iterative_and_skips_links_and_special_files(root: Path, outside: Path) -> None:
    (root / "pkg" / "linked").symlink_to(outside, target_is_directory=True)
    os.mkfifo(root / "pkg" / "pipe")
    deep_tree(root / "deep", 1500, outside)  # deeper than Python's recursion limit
    ws = Workspace(root)
    try:
        found = [str(p) for p in ws.walk()]
    finally:
        remove_tree(root / "deep")  # pytest's own clean-up of tmp_path would recurse too deep
    assert sum(p.startswith("deep/") for p in found) == 1500
    assert "pkg/mod.py" in found
    assert not any("secret" in p or "pipe" in p for p in found)


def test_remove_tree_removes_any_depth_unwritable_dirs_and_never_follows_links(tmp_path: Path,
                                                                               outside: Path) -> None:
    top = tmp_path / "tree"
    deep_tree(top, 2500, outside)  # far past PATH_MAX as one path, and past the recursion limit
    (top / "locked").mkdir()
    (top / "locked" / "inner.py").write_text("x")
    (top / "locked").chmod(0)
    try:
        remove_tree(top)
    finally:
        gone = not os.path.lexists(top)
        if not gone:
            subprocess.run(["rm", "-rf", "--one-file-system", str(top)], timeout=120)
    assert gone
    assert (outside / "secret.py").read_text() == SECRET
    remove_tree(top)  # absent is fine
