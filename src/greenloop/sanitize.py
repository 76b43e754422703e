"""Text from the model or the tests, made safe for a terminal: no escape sequences, no control bytes.

A test can print `ESC ] 0 ; title BEL` (window title), `ESC [ 2 J` (clear screen) or `\\r` followed by a
fake "ALL TESTS PASSED" that overwrites the real line. `for_terminal` removes all of them; what is left
is printable text, newlines and tabs."""

from __future__ import annotations

import re

# Sequences first, so their parameters do not survive as text; then single controls. OSC, DCS, SOS, PM
# and APC end at BEL or ST, or at the line end: an unterminated one cannot hide the lines after it.
_STRING_SEQUENCE = r"(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c\n]*(?:\x07|\x1b\\|\x9c)?"
_CSI = r"(?:\x1b\[|\x9b)[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]?"
_OTHER_ESCAPE = r"\x1b[\x20-\x2f]*[\x30-\x7e]?"
_SEQUENCES = re.compile(f"{_STRING_SEQUENCE}|{_CSI}|{_OTHER_ESCAPE}")
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # all C0 but \t and \n (so \r too), DEL, all C1
# Bidirectional overrides reorder what the eye reads (Trojan Source); shown, not obeyed.
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")


def for_terminal(text: str) -> str:
    """`text` without terminal control sequences or control characters other than newline and tab.
    A Windows line end (CRLF) becomes a newline; a lone CR is removed, so nothing overwrites a line."""
    text = text.replace("\r\n", "\n")
    text = _SEQUENCES.sub("", text)
    text = _CONTROLS.sub("", text)
    return _BIDI.sub(lambda m: f"<U+{ord(m.group()):04X}>", text)
