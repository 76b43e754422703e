"""A ranked map of the repository for the prompt: definitions and references per Python file, a reference
graph ranked by personalised PageRank (the task's words and named files), rendered as an outline of the top
files' definitions within a token budget.

Speed first (Django's 2,823 files): the index is lexical (maptags.py: regexes over bytes, cached per file in
SQLite), and the reference graph built from it is cached as arrays keyed by the listing (mapgraph.py), so a warm
map stats the files, loads the graph, ranks it (a numpy power iteration over the file -> identifier -> file
incidence, no file x file matrix) and reads the tags of only the files it shows."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from greenloop import mapgraph
from greenloop.mapgraph import Graph
from greenloop.maptags import Stat, TagCache, Tags, cache_path, listed, stat_all, tags_of

__all__ = ["Index", "RepoMap", "Tags", "cache_path", "index", "rank", "render", "repo_map"]

FOOTER_CHARS = 100  # "(N more file(s) not shown; M skipped: ...)" fits in this
_DAMPING = 0.5  # low: the task (personalisation) outweighs the hubs every file references (tuned on Django)
_WORD = re.compile(r"[A-Za-z_]\w{2,}")
_STOP = frozenset("should with from that this when into make does have give gives add wrong value".split())
_SPLIT_PATH = re.compile(r"[/_.]")
_SPLIT_STEM = re.compile(r"[_.]")


@dataclass(frozen=True)
class RepoMap:
    text: str
    ranked: list[str]  # every indexed file, best first
    files: int
    skipped: int
    shown: int


@dataclass
class Index:
    """The listing's reference graph, and the tags of its files on demand (from memory when this process
    built the graph, else from the tag cache, else from the file)."""

    root: Path
    graph: Graph
    stats: dict[str, Stat]
    cache_db: Path | None
    loaded: dict[str, Tags] = field(default_factory=dict)
    _cache: TagCache | None = None

    @property
    def skipped(self) -> int:
        return len(self.graph.skipped)

    def tags(self, paths: list[str]) -> dict[str, Tags]:
        """The tags of those of `paths` that are indexed (a file gone since is left out)."""
        indexed = [p for p in paths if p in self.stats and self.stats[p].ok]
        missing = [self.stats[p] for p in indexed if p not in self.loaded]
        if missing:
            if self._cache is None:
                self._cache = TagCache(self.cache_db)
            found, _ = tags_of(self.root, missing, self._cache, store=True)
            self.loaded.update(found)
        return {p: self.loaded[p] for p in indexed if p in self.loaded}


def index(root: Path, use_cache: bool = True) -> Index:
    """Every listed Python file's place in the reference graph: the cached graph when the listing (paths,
    mtimes, sizes) is unchanged, else built from the tags (cached ones reused, changed files read)."""
    stats = stat_all(root, listed(root))
    db = cache_path(root) if use_cache else None
    key = mapgraph.listing_key(stats)
    graph = mapgraph.load(db, key)
    loaded: dict[str, Tags] = {}
    cache = None
    if graph is None:
        cache = TagCache(db)
        loaded, skipped = tags_of(root, stats, cache, store=True)
        graph = mapgraph.build(loaded, skipped)
        mapgraph.save(db, key, graph)
    return Index(root, graph, {s.rel: s for s in stats}, db, loaded, cache)


def _path_scores(paths: list[str], task: str, named: list[str], words: set[str]) -> list[float]:
    """Per file: 10 when the task names it, plus its path's words (and twice its name's words) that the task
    shares by their first five letters."""
    named_set = set(named)
    stems = {w[:5] for w in words if len(w) >= 4 and w not in _STOP}
    scores = []
    for p in paths:
        score = 10.0 if p in named_set or p in task else 0.0
        low = p.lower()
        if stems and any(s in low for s in stems):  # a shared prefix needs the stem somewhere in the path
            hits = {t[:5] for t in _SPLIT_PATH.split(low)[:-1] if len(t) >= 3} & stems
            stem = os.path.splitext(low.rsplit("/", 1)[-1])[0]
            stem_hits = {t[:5] for t in _SPLIT_STEM.split(stem) if len(t) >= 3} & stems
            score += len(hits) + 2.0 * len(stem_hits)
        scores.append(score)
    return scores


def rank(idx: Index, task: str, named: list[str] = ()) -> list[str]:  # type: ignore[assignment]
    """Files best first: PageRank over references (a file that references an identifier passes rank to the
    files defining it), personalised to the files the task names and the files defining its words."""
    import numpy as np

    g = idx.graph
    paths = g.paths
    n, m = len(paths), len(g.names)
    if not n:
        return []
    words = {w.lower() for w in _WORD.findall(task)}
    ndef = np.bincount(g.def_ident, minlength=m).astype(np.float64)
    is_word = np.zeros(m, dtype=bool)
    is_word[[j for j, name in enumerate(g.names) if name.lower() in words]] = True
    private = np.fromiter((name.startswith("_") for name in g.names), dtype=bool, count=m)
    # an identifier's weight: the task's words x10, private names and ones defined in many files x0.1
    ident_mul = np.where(is_word, 10.0, 1.0) * np.where(private, 0.1, 1.0) * np.where(ndef > 5, 0.1, 1.0)
    s, k = g.ref_file, g.ref_ident
    w = ident_mul[k] * np.sqrt(g.ref_count)
    out = np.bincount(s, weights=w, minlength=n)
    w = w / np.where(out[s] > 0, out[s], 1.0)
    pers = np.asarray(_path_scores(paths, task, list(named), words))
    sel = is_word[g.def_ident]  # defining a word of the task: 1 / how many files define it
    pers += np.bincount(g.def_file[sel], weights=1.0 / ndef[g.def_ident[sel]], minlength=n)
    tests = np.fromiter((p.startswith("tests/") or "/tests/" in p for p in paths), dtype=bool, count=n)
    pers[tests] *= 0.3  # the map is for the code a task changes; tests follow it
    pers = pers / pers.sum() if pers.sum() > 0 else np.full(n, 1.0 / n)
    r = pers.copy()
    dangling = out == 0
    to_def = np.maximum(ndef, 1.0)
    for _ in range(30):
        to_ident = np.bincount(k, weights=r[s] * w, minlength=m)
        nxt = np.bincount(g.def_file, weights=(to_ident / to_def)[g.def_ident], minlength=n)
        nxt = _DAMPING * (nxt + r[dangling].sum() * pers) + (1 - _DAMPING) * pers
        if np.abs(nxt - r).sum() < 1e-6:
            r = nxt
            break
        r = nxt
    order = [paths[i] for i in np.argsort(-r, kind="stable")]
    named_set = set(named)
    first = [p for p in order if p in named_set or p in task]  # the files the task names lead the map
    return first + [p for p in order if p not in first]


def render(idx: Index, ranked: list[str], task: str, max_tokens: int) -> RepoMap:
    """The top files with their definitions' signature lines, as many as fit `max_tokens` (~4 chars a
    token); the footer says how many files were left out. Only the files shown have their tags read."""
    words = {w.lower() for w in _WORD.findall(task)}
    budget = max_tokens * 4 - FOOTER_CHARS  # characters; the footer's line is part of the budget
    blocks: list[str] = []
    used = 0
    tags: dict[str, Tags] = {}
    for pos, rel in enumerate(ranked):
        if rel not in tags:
            tags.update(idx.tags(ranked[pos:pos + max(16, pos)]))  # 16 files, then twice as many each time
        defs = tags[rel].defs if rel in tags else []
        first = [d for d in defs if d[1].lower() in words] + [d for d in defs if not d[2].startswith((" ", "\t"))]
        chosen = list(dict.fromkeys(first + defs))[:30]  # the task's names first, then top-level ones ...
        lines = [d[2] for d in sorted(chosen)]  # ... shown in the file's order: a method under its class
        block = f"{rel}:\n" + "".join(f"│{line}\n" for line in lines)
        if used + len(block) > budget:
            if used + len(rel) + 2 > budget:
                break
            block = f"{rel}\n"
        blocks.append(block)
        used += len(block)
    left = len(ranked) - len(blocks)
    skipped = idx.skipped
    footer = f"({left} more file(s) not shown" + (f"; {skipped} skipped: unreadable, binary or too large" if skipped
                                                 else "") + ")\n" if left or skipped else ""
    return RepoMap("".join(blocks) + footer, ranked, len(idx.graph.paths), skipped, len(blocks))


def repo_map(root: Path, task: str, max_tokens: int = 1024, named: list[str] = (),  # type: ignore[assignment]
             use_cache: bool = True) -> RepoMap:
    idx = index(root, use_cache)
    return render(idx, rank(idx, task, list(named)), task, max_tokens)
