"""The repo map's per-file index: which source files git lists (Python, or JS/TS where those are most of the
project), the definitions and referenced identifiers of each (C-speed regexes over bytes: definitions at line
starts, identifiers as references), and the SQLite cache of those tags keyed by path + mtime + size, so only
changed files are read again."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import msgpack

CACHE_VERSION = 3
MAX_FILE_BYTES = 1_000_000
# a definition at a line start; led by the newline (a literal the regex engine searches fast), so the text is
# searched with a newline in front
_DEF = re.compile(rb"\n([ \t]*)(?:async[ \t]+)?(def|class)[ \t]+([A-Za-z_]\w*)([^\n]*)")
_IDENT = re.compile(rb"[A-Za-z_]\w{2,}")
_SKIP_DIRS = ("vendor/", "node_modules/", "site-packages/", "third_party/", "migrations/", "dist/", "build/")
JS_GLOBS = ("*.js", "*.mjs", "*.cjs", "*.jsx", "*.ts", "*.tsx")
_GENERATED = (".min.js", ".d.ts", ".bundle.js")
# JS/TS definitions at line starts: functions, classes, interfaces, types, enums, function-valued top-level
# consts (`const f = (a) =>`, `= function`, `= async`), CommonJS `exports.f =`, and class methods (indented)
_JS_NAME = rb"[A-Za-z_$][\w$]*"
_JS_DEF = re.compile(rb"\n()(?:export[ \t]+)?(?:default[ \t]+)?(?:declare[ \t]+)?(?:abstract[ \t]+)?(?:async[ \t]+)?"
                     rb"(?:function\*?|class|interface|type|enum)[ \t]+(" + _JS_NAME + rb")[^\n]*"
                     rb"|\n()(?:export[ \t]+)?(?:const|let|var)[ \t]+(" + _JS_NAME + rb")[ \t]*(?::[^=\n]+)?="
                     rb"[ \t]*(?:async\b|function\b|\([^\n]*=>|" + _JS_NAME + rb"[ \t]*=>)[^\n]*"
                     rb"|\n()(?:module\.)?exports\.(" + _JS_NAME + rb")[ \t]*=[^\n]*"
                     rb"|\n([ \t]+)(?:(?:public|private|protected|static|async|get|set)[ \t]+)*(" + _JS_NAME
                     + rb")[ \t]*\([^\n]*\)[ \t]*(?::[^\n{]*)?\{[^\n]*")
_NOT_METHODS = frozenset({"if", "for", "while", "switch", "catch", "function", "return", "with", "super", "describe",
                          "it", "test"})  # statements, and test blocks written `it('...', function () {`


@dataclass(frozen=True)
class Tags:
    defs: list[tuple[int, str, str]]  # (line, name, signature line)
    refs: dict[str, int]  # identifier -> count


@dataclass(frozen=True)
class Stat:
    """One listed file as os.stat saw it: `ok` is False when it is no regular file, too large or gone."""

    rel: str
    mtime_ns: int
    size: int
    ok: bool


def file_tags(data: bytes, js: bool = False) -> Tags:
    if js:
        return _js_tags(data)
    defs = []
    text = b"\n" + data
    line, pos = 0, 0
    for m in _DEF.finditer(text):
        start = m.start() + 1
        line += text.count(b"\n", pos, start)  # counted from the previous match: linear in the file
        pos = start
        indent, kind, name, rest = m.groups()
        sig = b"%s%s %s%s" % (indent, kind, name, rest)
        defs.append((line, name.decode("ascii"), sig.decode("utf-8", "replace").rstrip()[:120]))
    counts = Counter(_IDENT.findall(data))
    return Tags(defs, dict(zip(map(bytes.decode, counts), counts.values(), strict=True)))


def _js_tags(data: bytes) -> Tags:
    defs = []
    text = b"\n" + data
    line, pos = 0, 0
    for m in _JS_DEF.finditer(text):
        indent, name = next((m.group(i), m.group(i + 1)) for i in (1, 3, 5, 7) if m.group(i + 1) is not None)
        if name.decode("ascii", "replace") in _NOT_METHODS:
            continue
        start = m.start() + 1
        line += text.count(b"\n", pos, start)
        pos = start
        sig = (indent + m.group(0)[1 + len(indent):].strip()).rstrip(b"{ \t")
        defs.append((line, name.decode("ascii", "replace"), sig.decode("utf-8", "replace").rstrip()[:120]))
    counts = Counter(_IDENT.findall(data))
    return Tags(defs, dict(zip(map(bytes.decode, counts), counts.values(), strict=True)))


def is_js(rel: str) -> bool:
    return rel.endswith((".js", ".mjs", ".cjs", ".jsx", ".ts", ".tsx"))


def listed(root: Path) -> list[str]:
    """The Python files git lists, or its JS/TS files when there are more of those (a Node project)."""
    out = subprocess.run(["git", "ls-files", "-z", "--", "*.py", *JS_GLOBS], cwd=root, capture_output=True,
                         timeout=60)
    if out.returncode != 0:
        found = [str(p.relative_to(root)) for g in ("*.py", *JS_GLOBS) for p in root.rglob(g) if ".git" not in p.parts]
    else:
        found = out.stdout.decode("utf-8", "replace").split("\0")
    files = sorted(p for p in found if p and not p.startswith(_SKIP_DIRS) and not any(f"/{d}" in p for d in _SKIP_DIRS)
                   and not p.endswith(_GENERATED))
    python = [p for p in files if p.endswith(".py")]
    js = [p for p in files if is_js(p)]
    return js if len(js) > len(python) else python


def stat_all(root: Path, rels: list[str]) -> list[Stat]:
    base = str(root)
    found = []
    for rel in rels:
        try:  # plain strings: Path objects cost more than the stat on a warm map
            st = os.stat(os.path.join(base, rel), follow_symlinks=False)
        except OSError:
            found.append(Stat(rel, 0, 0, False))
            continue
        ok = st.st_mode & 0o170000 == 0o100000 and st.st_size <= MAX_FILE_BYTES
        found.append(Stat(rel, st.st_mtime_ns, st.st_size, ok))
    return found


class Inside:
    """Whether a listed file's directory resolves inside the root (a linked directory may lead outside); one
    realpath per directory, not per file. The file itself is no link: stat_all keeps regular files only."""

    def __init__(self, root: Path) -> None:
        self.root = os.path.realpath(root) + os.sep
        self.seen: dict[str, bool] = {}

    def __call__(self, full: str) -> bool:
        folder = os.path.dirname(full)
        if folder not in self.seen:
            self.seen[folder] = (os.path.realpath(folder) + os.sep).startswith(self.root)
        return self.seen[folder]


def read_tags(root: Path, rel: str, inside: Inside) -> Tags | None:
    """The file's tags, or None when it must be skipped (outside the root through a link, unreadable, binary)."""
    full = os.path.join(str(root), rel)
    if not inside(full):
        return None  # never read
    try:
        with open(full, "rb") as fh:
            data = fh.read(MAX_FILE_BYTES + 1)
    except OSError:
        return None
    if b"\0" in data[:4096] or len(data) > MAX_FILE_BYTES:
        return None
    return file_tags(data, is_js(rel))


def cache_path(root: Path) -> Path | None:
    """<git common dir>/greenloop/cache/repomap.sqlite (shared by the run's worktrees); None outside git."""
    out = subprocess.run(["git", "rev-parse", "--git-common-dir"], cwd=root, capture_output=True, text=True,
                         timeout=30)
    if out.returncode != 0:
        return None
    return (root / out.stdout.strip()).resolve() / "greenloop" / "cache" / "repomap.sqlite"


def unpack(blob: bytes) -> Tags | None:
    try:
        defs, refs = msgpack.unpackb(blob, use_list=False)
        return Tags([(int(a), str(b), str(c)) for a, b, c in defs], dict(refs))
    except (ValueError, TypeError, msgpack.UnpackException):
        return None  # a corrupt row is read again from the file


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

    def rows(self, paths: list[str] | None = None) -> dict[str, tuple[int, int, bytes]]:
        """Every row, or the rows of `paths`; a database that fails to read yields none (the files are read)."""
        if self.db is None:
            return {}
        try:
            if paths is None:
                cur = self.db.execute("SELECT path, mtime, size, data FROM tags")
                return {p: (m, s, d) for p, m, s, d in cur}
            found = {}
            for i in range(0, len(paths), 500):
                chunk = paths[i:i + 500]
                cur = self.db.execute("SELECT path, mtime, size, data FROM tags WHERE path IN "
                                      f"({','.join('?' * len(chunk))})", chunk)
                found.update({p: (m, s, d) for p, m, s, d in cur})
            return found
        except sqlite3.DatabaseError:
            return {}

    def store(self, rows: list[tuple[str, int, int, bytes]], gone: list[str]) -> None:
        if self.db is None or not (rows or gone):
            return
        self.db.executemany("INSERT OR REPLACE INTO tags VALUES (?, ?, ?, ?)", rows)
        self.db.executemany("DELETE FROM tags WHERE path = ?", [(p,) for p in gone])
        self.db.commit()


def tags_of(root: Path, stats: list[Stat], cache: TagCache, store: bool) -> tuple[dict[str, Tags], list[str]]:
    """Tags of the `stats` files (a cached row reused when mtime and size match, others read, and stored
    when `store`) and the files that had to be skipped."""
    wanted = [s for s in stats if s.ok]
    cached = cache.rows([s.rel for s in wanted] if len(wanted) < 500 else None)
    found: dict[str, Tags] = {}
    to_read: list[Stat] = []
    for s in wanted:
        hit = cached.get(s.rel)
        tags = unpack(hit[2]) if hit is not None and hit[0] == s.mtime_ns and hit[1] == s.size else None
        if tags is None:
            to_read.append(s)
        else:
            found[s.rel] = tags
    fresh = []
    inside = Inside(root)
    for s in to_read:
        tags = read_tags(root, s.rel, inside)
        if tags is not None:
            found[s.rel] = tags
            fresh.append((s.rel, s.mtime_ns, s.size, msgpack.packb([tags.defs, tags.refs])))
    if store:
        listed_now = {s.rel for s in stats}
        cache.store(fresh, [p for p in cached if p not in listed_now])
    found = {s.rel: found[s.rel] for s in wanted if s.rel in found}  # the listing's order
    return found, [s.rel for s in stats if s.rel not in found]
