"""How a sentence of a task states a value: what the code must give, or what it gives now.

A bug report writes both: `format_cents(-5) gives '$-1.95'; it should give '-$0.05'`. The value after a verb of
the present (`returns`, `gives`) is what the code does now when the sentence goes on with what it should do
(`; it should give B`, `, expected B`, `(expected B)`, `instead of B`, `rather than B`, `. It should return B`):
then B is the example. After a sign (`->`, `==`, `=>`) the value is the one wanted unless the sentence says what
it should be instead (`f(2) -> 5; it should give 4`); `instead of B` there names the old value, not the new one
(`f(2) -> 4 instead of 5`). After `should return` the value is always the one wanted. A value of the present in a
clause that calls the code wrong now (`wrong`, `broken`, `currently`, `today`, `right now`) is no example at all.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Literal

Kind = Literal["desired", "verb", "symbol"]
Reading = Literal["current", "desired", "none"]

_NOW = re.compile(r"\b(?:wrong(?:ly)?|incorrect(?:ly)?|bug(?:gy|s)?|broken|currently|today|right[ \t]+now)\b", re.I)
_CLAUSE_END = re.compile(r"[.!?;:]\s|\n")
_ASIDE = re.compile(r"\s\(")  # after a value, a remark in parentheses is a clause of its own
_NEXT = re.compile(
    r"[ \t]*\)?[ \t]*[;,.]?[ \t]*\(?[ \t]*(?:(?:but|and|while|whereas|when)[ \t]+)?(?:(?:it|this|that)[ \t]+)?"
    r"(?:(?P<should>(?:should|must)[ \t]+(?:give|return|be)|expected[ \t]*:?|expecting)"
    r"|(?P<instead>instead[ \t]+of|rather[ \t]+than))[ \t]+", re.I)


def arrow_kind(arrow: str) -> Kind:
    """`should return`: the value wanted; `returns`, `gives`: a verb of the present; anything else a sign."""
    word = " ".join(arrow.split()).lower()
    if word.startswith("should"):
        return "desired"
    return "verb" if word in ("returns", "gives", "becomes") else "symbol"


def reading(text: str, after: int, kind: Kind, literal_at: Callable[[str, int], str | None]) -> tuple[Reading, str]:
    """What the value that ends at `after` is (see the module's doc): ("current", the value it should be instead,
    or "" when that is no literal), ("desired", ""), or ("none", "") when the sentence says nothing more."""
    if kind == "desired":
        return "desired", ""
    m = _NEXT.match(text, after)
    if m is None:
        return "none", ""
    if m.group("instead") and kind == "symbol":
        return "desired", ""
    return "current", literal_at(text, m.end()) or ""


def says_wrong_now(text: str, start: int, end: int) -> bool:
    """The clause around text[start:end] calls the code wrong now (at most 80 characters either side; a clause
    ends at `.`, `!`, `?`, `;` or `:` and a space, at a line's end, and after the value at a remark in
    parentheses: `'a' should give 'B' (today it gives 'b')`)."""
    before, after = text[max(0, start - 80):start], text[end:end + 80]
    ends = list(_CLAUSE_END.finditer(before))
    stop = _CLAUSE_END.search(after) or _ASIDE.search(after)
    clause = (before[ends[-1].end():] if ends else before) + " " + (after[:stop.start()] if stop else after)
    return _NOW.search(clause) is not None
