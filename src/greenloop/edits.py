"""Apply parsed edits to file contents. Pure functions over strings; errors speak to the model."""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass

from greenloop.errors import EditError
from greenloop.types import FileEdit

FUZZY_THRESHOLD = 0.85
FUZZY_MARGIN = 0.02


@dataclass(frozen=True)
class AppliedFile:
    path: str
    before: str | None
    after: str
    is_test: bool
    whole: bool = True  # the reply sent the file whole (False: only SEARCH/REPLACE or diff edits changed it)

    def diff(self) -> str:
        return unified_diff(self.path, self.before, self.after)


def unified_diff(path: str, before: str | None, after: str) -> str:
    old = (before or "").splitlines(keepends=True)
    new = after.splitlines(keepends=True)
    src = f"a/{path}" if before is not None else "/dev/null"
    return "".join(difflib.unified_diff(old, new, fromfile=src, tofile=f"b/{path}"))


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


def _exact(content: str, search: str) -> tuple[int, int] | None | str:
    count = content.count(search)
    if count == 1:
        start = content.index(search)
        return start, start + len(search)
    if count > 1:
        return "ambiguous"
    return None


def _loose(lines: list[str], search: list[str], replace: list[str]) -> tuple[int, int, list[str]] | None | str:
    """Match ignoring trailing whitespace and a uniform indentation offset; re-indent the replacement."""
    n = len(search)
    first = next((i for i, s in enumerate(search) if s.strip()), None)
    if first is None or n == 0:
        return None
    hits: list[tuple[int, int, list[str]]] = []
    for start in range(len(lines) - n + 1):
        window = lines[start:start + n]
        have, want = _indent(window[first]), _indent(search[first])
        if want and have.endswith(want):
            add, remove = have[: len(have) - len(want)], ""
        elif have and want.endswith(have):
            add, remove = "", want[: len(want) - len(have)]
        else:
            add, remove = have, want
            if have and want:
                continue
        ok = all(
            (w.rstrip() == "" and s.rstrip() == "")
            or w.rstrip() == add + (s.rstrip()[len(remove):] if s.startswith(remove) else "\0")
            for w, s in zip(window, search, strict=True)
        )
        if ok:
            adjusted = [(add + r[len(remove):]) if r.strip() and r.startswith(remove) else r for r in replace]
            hits.append((start, start + n, adjusted))
    if len(hits) > 1:
        return "ambiguous"
    return hits[0] if hits else None


def _fuzzy(lines: list[str], search: list[str]) -> tuple[int, int] | None | str:
    n = len(search)
    if n == 0 or len(lines) < n:
        return None
    target = "\n".join(s.strip() for s in search)
    scored = []
    for start in range(len(lines) - n + 1):
        window = "\n".join(w.strip() for w in lines[start:start + n])
        scored.append((difflib.SequenceMatcher(None, window, target, autojunk=False).ratio(), start))
    scored.sort(reverse=True)
    best, start = scored[0]
    if best < FUZZY_THRESHOLD:
        return None
    if len(scored) > 1 and scored[1][0] > best - FUZZY_MARGIN:
        return "ambiguous"
    return start, start + n


def closest_lines(content: str, search: str, context: int = 0) -> str:
    """The lines of `content` most like `search`, numbered, for a 'did you mean' hint."""
    lines = content.split("\n")
    want = search.rstrip("\n").split("\n")
    n = max(1, len(want))
    if not lines or not content.strip():
        return "(the file is empty)"
    target = "\n".join(want)
    best, best_start = -1.0, 0
    for start in range(max(1, len(lines) - n + 1)):
        ratio = difflib.SequenceMatcher(None, "\n".join(lines[start:start + n]), target).ratio()
        if ratio > best:
            best, best_start = ratio, start
    lo, hi = max(0, best_start - context), min(len(lines), best_start + n + context)
    return "\n".join(f"{i + 1:4d}| {lines[i]}" for i in range(lo, hi))


_NUMBERED = re.compile(r"^ *\d+\| ?", re.M)


def _unnumbered(content: str, search: str, replace: str) -> tuple[str, str]:
    """SEARCH lines copied with the line numbers of a numbered view (`  12| code`): without them."""
    lines = [ln for ln in search.split("\n") if ln.strip()]
    if search in content or not lines or not all(_NUMBERED.match(ln) for ln in lines):
        return search, replace
    numbered_replace = [ln for ln in replace.split("\n") if ln.strip()]
    if numbered_replace and all(_NUMBERED.match(ln) for ln in numbered_replace):
        replace = _NUMBERED.sub("", replace)
    return _NUMBERED.sub("", search), replace


def replace_once(content: str, search: str, replace: str, what: str) -> str:
    """Replace the one place `search` stands in `content`, through the matching cascade."""
    search, replace = _unnumbered(content, search, replace)
    hit = _exact(content, search)
    if isinstance(hit, tuple):
        return content[: hit[0]] + replace + content[hit[1]:]
    if hit == "ambiguous":
        raise EditError(f"{what}: the SEARCH text occurs more than once; add surrounding lines to make it unique.")
    lines = content.split("\n")
    s_lines = search.rstrip("\n").split("\n")
    r_lines = replace.rstrip("\n").split("\n") if replace else []
    loose = _loose(lines, s_lines, r_lines)
    if isinstance(loose, tuple):
        start, end, adjusted = loose
        return "\n".join(lines[:start] + adjusted + lines[end:])
    fuzzy = _fuzzy(lines, s_lines) if loose is None else loose
    if isinstance(fuzzy, tuple):
        return "\n".join(lines[: fuzzy[0]] + r_lines + lines[fuzzy[1]:])
    if fuzzy == "ambiguous":
        raise EditError(f"{what}: the SEARCH text matches several places; add surrounding lines to make it unique.")
    raise EditError(f"{what}: the SEARCH text did not match. Did you mean these lines?\n"
                    f"{closest_lines(content, search)}\nCopy the lines exactly as they are in the file.")


def apply_edit(edit: FileEdit, before: str | None) -> str:
    if edit.kind == "whole":
        return edit.content
    if edit.kind == "search_replace":
        if not edit.search.strip():
            if before and before.strip():
                raise EditError(f"{edit.path}: an empty SEARCH creates a file, but {edit.path} exists; "
                                "give the lines to replace.")
            return edit.replace
        if before is None:
            raise EditError(f"{edit.path}: no such file; to create it, use an empty SEARCH section.")
        return replace_once(before, edit.search, edit.replace, edit.path)
    if before is None:
        raise EditError(f"{edit.path}: the diff edits a file that does not exist; use --- /dev/null to create it.")
    content = before
    for n, (old, new) in enumerate(edit.hunks, 1):
        if not old.strip():
            raise EditError(f"{edit.path}: hunk {n} has no context or removed lines to locate it by.")
        content = replace_once(content, old, new, f"{edit.path} hunk {n}")
    return content


def apply_all(edits: tuple[FileEdit, ...] | list[FileEdit],
              read: Callable[[str], str | None]) -> tuple[dict[str, AppliedFile], list[str]]:
    """Apply edits in order (several may target one file). Returns every file the edits touched (changed
    or not) and one error per failed edit; a failed edit leaves its file as the earlier edits made it."""
    current: dict[str, str | None] = {}
    originals: dict[str, str | None] = {}
    tests: dict[str, bool] = {}
    whole: dict[str, bool] = {}
    errors: list[str] = []
    applied_count: dict[str, int] = {}
    for edit in edits:
        if edit.path not in current:
            raw = read(edit.path)
            originals[edit.path] = raw
            current[edit.path] = raw.replace("\r\n", "\n") if raw is not None else None
        try:
            current[edit.path] = apply_edit(edit, current[edit.path])
            applied_count[edit.path] = applied_count.get(edit.path, 0) + 1
        except EditError as exc:
            done = applied_count.get(edit.path, 0)
            errors.append(f"{exc} ({done} earlier edit(s) to {edit.path} applied.)" if done else str(exc))
        tests[edit.path] = tests.get(edit.path, False) or edit.is_test
        whole[edit.path] = whole.get(edit.path, False) or edit.kind == "whole"
    result: dict[str, AppliedFile] = {}
    for path, after in current.items():
        if after is None:
            continue
        before = originals[path]
        if before is not None and "\r\n" in before:
            after = after.replace("\n", "\r\n")
        # unchanged files are returned too: a reply that restates an existing test still names its tests
        result[path] = AppliedFile(path=path, before=before, after=after, is_test=tests[path], whole=whole[path])
    return result, errors

