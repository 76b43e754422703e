"""Terminal output: text from the model or the tests cannot drive the user's terminal (issue 10)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import TASK, cli, whole, write_script

from greenloop.sanitize import for_terminal

PAYLOAD = "\\x1b]0;pwned\\x07\\x1b[2J\\rALL TESTS PASSED"  # as Python source: the bytes appear at run time
CONTROL_BYTES = ("\x1b", "\x07", "\r", "\x9b", "\x9d")


@pytest.mark.parametrize("raw, shown", [
    ("a\x1b]0;pwned\x07b", "ab"),  # OSC window title, BEL-terminated
    ("a\x1b]8;;http://evil\x1b\\link\x1b]8;;\x1b\\b", "alinkb"),  # OSC 8 hyperlink, ST-terminated
    ("\x1b[2J\x1b[1;31mred\x1b[0m", "red"),  # CSI clear screen, colours
    ("1 failed\rALL TESTS PASSED", "1 failedALL TESTS PASSED"),  # a lone CR cannot overwrite the line
    ("line\r\nnext", "line\nnext"),
    ("a\x1bP1$r q\x1b\\b", "ab"),  # DCS
    ("a\x9b2Jb\x9d0;t\x07c", "abc"),  # 8-bit CSI and OSC
    ("a\x1b]0;unterminated\nnext line", "a\nnext line"),  # an unterminated OSC cannot hide what follows
    ("a\x1b7b\x1b(Bc\x1bc", "abc"),  # other escapes: save cursor, charset, reset
    ("tab\tnew\nbell\x07nul\x00del\x7f", "tab\tnew\nbellnuldel"),
    ("ok \u202eevil\u202c", "ok <U+202E>evil<U+202C>"),  # bidi overrides are shown, not obeyed
    ("plain ünïcode → fine", "plain ünïcode → fine"),
])
def test_for_terminal(raw: str, shown: str) -> None:
    assert for_terminal(raw) == shown


def test_show_and_run_output_carry_no_control_bytes(repo: Path, tmp_path: Path) -> None:
    hostile_test = ("from textkit.slug import slugify\n\n\ndef test_" + "basic():\n"
                    f'    print("{PAYLOAD}")\n'
                    f'    assert slugify("a") == "b", "{PAYLOAD}"\n')
    impl = f'# {PAYLOAD}\nTITLE = "\x1b]0;raw-title\x07"\n\n\ndef slugify(text):\n    return text\n'
    script = write_script(tmp_path / "s.json", [{"step": "generate", "text": whole(test=hostile_test, impl=impl)}])
    proc = cli("run", TASK, "--repo", str(repo), "--model", f"scripted:{script}", "--max-iterations", "1")
    assert proc.returncode == 1
    assert not any(b in proc.stderr for b in CONTROL_BYTES), repr(proc.stderr)
    run = cli("runs", "--repo", str(repo)).stdout.splitlines()[-1].split("\t")[0]
    shown = cli("show", run, "--repo", str(repo))
    assert shown.returncode == 0, shown.stderr
    assert "test_basic: AssertionError" in shown.stdout  # the text is shown, only the controls are gone
    assert not any(b in shown.stdout for b in CONTROL_BYTES), repr(shown.stdout)



def test_show_of_a_committed_diff_carries_no_control_bytes(repo: Path, tmp_path: Path) -> None:
    test = f'from textkit.slug import slugify\n\n\ndef test_same():\n    assert slugify("a") == "a", "{PAYLOAD}"\n'
    title = 'TITLE = """\x1b]0;raw-title\x07\x1b[2J\rALL TESTS PASSED"""\n\n\n'
    script = write_script(tmp_path / "s.json", [
        {"step": "generate", "text": whole(test=test, impl=title + "def slugify(text):\n    return 'b'\n")},
        {"step": "fix", "text": whole(test=None, impl=title + "def slugify(text):\n    return text\n")},
        {"step": "commit_message", "text": "feat: slugify\x1b]0;pwned\x07\n\nDone.\rALL TESTS PASSED"},
    ])
    proc = cli("run", TASK, "--repo", str(repo), "--model", f"scripted:{script}")
    assert proc.returncode == 0, proc.stderr
    assert not any(b in proc.stderr for b in CONTROL_BYTES), repr(proc.stderr)
    run = cli("runs", "--repo", str(repo)).stdout.splitlines()[-1].split("\t")[0]
    shown = cli("show", run, "--repo", str(repo)).stdout
    assert "+TITLE = " in shown and "ALL TESTS PASSED" in shown  # the diff is shown, its controls are not
    assert not any(b in shown for b in CONTROL_BYTES), repr(shown)
