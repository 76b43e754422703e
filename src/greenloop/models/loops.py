"""Small models loop: a reply that repeats itself is stopped while it streams and cut where the loop began,
whether the model runs in-process (local.py) or behind an OpenAI-compatible server (openai.py). And a provider
is not trusted to honour max_tokens (a compromised one may stream without end): a reply longer than its token
cap could be is stopped there too (`cap_chars`)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from greenloop.config import Settings

LOOP_WINDOW = 400  # a reply whose last 400 characters already occurred in it is looping: stop it there
LOOP_LINES, LOOP_PREFIX = 12, 48  # or whose last 12 lines share their first 48 characters
LOOP_KEEP = 3  # of those lines, the first three stay in the reply
LOOP_RUN, LOOP_RUN_PREFIX = 10, 20  # or whose last 10 lines share their first 20 characters, each no shorter than
# the one before and the last longer than the first (a model counting up one assert: "YyYy" == 4, "YyYyY" == 5)
LOOP_BLOCKS, LOOP_SHAPE = 8, 10  # or whose last lines are one block of lines, 8 times, each line the same shape
CHECK_EVERY = 32  # pieces between two looks for a loop
MAX_CHARS_PER_TOKEN = 16  # a token of the tokenizers in use is far shorter: this bounds what max_tokens allows
DEADLINE_TIMEOUTS = 3  # a reply still coming after three request timeouts is stopped (a slow local server's
# longest honest reply here took 16 minutes beside a benchmark; the default timeout is 10)


def deadline(request_timeout: float) -> float:
    return DEADLINE_TIMEOUTS * request_timeout


def cap_chars(max_tokens: int) -> int:
    """The most characters a reply of `max_tokens` tokens can have; more and the provider ignored the cap."""
    return max_tokens * MAX_CHARS_PER_TOKEN


@dataclass(frozen=True)
class Streamed:
    text: str  # the reply; when stopped, cut where the loop began (or to whole lines within the cap)
    pieces: int  # pieces read (a local model's output tokens)
    stopped: bool  # the reply looped, ran past its cap or its deadline, and was stopped: the caller closes its stream


def read_stream(pieces: Iterable[str], on_text: Callable[[str], None] | None,
                max_chars: int | None = None, deadline_s: float | None = None) -> Streamed:
    """A streamed reply, each non-empty piece shown as it comes, stopped once it loops (a small model repeating
    itself would otherwise run to reply_max_tokens) and cut there; or once it is longer than `max_chars`, or
    still coming after `deadline_s` seconds (a provider trickling a reply), and cut to whole lines."""
    parts: list[str] = []
    size = 0
    started = time.monotonic()
    for piece in pieces:
        parts.append(piece)
        size += len(piece)
        if on_text is not None and piece:
            on_text(piece)
        if max_chars is not None and size > max_chars:
            return Streamed(_within("".join(parts), max_chars), len(parts), True)
        if deadline_s is not None and time.monotonic() - started > deadline_s:
            return Streamed(_within("".join(parts), size), len(parts), True)
        if len(parts) % CHECK_EVERY == 0 and looping("".join(parts)):
            return Streamed(before_the_loop("".join(parts)), len(parts), True)
    return Streamed("".join(parts), len(parts), False)


def read_reply(pieces: Iterable[str], on_text: Callable[[str], None] | None, settings: Settings) -> Streamed:
    """An HTTP provider's streamed reply, within what its token cap and request timeout allow."""
    return read_stream(pieces, on_text, cap_chars(settings.reply_max_tokens), deadline(settings.request_timeout))


def _within(text: str, max_chars: int) -> str:
    """The whole lines of `text` within its first `max_chars` characters, an open code fence closed."""
    head = text[:max_chars]
    cut = head[:head.rfind("\n") + 1] or head
    return _closed(cut)


def _closed(text: str) -> str:
    return text + ("```\n" if text.count("```") % 2 else "")


def before_the_loop(text: str) -> str:
    """A reply stopped for looping, cut where the loop began (the repeated lines kept LOOP_KEEP times, whole
    lines only) and its open code fence closed: the files written before the loop still count."""
    first = _repeat_start(text)
    whole = text.splitlines(keepends=True)[:-1]
    period = _block_period([line.rstrip("\n") for line in whole])
    if first is not None:  # an exact repeat: keep one copy
        lines = text[:first + LOOP_WINDOW].splitlines(keepends=True)[:-1]
    elif period:  # a block repeated with growing variations: keep its first LOOP_KEEP copies
        start = len(whole) - LOOP_BLOCKS * period
        while start > 0 and _shape(whole[start - 1]) == _shape(whole[start - 1 + period]):
            start -= 1  # back to the line where the repeating begins, whatever line the stop fell after
        lines = whole[:start + LOOP_KEEP * period]  # so whole blocks: never a `def ...:` without its body
    else:
        lines = text.splitlines(keepends=True)[:-1]  # the last line was cut mid-way
        stripped = [line.rstrip("\n") for line in lines]
        shared = 0 if _same_start(stripped) else _counting(stripped)
        size, keep = (shared, 1) if shared else (LOOP_PREFIX, LOOP_KEEP)  # a count: one line of it stays
        prefix, start = lines[-1][:size] if lines else "", len(lines)
        while start > 0 and lines[start - 1][:size] == prefix:
            start -= 1
        lines = lines[:start + keep]
    return _closed("".join(lines))


def _repeat_start(text: str) -> int | None:
    """Where the reply's last LOOP_WINDOW characters first occurred, if they occurred before (an exact loop)."""
    if len(text) < 3 * LOOP_WINDOW:
        return None
    first = text.find(text[-LOOP_WINDOW:])
    return first if first < len(text) - LOOP_WINDOW else None


def _shape(line: str) -> str:
    return line.strip()[:LOOP_SHAPE]


def _block_period(lines: list[str]) -> int:
    """The length of a block of 2-8 lines (of at least two shapes) that the last LOOP_BLOCKS blocks repeat line
    by line in shape (the first LOOP_SHAPE characters), each no shorter than the one before: a model writing one
    test after another, each a longer variant of the one before, with no end. 0 when there is none."""
    for period in range(2, 9):
        last = lines[-LOOP_BLOCKS * period:]
        tail = [_shape(line) for line in last]
        sizes = [sum(map(len, last[i:i + period])) for i in range(0, len(last), period)]
        if len(tail) == LOOP_BLOCKS * period and len(set(tail[:period])) > 1 and all(
                tail[i] == tail[i + period] for i in range(len(tail) - period)) and sizes == sorted(sizes):
            return period  # and each block at least as long as the one before: a loop, not a table of tests
    return 0


def looping(text: str) -> bool:
    """A reply that repeats itself: its last 400 characters occurred earlier, its last LOOP_LINES lines all
    start with the same LOOP_PREFIX characters (a model writing ever longer variants of one assert), its last
    LOOP_RUN lines count up one assert (`_counting`), or its last lines repeat one block of lines LOOP_BLOCKS
    times in shape (ever longer variants of one test)."""
    whole = text.splitlines()[:-1]  # complete lines only
    return _repeat_start(text) is not None or bool(_block_period(whole)) or _same_start(whole) or bool(
        _counting(whole))


def _same_start(lines: list[str]) -> bool:
    """The last LOOP_LINES lines start with the same LOOP_PREFIX characters."""
    last = lines[-LOOP_LINES:]
    return len(last) == LOOP_LINES and len(last[0]) >= LOOP_PREFIX and len({line[:LOOP_PREFIX] for line in last}) == 1


def _counting(lines: list[str]) -> int:
    """How many characters the last LOOP_RUN lines share at their start, if at least LOOP_RUN_PREFIX and they
    grow as a count does (none shorter than the one before, the last longer than the first); else 0."""
    last = lines[-LOOP_RUN:]
    if len(last) < LOOP_RUN:
        return 0
    shared = len(os.path.commonprefix(last))
    sizes = [len(line) for line in last]
    grows = sizes == sorted(sizes) and sizes[-1] > sizes[0]
    return shared if shared >= LOOP_RUN_PREFIX and grows else 0
