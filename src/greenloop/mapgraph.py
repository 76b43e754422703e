"""The repo map's reference graph as compact arrays, and its cache: one file next to the tag cache, keyed by the
listing (every listed file's path, mtime and size), so a warm map loads a few arrays instead of unpacking every
file's tags and rebuilding the graph. The file carries a version, the key and a checksum of its body; a cache of
another version, another listing or a damaged body is rebuilt, never trusted."""

from __future__ import annotations

import hashlib
import itertools
import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import msgpack

from greenloop.maptags import CACHE_VERSION, MAX_FILE_BYTES, Stat, Tags

if TYPE_CHECKING:
    import numpy as np

GRAPH_VERSION = 1
_MAGIC = b"greenloop repo map graph\n"
_HEAD = struct.Struct("<I32s32s")  # version, key, blake2b of the body
# names no file "references" in a useful sense: their references are dropped (their definitions are kept)
COMMON = frozenset("self cls None True False def class return import from pass raise async await lambda "
                   "with the and for not".split())


@dataclass(frozen=True)
class Graph:
    """Files, the identifiers defined anywhere, which file defines which identifier (unique pairs) and which
    file references which defined identifier how often (references to COMMON names left out)."""

    paths: list[str]
    names: list[str]
    def_file: np.ndarray  # int32, one entry per (file, defined name)
    def_ident: np.ndarray  # int32
    ref_file: np.ndarray  # int32, one entry per (file, referenced defined name)
    ref_ident: np.ndarray  # int32
    ref_count: np.ndarray  # float64
    skipped: list[str]  # listed files left out: unreadable, binary, too large, outside the root


def listing_key(stats: list[Stat]) -> bytes:
    h = hashlib.blake2b(f"{CACHE_VERSION} {GRAPH_VERSION} {MAX_FILE_BYTES}\n".encode(), digest_size=32)
    h.update("\n".join(f"{s.rel}\0{s.mtime_ns}\0{s.size}\0{int(s.ok)}" for s in stats).encode("utf-8", "replace"))
    return h.digest()


def build(tags: dict[str, Tags], skipped: list[str]) -> Graph:
    import numpy as np

    paths = list(tags)
    ident: dict[str, int] = {}
    def_file: list[int] = []
    def_ident: list[int] = []
    for i, t in enumerate(tags.values()):
        for name in dict.fromkeys(d[1] for d in t.defs):  # unique, in the file's order: stable across runs
            def_file.append(i)
            def_ident.append(ident.setdefault(name, len(ident)))
    lookup = {name: j for name, j in ident.items() if name not in COMMON}
    ref_ident = np.fromiter(itertools.chain.from_iterable(map(lookup.get, t.refs, itertools.repeat(-1))
                                                          for t in tags.values()), dtype=np.int64)
    ref_count = np.fromiter(itertools.chain.from_iterable(t.refs.values() for t in tags.values()),
                            dtype=np.float64, count=len(ref_ident))
    ref_file = np.repeat(np.arange(len(paths), dtype=np.int32), [len(t.refs) for t in tags.values()])
    keep = ref_ident >= 0
    return Graph(paths, list(ident), np.asarray(def_file, dtype=np.int32), np.asarray(def_ident, dtype=np.int32),
                 ref_file[keep], ref_ident[keep].astype(np.int32), ref_count[keep], skipped)


def _path(cache_db: Path) -> Path:
    return cache_db.with_name("repomap-graph.bin")


def save(cache_db: Path | None, key: bytes, g: Graph) -> None:
    if cache_db is None:
        return
    body = msgpack.packb([g.paths, g.names, g.skipped, g.def_file.tobytes(), g.def_ident.tobytes(),
                          g.ref_file.tobytes(), g.ref_ident.tobytes(), g.ref_count.tobytes()])
    head = _MAGIC + _HEAD.pack(GRAPH_VERSION, key, hashlib.blake2b(body, digest_size=32).digest())
    target = _path(cache_db)
    tmp = target.with_name(f"{target.name}.{os.getpid()}.tmp")
    tmp.write_bytes(head + body)
    os.replace(tmp, target)  # readers see the old file or the new one, never half of one


def load(cache_db: Path | None, key: bytes) -> Graph | None:
    """The cached graph when it was built for this listing by this version and its body is intact; else None."""
    if cache_db is None:
        return None
    try:
        raw = _path(cache_db).read_bytes()
    except OSError:
        return None
    start = len(_MAGIC) + _HEAD.size
    if len(raw) < start or not raw.startswith(_MAGIC):
        return None
    version, stored_key, digest = _HEAD.unpack_from(raw, len(_MAGIC))
    body = raw[start:]
    if version != GRAPH_VERSION or stored_key != key or hashlib.blake2b(body, digest_size=32).digest() != digest:
        return None
    import numpy as np

    try:
        paths, names, skipped, df, di, rf, ri, rc = msgpack.unpackb(body)
        g = Graph(list(paths), list(names), np.frombuffer(df, dtype=np.int32), np.frombuffer(di, dtype=np.int32),
                  np.frombuffer(rf, dtype=np.int32), np.frombuffer(ri, dtype=np.int32),
                  np.frombuffer(rc, dtype=np.float64), list(skipped))
    except (ValueError, TypeError, msgpack.UnpackException):
        return None
    n, m = len(g.paths), len(g.names)
    if not (len(g.def_file) == len(g.def_ident) and len(g.ref_file) == len(g.ref_ident) == len(g.ref_count)):
        return None
    for arr, bound in ((g.def_file, n), (g.ref_file, n), (g.def_ident, m), (g.ref_ident, m)):
        if len(arr) and (arr.min() < 0 or arr.max() >= bound):
            return None
    return g
