"""What of the host's file system the jail must not see, and the little git metadata it may read.

The jail ro-binds `/`, then masks with tmpfs: every home (`/home`, `/root`, the invoking user's, `$HOME`), the
repository's common git dir (config with tokens, other refs, hooks, greenloop's run records and other runs'
worktrees) and the user's checkouts (untracked `.env` files). After the masks it binds back read-only what
tests may need: the worktree's own git dir (HEAD, index), the object store and the run branch's own ref.
"""

from __future__ import annotations

import os
import pwd
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class GitView:
    masks: tuple[Path, ...] = ()
    ro_binds: tuple[Path, ...] = ()  # files or directories, bound at the same path
    dirs: tuple[Path, ...] = ()  # empty directories git needs to recognise the repository


def home_masks() -> tuple[Path, ...]:
    homes = {Path("/home"), Path("/root"), Path.home()}
    if os.environ.get("HOME"):
        homes.add(Path(os.environ["HOME"]))
    for name in (os.environ.get("SUDO_USER"), os.environ.get("USER")):
        if name:
            try:
                homes.add(Path(pwd.getpwnam(name).pw_dir))
            except KeyError:
                pass
    try:
        homes.add(Path(pwd.getpwuid(os.getuid()).pw_dir))
    except KeyError:
        pass
    return tuple(sorted(h.resolve() for h in homes if h.is_dir() and h.resolve() != Path("/")))


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return ""


def git_view(workdir: Path) -> GitView:
    """The masks and binds for the repository `workdir` belongs to (empty if it is not in one)."""
    dot_git = workdir / ".git"
    if dot_git.is_dir():
        own = common = dot_git.resolve()
    else:
        text = _read(dot_git)
        if not text.startswith("gitdir:"):
            return GitView()
        own = (workdir / text.split(":", 1)[1].strip()).resolve()
        pointer = _read(own / "commondir")
        common = (own / pointer).resolve() if pointer else own
    if not own.is_dir() or not common.is_dir():
        return GitView()
    masks = [common, *_checkouts(common, workdir)]
    binds = [common / "objects"]
    if own != common:
        binds.append(own)
    else:
        binds += [own / "HEAD", own / "index"]
    head = _read(own / "HEAD")
    if head.startswith("ref: refs/heads/"):
        ref = (common / head[5:]).resolve()
        if ref.is_relative_to(common / "refs" / "heads"):
            binds.append(ref)
    return GitView(masks=tuple(dict.fromkeys(m for m in masks if m.is_dir() and m != Path("/"))),
                   ro_binds=tuple(b for b in binds if b.exists()), dirs=(common / "refs",))


def _checkouts(common: Path, workdir: Path) -> list[Path]:
    """The user's working trees of this repository: the main one and every linked one but ours."""
    found = [common.parent] if common.name == ".git" else []
    worktrees = common / "worktrees"
    if worktrees.is_dir():
        for entry in worktrees.iterdir():
            gitdir = _read(entry / "gitdir")
            if gitdir:
                tree = Path(gitdir).parent
                if tree.is_absolute() and tree.resolve() != workdir and not tree.resolve().is_relative_to(common):
                    found.append(tree.resolve())
    return found
