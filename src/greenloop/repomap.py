"""A ranked map of the repository for the prompt: definitions and references per Python file, a reference
graph ranked by personalised PageRank (the task's words and named files), rendered as an outline of the top
files' definitions within a token budget.

Speed first (Django's 2,823 files): a full tree-sitter parse of every file costs ~2.9 CPU-seconds here, so the
index is lexical (C-speed regexes over bytes: definitions at line starts, identifiers as references), cached per
file in one SQLite file keyed by path + mtime + size; only changed files are re-read. Ranking is a numpy power
iteration over the file -> identifier -> file incidence (no file x file matrix)."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

import msgpack

CACHE_VERSION = 1
MAX_FILE_BYTES = 1_000_000
_DAMPING = 0.5  # low: the task (personalisation) outweighs the hubs every file references (tuned on Django)
_DEF = re.compile(rb"^([ \t]*)(?:async[ \t]+)?(def|class)[ \t]+([A-Za-z_]\w*)([^\n]*)", re.M)
_IDENT = re.compile(rb"[A-Za-z_]\w{2,}")
_WORD = re.compile(r"[A-Za-z_]\w{2,}")
_SKIP_DIRS = ("vendor/", "node_modules/", "site-packages/", "third_party/", "migrations/")
_STOP = frozenset("should with from that this when into make does have give gives add wrong value".split())
_COMMON = frozenset("self cls None True False def class return import from pass raise async await lambda "
                    "with the and for not".split())


@dataclass(frozen=True)
class Tags:
    defs: list[tuple[int, str, str]]  # (line, name, signature line)
    refs: dict[str, int]  # identifier -> count


@dataclass(frozen=True)
class RepoMap:
    text: str
    ranked: list[str]  # every indexed file, best first
    files: int
    skipped: int
    shown: int


def _tags(data: bytes) -> Tags:
    defs = []
    for m in _DEF.finditer(data):
        line = data.count(b"\n", 0, m.start()) + 1
        sig = (m.group(1) + m.group(2) + b" " + m.group(3) + m.group(4)).decode("utf-8", "replace").rstrip()
        defs.append((line, m.group(3).decode("ascii"), sig[:120]))
    refs: dict[str, int] = {}
    for word in _IDENT.findall(data):
        w = word.decode("ascii")
        refs[w] = refs.get(w, 0) + 1
    return Tags(defs, refs)


def _listed(root: Path) -> list[str]:
    out = subprocess.run(["git", "ls-files", "-z", "--", "*.py"], cwd=root, capture_output=True, timeout=60)
    if out.returncode != 0:
        return sorted(str(p.relative_to(root)) for p in root.rglob("*.py") if ".git" not in p.parts)
    return [p for p in out.stdout.decode("utf-8", "replace").split("\0") if p and not p.startswith(_SKIP_DIRS)
            and not any(f"/{d}" in p for d in _SKIP_DIRS)]


def cache_path(root: Path) -> Path | None:
    """<git common dir>/greenloop/cache/repomap.sqlite (shared by the run's worktrees); None outside git."""
    out = subprocess.run(["git", "rev-parse", "--git-common-dir"], cwd=root, capture_output=True, text=True,
                         timeout=30)
    if out.returncode != 0:
        return None
    return (root / out.stdout.strip()).resolve() / "greenloop" / "cache" / "repomap.sqlite"


class TagCache:
    """One SQLite file: path -> (mtime_ns, size, msgpack tags). A cache of another version or a corrupt
    one is rebuilt, never trusted."""

    def __init__(self, path: Path | None) -> None:
        self.db = None
        if path is None:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.db = self._open(path)
        except sqlite3.DatabaseError:
            path.unlink(missing_ok=True)
            self.db = self._open(path)

    @staticmethod
    def _open(path: Path) -> sqlite3.Connection:
        db = sqlite3.connect(path)
        db.execute("CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v INTEGER)")
        row = db.execute("SELECT v FROM meta WHERE k='version'").fetchone()
        if row is None or row[0] != CACHE_VERSION:
            db.execute("DROP TABLE IF EXISTS tags")
            db.execute("INSERT OR REPLACE INTO meta VALUES ('version', ?)", (CACHE_VERSION,))
        db.execute("CREATE TABLE IF NOT EXISTS tags (path TEXT PRIMARY KEY, mtime INTEGER, size INTEGER, "
                   "data BLOB)")
        db.commit()
        return db

    def load(self) -> dict[str, tuple[int, int, bytes]]:
        if self.db is None:
            return {}
        return {p: (m, s, d) for p, m, s, d in self.db.execute("SELECT path, mtime, size, data FROM tags")}

    def store(self, rows: list[tuple[str, int, int, bytes]], gone: list[str]) -> None:
        if self.db is None or not (rows or gone):
            return
        self.db.executemany("INSERT OR REPLACE INTO tags VALUES (?, ?, ?, ?)", rows)
        self.db.executemany("DELETE FROM tags WHERE path = ?", [(p,) for p in gone])
        self.db.commit()


def index(root: Path, use_cache: bool = True) -> tuple[dict[str, Tags], int]:
    """Tags of every listed Python file (cached ones reused when mtime and size match), and how many files
    were skipped (unreadable, binary, too large)."""
    cache = TagCache(cache_path(root) if use_cache else None)
    cached = cache.load()
    found: dict[str, Tags] = {}
    fresh: list[tuple[str, int, int, bytes]] = []
    skipped = 0
    real_root = os.path.realpath(root) + os.sep
    base = str(root)
    for rel in _listed(root):
        full = os.path.join(base, rel)  # plain strings: Path objects cost more than the stat on a warm map
        try:
            st = os.stat(full, follow_symlinks=False)
        except OSError:
            skipped += 1
            continue
        if not (st.st_mode & 0o170000 == 0o100000) or st.st_size > MAX_FILE_BYTES:
            skipped += 1
            continue
        hit = cached.get(rel)
        if hit is not None and hit[0] == st.st_mtime_ns and hit[1] == st.st_size:
            try:
                defs, refs = msgpack.unpackb(hit[2], use_list=False)
                found[rel] = Tags(list(defs), refs)
                continue
            except (ValueError, TypeError, msgpack.UnpackException):
                pass  # a corrupt row is re-read below
        if not os.path.realpath(full).startswith(real_root):  # a linked directory leads outside: never read
            skipped += 1
            continue
        try:
            with open(full, "rb") as fh:
                data = fh.read()
        except OSError:
            skipped += 1
            continue
        if b"\0" in data[:4096]:
            skipped += 1
            continue
        tags = _tags(data)
        found[rel] = tags
        fresh.append((rel, st.st_mtime_ns, st.st_size, msgpack.packb([tags.defs, tags.refs])))
    cache.store(fresh, [p for p in cached if p not in found])
    return found, skipped


def rank(tags: dict[str, Tags], task: str, named: list[str] = ()) -> list[str]:  # type: ignore[assignment]
    """Files best first: PageRank over references (a file that references an identifier passes rank to the
    files defining it), personalised to the files the task names and the files defining its words."""
    import numpy as np

    paths = list(tags)
    if not paths:
        return []
    pid = {p: i for i, p in enumerate(paths)}
    definers: dict[str, list[int]] = {}
    for p, t in tags.items():
        for name in {d[1] for d in t.defs}:
            definers.setdefault(name, []).append(pid[p])
    words = {w.lower() for w in _WORD.findall(task)}
    ids = {name: i for i, name in enumerate(definers) if name not in _COMMON}
    # an identifier's weight: the task's words x10, private names and ones defined in many files x0.1
    ident_mul = np.fromiter(((10.0 if name.lower() in words else 1.0) * (0.1 if name.startswith("_") else 1.0)
                             * (0.1 if len(where) > 5 else 1.0) for name, where in definers.items()),
                            dtype=np.float64, count=len(definers))
    n = len(paths)
    # every (file, referenced identifier) edge at once, in the files' order: no per-edge Python work
    names = [name for t in tags.values() for name in t.refs]
    counts = np.fromiter((c for t in tags.values() for c in t.refs.values()), dtype=np.float64, count=len(names))
    files = np.repeat(np.arange(n, dtype=np.int64), [len(t.refs) for t in tags.values()])
    known = np.fromiter((ids.get(name, -1) for name in names), dtype=np.int64, count=len(names))
    keep = known >= 0
    s, k = files[keep], known[keep]
    w = ident_mul[k] * np.sqrt(counts[keep])
    out = np.bincount(s, weights=w, minlength=n)
    w = w / np.where(out[s] > 0, out[s], 1.0)
    ndef = np.asarray([len(v) for v in definers.values()] or [1], dtype=np.float64)
    def_ident = np.asarray([j for j, v in enumerate(definers.values()) for _ in v], dtype=np.int64)
    def_file = np.asarray([i for v in definers.values() for i in v], dtype=np.int64)
    pers = np.zeros(n)
    named_set = set(named)
    stems = {w[:5] for w in words if len(w) >= 4 and w not in _STOP}
    for p, i in pid.items():
        if p in named_set or p in task:
            pers[i] += 10.0
        parts = re.split(r"[/_.]", p.lower())
        hits = {t[:5] for t in parts[:-1] if len(t) >= 3} & stems
        stem_hits = {t[:5] for t in re.split(r"[_.]", Path(p).stem.lower()) if len(t) >= 3} & stems
        pers[i] += len(hits) + 2.0 * len(stem_hits)
        pers[i] += sum(1.0 / len(definers[d]) for d in {d[1] for d in tags[p].defs} if d.lower() in words)
        if p.startswith("tests/") or "/tests/" in p:
            pers[i] *= 0.3  # the map is for the code a task changes; tests follow it
    pers = pers / pers.sum() if pers.sum() > 0 else np.full(n, 1.0 / n)
    r = pers.copy()
    dangling = out == 0
    for _ in range(30):
        to_ident = np.bincount(k, weights=r[s] * w, minlength=len(ndef))
        nxt = np.bincount(def_file, weights=(to_ident / ndef)[def_ident], minlength=n)
        nxt = _DAMPING * (nxt + r[dangling].sum() * pers) + (1 - _DAMPING) * pers
        if np.abs(nxt - r).sum() < 1e-6:
            r = nxt
            break
        r = nxt
    order = [paths[i] for i in np.argsort(-r, kind="stable")]
    first = [p for p in order if p in named_set or p in task]  # the files the task names lead the map
    return first + [p for p in order if p not in first]


def render(tags: dict[str, Tags], ranked: list[str], task: str, max_tokens: int, skipped: int = 0) -> RepoMap:
    """The top files with their definitions' signature lines, as many as fit `max_tokens` (~4 chars a
    token); the footer says how many files were left out."""
    words = {w.lower() for w in _WORD.findall(task)}
    budget = max_tokens * 4
    blocks: list[str] = []
    used = 0
    for rel in ranked:
        defs = tags[rel].defs
        first = [d for d in defs if d[1].lower() in words] + [d for d in defs if not d[2].startswith((" ", "\t"))]
        lines = list(dict.fromkeys(d[2] for d in first + defs))[:30]
        block = f"{rel}:\n" + "".join(f"│{line}\n" for line in lines)
        if used + len(block) > budget:
            if used + len(rel) + 2 > budget:
                break
            block = f"{rel}\n"
        blocks.append(block)
        used += len(block)
    left = len(ranked) - len(blocks)
    footer = f"({left} more file(s) not shown" + (f"; {skipped} skipped: unreadable, binary or too large" if skipped
                                                 else "") + ")\n" if left or skipped else ""
    return RepoMap("".join(blocks) + footer, ranked, len(tags), skipped, len(blocks))


def repo_map(root: Path, task: str, max_tokens: int = 1024, named: list[str] = (),  # type: ignore[assignment]
             use_cache: bool = True) -> RepoMap:
    tags, skipped = index(root, use_cache)
    ranked = rank(tags, task, list(named))
    return render(tags, ranked, task, max_tokens, skipped)
