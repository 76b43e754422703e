"""Model text -> edits. Pure functions; the only exception raised is FormatError, whose message is
written for the model: what was wrong and what shape to send instead."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from greenloop.errors import FormatError
from greenloop.types import FileEdit, ParsedReply

_DECODER = json.JSONDecoder(strict=False)  # models put raw newlines in JSON strings
_SEARCH = re.compile(r"^[ \t]*<{5,9} ?SEARCH\b.*$", re.M)
_DIVIDER = re.compile(r"^[ \t]*={5,9}[ \t]*$", re.M)
_REPLACE = re.compile(r"^[ \t]*>{5,9} ?REPLACE\b.*$", re.M)
FENCE = re.compile(r"^[ \t]*(```|~~~)")
_TEST_NAME = re.compile(
    r"(^|/)(tests?/|test_[^/]*$|[^/]*_test\.py$|[^/]*\.(test|spec)\.[jt]sx?$|conftest\.py$)")

_TEST_CODE = re.compile(r"^[ \t]*(def test_\w*\(|class Test\w*\(.*TestCase\))", re.M)  # a block that defines tests
# a fence with no language whose first line names one ("```\npython\n"): that line is not code
_LANGUAGE_LINE = r"(?:python3?|py|javascript|js|typescript|ts|jsx|tsx)"
_OPENER = re.compile(r"[ \t]*```(?:[\w+-]+)?[ \t]*")  # a line that opens a block: ```python, ```
_CLOSER = re.compile(r"[ \t]*```[ \t]*")  # a line that closes one
_LANGUAGE = re.compile(rf"[ \t]*{_LANGUAGE_LINE}[ \t]*")
# possessive blanks: a line of a hostile reply may hold a megabyte of them
_PATH_COMMENT = re.compile(
    r"^\s*+(?://|#|/\*|<!--)\s*+(?:(?:File|file|Path|path|Filename|filename):)?\s*+(\S+?)\s*+(?:\*/|-->)?\s*+$")
_PATH_TOKEN = re.compile(
    r"^[\w.-]+(/[\w.-]+)*\.(py|pyi|js|mjs|cjs|ts|tsx|jsx|json|md|txt|toml|cfg|ini|ya?ml|html|css)$")
SHAPE_HINT = ("Reply with each whole file as its path on a line of its own followed by a fenced code block, "
              'or with JSON {"testFile": {"path": ..., "content": ...}, "sourceFiles": [{"path": ..., '
              '"content": ...}]}, or with SEARCH/REPLACE blocks each after a line naming the file, or with a '
              "unified diff.")


def code_blocks(text: str) -> list[str]:
    """The body of every fenced block, in order: from a line that opens one (```python, or ``` with a language
    on the line after it, which is no code) to the next line that is only a fence; an opening line with no
    closing one after it opens nothing. One pass over the lines: a regex with a lazy body rescans the rest
    of the reply from every opening line (quadratic, and a reply is the model's)."""
    lines = text.split("\n")
    closers = [i for i, line in enumerate(lines) if _CLOSER.fullmatch(line)]
    blocks, at, i = [], 0, 0  # closers[at]: the first closing line not before line i
    while i < len(lines) - 1:
        if not _OPENER.fullmatch(lines[i]):
            i += 1
            continue
        first = i + 1
        if _CLOSER.fullmatch(lines[i]) and first < len(lines) - 1 and _LANGUAGE.fullmatch(lines[first]):
            first += 1
        while at < len(closers) and closers[at] < first:
            at += 1
        if at == len(closers):
            break  # no closing line after this one: none after a later one either
        blocks.append("".join(line + "\n" for line in lines[first:closers[at]]))
        i = closers[at] + 1
    return blocks


def is_test_path(path: str) -> bool:
    return bool(_TEST_NAME.search(path.replace("\\", "/")))


def parse_reply(text: str, files: Mapping[str, str] | None = None, default_path: str | None = None) -> ParsedReply:
    """Edits from a generate/fix/rewrite reply. Tries JSON, then SEARCH/REPLACE, then unified diff, then
    whole files in fences. `files` (the run's current files) lets a SEARCH block without a file name be
    placed when its text occurs in exactly one of them; `default_path` (the one file the task targets)
    receives a reply that is a single code block naming no file."""
    if not isinstance(text, str) or not text.strip():
        raise FormatError("The reply was empty. " + SHAPE_HINT)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    json_error: FormatError | None = None
    if "{" in text:
        try:
            found = _parse_json(text)
        except FormatError as exc:
            found, json_error = None, exc
        if found is not None:
            return ParsedReply(edits=found, format="json")
    if _SEARCH.search(text):
        blocks, spans = _parse_search_replace(text, files or {})
        whole_files = _fenced_files(text, skip=spans)  # a new file sent whole next to the blocks
        merged = sorted(blocks + whole_files, key=lambda pair: pair[0])
        return ParsedReply(edits=tuple(e for _, e in merged), format="mixed" if whole_files else "search_replace")
    if re.search(r"^(---|\+\+\+) ", text, re.M) and re.search(r"^@@", text, re.M):
        return ParsedReply(edits=_parse_unified_diff(text), format="diff")
    fenced = _parse_fenced_files(text)
    if default_path and "/" in default_path and [e.path for e in fenced] == [default_path.rsplit("/", 1)[1]]:
        fenced = (replace(fenced[0], path=default_path),)  # `// slug.js` atop the one block: the task's lib/slug.js
    if fenced:
        return ParsedReply(edits=fenced, format="fenced_files")
    blocks = [b for b in code_blocks(text) if b.strip() and not _name_only(b)]
    if len(blocks) > 1:  # prose often adds a usage example; the block that defines something is the file
        blocks = [b for b in blocks if re.search(r"^[ \t]*(async\s+def|def|class)\s", b, re.M)]
    code = [b for b in blocks if not _TEST_CODE.search(b)]
    if len(blocks) > 1 and len(code) == 1 and default_path and not is_test_path(default_path):
        blocks = code  # the code, then tests of it
    if default_path and len(blocks) == 1:
        return ParsedReply(edits=(FileEdit(path=default_path, kind="whole", content=_ensure_newline(blocks[0]),
                                           is_test=is_test_path(default_path)),), format="single_block")
    if json_error is not None:
        raise json_error
    raise FormatError("No file edits found in the reply (no JSON object, no SEARCH/REPLACE block, "
                      "no unified diff). " + SHAPE_HINT)


# --- JSON ---------------------------------------------------------------------------------------

def _json_candidates(text: str) -> list[Any]:
    objs: list[Any] = []
    pos = text.find("{")
    while pos != -1:
        try:
            obj, end = _DECODER.raw_decode(text, pos)
        except json.JSONDecodeError:
            pos = text.find("{", pos + 1)
            continue
        if isinstance(obj, dict):
            objs.append(obj)
        pos = text.find("{", end)
    return objs


def _parse_json(text: str) -> tuple[FileEdit, ...] | None:
    keys = ("testFile", "testFiles", "sourceFiles", "files")
    for obj in _json_candidates(text):
        if any(k in obj for k in keys):
            return _edits_from_json(obj)
    if re.search(r'"(testFile|testFiles|sourceFiles)"\s*:', text):
        raise FormatError("The JSON in the reply is incomplete or invalid (cut off, or a string is not "
                          "escaped). Send the whole JSON object again, with \\n and \\\" escaped in strings.")
    return None


def _file_entry(entry: Any, where: str, is_test: bool) -> FileEdit:
    if not isinstance(entry, dict):
        raise FormatError(f"{where} must be an object with \"path\" and \"content\".")
    path, content = entry.get("path"), entry.get("content")
    if not isinstance(path, str) or not path.strip():
        raise FormatError(f"{where} has no \"path\" string.")
    if not isinstance(content, str):
        raise FormatError(f"{where} ({path}) has no \"content\" string.")
    return FileEdit(path=path.strip(), kind="whole", content=_ensure_newline(content),
                    is_test=is_test or is_test_path(path))


def _edits_from_json(obj: dict[str, Any]) -> tuple[FileEdit, ...]:
    edits: list[FileEdit] = []
    tests = obj.get("testFiles", [])
    if "testFile" in obj and obj["testFile"] is not None:
        tests = [obj["testFile"], *(tests if isinstance(tests, list) else [])]
    if not isinstance(tests, list):
        raise FormatError('"testFiles" must be a list of {"path", "content"} objects.')
    for i, entry in enumerate(tests):
        edits.append(_file_entry(entry, f"testFiles[{i}]", True))
    sources = obj.get("sourceFiles", obj.get("files", []))
    if isinstance(sources, dict):
        sources = [sources]
    if not isinstance(sources, list):
        raise FormatError('"sourceFiles" must be a list of {"path", "content"} objects.')
    for i, entry in enumerate(sources):
        edits.append(_file_entry(entry, f"sourceFiles[{i}]", False))
    if not edits:
        raise FormatError("The JSON names no files. " + SHAPE_HINT)
    return tuple(edits)


def _ensure_newline(content: str) -> str:
    content = content.replace("\r\n", "\n")
    return content if content.endswith("\n") or not content else content + "\n"


# --- whole files in fences: "path" line, then ```lang ... ``` ------------------------------------

def _path_in(line: str) -> str | None:
    cleaned = line.strip().strip("`*#:'\" ").strip()
    for prefix in ("File:", "file:", "Filename:", "filename:", "Path:", "path:"):
        cleaned = cleaned.removeprefix(prefix).strip(" `*")
    return cleaned if _PATH_TOKEN.match(cleaned) else None


def _name_only(block: str) -> bool:
    """A block that holds a file's name and nothing else (the 1.5B model's "```\nsolution.py\n```" with no file
    after it): no code, though `solution.py` would parse as Python."""
    lines = block.strip().splitlines()
    return len(lines) == 1 and _path_in(lines[0]) is not None


def _parse_fenced_files(text: str) -> tuple[FileEdit, ...]:
    return tuple(edit for _, edit in _fenced_files(text))


def _fenced_files(text: str, skip: frozenset[int] = frozenset()) -> list[tuple[int, FileEdit]]:
    """Whole files as (line of the fence, edit). A fence around any line in `skip` (the lines of
    SEARCH/REPLACE blocks) wraps edits, not a file, and is passed over."""
    lines = text.split("\n")
    edits: list[tuple[int, FileEdit]] = []
    i = 0
    pending: str | None = None  # a path sent in a fence of its own names the next block
    while i < len(lines):
        opener = FENCE.match(lines[i])
        if not opener or i in skip:
            i += 1
            continue
        fence = opener.group(1)
        info = lines[i].strip()[3:].strip()
        path = next((p for tok in re.split(r"[\s:]+", info) if (p := _path_in(tok))), None)
        if path is None:
            before = [ln for ln in lines[max(0, i - 2):i] if ln.strip()]
            path = _path_in(before[-1]) if before else None
        path, pending = path or pending, None
        start = i + 1
        if path is None and start < len(lines) and (named := _PATH_COMMENT.match(lines[start])):
            path = _path_in(named.group(1))  # the path as the block's first line: `// lib/slug.js`
            start += path is not None
        if not info and start < len(lines) and re.fullmatch(_LANGUAGE_LINE, lines[start].strip()):
            start += 1  # "```" then "python" on a line of its own: the language, not the file's first line
        end = i + 1
        while end < len(lines) and (lines[end].strip() != fence or end in skip):
            end += 1
        if path is None and end == i + 2 and end < len(lines):
            pending = _path_in(lines[i + 1])  # "```\ntest/slug.test.js\n```" then the file's block
        if path is not None and not skip.intersection(range(i, end + 1)):
            if end >= len(lines) and any(e.path == path for _, e in edits):
                break  # a cut-off repetition of a file the reply already gave whole
            if end >= len(lines):
                raise FormatError(f"The code block for {path} is not closed with {fence}; the reply may have been "
                                  "cut off. Send the whole file again.")
            content = "\n".join(lines[start:end])
            edits = [(n, e) for n, e in edits if e.path != path]  # a repeated file: the last complete copy wins
            edits.append((i, FileEdit(path=path, kind="whole", content=_ensure_newline(content),
                                      is_test=is_test_path(path))))
        i = end + 1
    return edits


# --- SEARCH/REPLACE -----------------------------------------------------------------------------

def _filename_before(lines: list[str]) -> str | None:
    for line in reversed(lines):
        stripped = line.strip()
        if not stripped or FENCE.match(stripped):
            continue
        name = stripped.strip("`*#:'\" ").removeprefix("File").removeprefix("file").strip(" :`*")
        if name.lower().startswith(("path:", "filename:")):
            name = name.split(":", 1)[1].strip(" `*")
        if " " in name or not name or name.startswith(("<<<", "===", ">>>")):
            return None
        return name
    return None


def _owner(search: str, files: Mapping[str, str]) -> str | None:
    needle = search.strip()
    owners = [path for path, content in files.items() if needle and needle in content]
    return owners[0] if len(owners) == 1 else None


def _parse_search_replace(text: str, files: Mapping[str, str]) -> tuple[list[tuple[int, FileEdit]], frozenset[int]]:
    """The blocks as (line of the SEARCH marker, edit), and every line the blocks take up."""
    edits: list[tuple[int, FileEdit]] = []
    spans: set[int] = set()
    lines = text.split("\n")
    i, current, block = 0, None, 0
    while i < len(lines):
        if not _SEARCH.match(lines[i]):
            i += 1
            continue
        block += 1
        j = i + 1
        while j < len(lines) and not _DIVIDER.match(lines[j]):
            j += 1
        k = j + 1
        while k < len(lines) and not _REPLACE.match(lines[k]):
            k += 1
        name = _filename_before(lines[max(0, i - 3):i])
        if name is not None:
            current = name
        elif j < len(lines):
            current = _owner("\n".join(lines[i + 1:j]), files) or current
        if current is None:
            raise FormatError(f"SEARCH/REPLACE block {block} has no file name; put the file's path alone "
                              "on the line before <<<<<<< SEARCH.")
        if j >= len(lines) or k >= len(lines):
            raise FormatError(f"SEARCH/REPLACE block {block} for {current} is not closed (missing ======= "
                              "or >>>>>>> REPLACE); the reply may have been cut off. Send the block whole.")
        search = "\n".join(lines[i + 1:j])
        replace = "\n".join(lines[j + 1:k])
        edits.append((i, FileEdit(path=current, kind="search_replace",
                                  search=search + "\n" if search else "", replace=replace + "\n" if replace else "",
                                  is_test=is_test_path(current))))
        spans.update(range(i, k + 1))
        i = k + 1
    return edits, frozenset(spans)


# --- unified diff -------------------------------------------------------------------------------

def _diff_path(header: str) -> str:
    name = header[4:].split("\t")[0].strip()
    if name == "/dev/null":
        return name
    return name[2:] if name.startswith(("a/", "b/")) else name


def _parse_unified_diff(text: str) -> tuple[FileEdit, ...]:
    lines = text.split("\n")
    edits: list[FileEdit] = []
    i = 0
    while i < len(lines):
        if not (lines[i].startswith("--- ") and i + 1 < len(lines) and lines[i + 1].startswith("+++ ")):
            i += 1
            continue
        old, new = _diff_path(lines[i]), _diff_path(lines[i + 1])
        if new == "/dev/null":
            raise FormatError(f"The diff deletes {old}; greenloop does not delete files. Edit it instead.")
        i += 2
        hunks: list[tuple[str, str]] = []
        while i < len(lines) and lines[i].startswith("@@"):
            i += 1
            before: list[str] = []
            after: list[str] = []
            while i < len(lines) and not lines[i].startswith(("@@", "--- ")):
                line = lines[i]
                if line.startswith("\\"):
                    pass  # "\ No newline at end of file"
                elif line.startswith("-"):
                    before.append(line[1:])
                elif line.startswith("+"):
                    after.append(line[1:])
                elif line.startswith(" ") or line == "":
                    before.append(line[1:])
                    after.append(line[1:])
                else:
                    break
                i += 1
            while before and after and before[-1] == "" and after[-1] == "":
                before.pop()
                after.pop()
            hunks.append(("\n".join(before) + "\n" if before else "", "\n".join(after) + "\n" if after else ""))
        if not hunks:
            raise FormatError(f"The diff for {new} has no @@ hunks.")
        if old == "/dev/null":
            content = "".join(h[1] for h in hunks)
            edits.append(FileEdit(path=new, kind="whole", content=content, is_test=is_test_path(new)))
        else:
            edits.append(FileEdit(path=new, kind="diff", hunks=tuple(hunks), is_test=is_test_path(new)))
    if not edits:
        raise FormatError("The unified diff has no file headers (--- a/path, +++ b/path). " + SHAPE_HINT)
    return tuple(edits)


# Where a commit message's body starts echoing the request (its Files/Tests/Diff sections, or the diff itself):
# greenloop writes the files and the tests into the message itself.
_ECHOED = re.compile(r"(?:(?:files|tests|diff)[ \t]*:|diff --git |--- |\+\+\+ |@@ )", re.I)


def parse_commit_message(text: str) -> str | None:
    """A usable Conventional Commits message from a reply, or None."""
    body = text.replace("\r\n", "\n").strip()
    fence = re.search(r"```[a-z]*\n(.*?)```", body, re.S)
    if fence:
        body = fence.group(1).strip()
    lines = [ln.rstrip() for ln in body.split("\n")]
    while lines and not lines[0].strip():
        lines.pop(0)
    if not lines:
        return None
    subject = lines[0].strip().strip('"`')
    if not re.match(r"^(feat|fix|test|refactor|docs|chore|perf|style|build|ci)(\([\w./-]+\))?!?: \S", subject):
        return None
    if len(subject) > 72:
        return None
    body_lines = lines[1:]
    echo = next((i for i, ln in enumerate(body_lines) if _ECHOED.match(ln)), len(body_lines))
    rest = "\n".join(body_lines[:echo]).strip()
    return subject + ("\n\n" + rest if rest else "")
