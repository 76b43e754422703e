"""Round trips: a task that asks for the inverse of a function of its module states a property no model test can
overrule (roundtrip.py). Flows use the scripted model, the real sandbox and real git."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest
from conftest import cli, events, git, summary, write_script

from greenloop import frozen
from greenloop.ledger import Entry, Ledger
from greenloop.roundtrip import Inverse, claims, inverses, round_trip, values

ENCODE = ('def encode(text):\n    """Turns each group of three characters one place to the left."""\n'
          '    groups = [text[i:i + 3] for i in range(0, len(text), 3)]\n'
          '    return "".join(g[1:] + g[0] if len(g) == 3 else g for g in groups)\n')
STUB = f'{ENCODE}\n\ndef decode(text):\n    """Takes a string made by encode and gives back the original."""\n'
DECODE = STUB + ('    groups = [text[i:i + 3] for i in range(0, len(text), 3)]\n'
                 '    return "".join(g[-1] + g[:-1] if len(g) == 3 else g for g in groups)\n')
DECODE_TOO = STUB + ('    out = ""\n    for i in range(0, len(text), 3):\n        g = text[i:i + 3]\n'
                     '        out += g[2] + g[:2] if len(g) == 3 else g\n    return out\n')
TASK = "Implement decode in textkit/codec.py"
# hand-computed and wrong (HumanEval/38 with the 1.5B): decode("abc") is "cab", since encode("cab") == "abc"
WRONG = 'from textkit.codec import decode\n\n\ndef test_decode():\n    assert decode("abc") == "bac"\n'


def _reply(test: str | None, impl: str) -> str:
    obj: dict = {"sourceFiles": [{"path": "textkit/codec.py", "content": impl}]}
    if test is not None:
        obj["testFile"] = {"path": "tests/test_codec.py", "content": test}
    return json.dumps(obj)


@pytest.fixture
def codec(repo: Path) -> Path:
    (repo / "textkit" / "codec.py").write_text(STUB)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "codec")
    return repo


def _run(repo: Path, tmp_path: Path, replies: list[dict], *extra: str) -> dict:
    script = write_script(tmp_path / "s.json", replies)
    proc = cli("run", TASK, "--repo", str(repo), "--model", f"scripted:{script}", "--json", *extra)
    assert proc.stdout.strip(), proc.stderr
    return summary(proc)


def test_the_inverse_a_task_asks_for_is_found_by_name_and_docstring() -> None:
    assert inverses(STUB, "textkit/codec.py", TASK) == [Inverse("decode", "encode", "textkit/codec.py")]
    # a function the module does not have yet (the task calls it), or a stub of it; the other one is written
    roman = "def to_roman(n):\n    return str(n)\n"
    assert inverses(roman, "num.py", "Write from_roman(s), the inverse of to_roman, in num.py") == [
        Inverse("from_roman", "to_roman", "num.py")]
    assert inverses("def escape(s):\n    return s\n\n\ndef unescape(s):\n    pass\n", "esc.py",
                    "Add unescape to esc.py: it undoes escape") == [Inverse("unescape", "escape", "esc.py")]
    # a review's finds: a word of the task is not a function it asks for, nor is a keyword or a written function
    assert inverses(roman, "num.py", "Write from_roman, the inverse of to_roman, in num.py") == []
    assert inverses("def encode(s):\n    return s\n", "m.py", "Fix encode: it must not decode entities twice") == []
    assert inverses("def to(x):\n    return x\n", "m.py", "Map from(x) to to(x) in m.py") == []
    assert inverses("def register(name):\n    return name\n", "r.py", "Write unregister(name), which undoes register") == []
    assert inverses(roman + "\n\ndef from_roman(s):\n    return int(s)\n", "num.py",
                    "Fix from_roman(s), the inverse of to_roman, in num.py") == []
    # the task must name the function, and it or the docstring the other one
    assert inverses(STUB, "textkit/codec.py", "Implement the missing function in textkit/codec.py") == []
    assert inverses(STUB.replace("made by encode", "made elsewhere"), "textkit/codec.py", TASK) == []
    # names that only look alike, and an "inverse" or a stub that takes two arguments, are no pair
    assert inverses(STUB.replace("def decode", "def decoder"), "textkit/codec.py", "Implement decoder: see encode") == []
    assert inverses(STUB.replace("encode(text)", "encode(text, key)"), "textkit/codec.py", TASK) == []
    assert inverses(STUB.replace("decode(text)", "decode(text, key)"), "textkit/codec.py", TASK) == []


def test_the_round_trip_values_are_the_tests_literals_for_either_function() -> None:
    inverse = Inverse("decode", "encode", "textkit/codec.py")
    tests = ast.parse("import textkit.codec as c\nfrom textkit.codec import decode, encode\n\n\ndef test_it():\n"
                      '    assert decode("abc") == "bac"\n    assert c.encode("xyz") == "yzx"\n'
                      '    assert decode(text="kw") == "kw"\n    assert decode(None) is None\n'
                      '    assert decode("abc") == "bac"\n    assert len(decode("qqq")) == 3\n'
                      '    assert b"hi".decode("ascii") == "hi"\n')
    assert values(tests, inverse) == ["'abc'", "'bac'", "'xyz'", "'yzx'"]
    assert round_trip(inverse, "'abc'").assertion == "assert encode(decode(encode('abc'))) == encode('abc')"


def test_an_assert_a_round_trip_may_refute_is_an_exact_claim_on_the_function_asked_for() -> None:
    inverse = Inverse("loads", "dumps", "j.py")
    tests = ast.parse('def test_it():\n    assert loads(\'{"a":1}\') == {"a": 1}\n    assert loads("1.5") == 1.5\n'
                      '    assert dumps({"a": 1}) == \'{"a": 1}\'\n    assert b"x".loads("y") == 1\n'
                      '    for s in ["1"]:\n        assert loads(s) == 1\n')
    assert claims(tests, inverse) == [("assert loads('{\"a\":1}') == {'a': 1}", '\'{"a":1}\'', "{'a': 1}")]
    # another module's function of that name, or a method, is not the one the task asks for
    other = ast.parse('def test_it():\n    assert json.loads("1") == 1\n    assert self.loads("1") == 1\n'
                      '    assert j.loads("2") == 2\n')
    assert claims(other, inverse) == [("assert j.loads('2') == 2", "'2'", "2")]


def test_a_model_assert_a_program_shows_wrong_is_dropped_and_the_round_trips_are_committed(
        codec: Path, tmp_path: Path) -> None:
    """HumanEval/38 with the 1.5B: right code, and the model's one test hand-computed `decode("abc") == "bac"`;
    with no example nothing weighed it, and the run failed where the model alone was right. encode("bac") is
    "acb", not "abc"; the program meets every round trip and encode(decode("abc")) == "abc" holds on it, so "abc"
    is what encode gives and "bac" is not what undoing it gives: the assert goes, in the same attempt."""
    s = _run(codec, tmp_path, [
        {"step": "generate", "text": _reply(WRONG, DECODE)},
        {"step": "commit_message", "text": "feat: add decode"},
    ])
    assert s["status"] == "success", s
    trips = [e for e in events(s["trajectory"]) if e["kind"] == "round_trips"]
    assert trips and trips[0]["examples"] == ["assert encode(decode(encode('abc'))) == encode('abc')",
                                              "assert encode(decode(encode('bac'))) == encode('bac')"]
    assert trips[0]["refutable"] == ["assert decode('abc') == 'bac'"]
    assert [e["witnessed"] for e in events(s["trajectory"]) if e["kind"] == "round_trips_refuted"] == [
        ["assert decode('abc') == 'bac'"]]
    assert [e["reasons"] for e in events(s["trajectory"]) if e["kind"] == "round_trips_refuted"] == [
        ["encode('bac') is not 'abc'"]]
    assert "disputed assertion dropped: tests/test_codec.py: assert decode('abc') == 'bac'" in s["warnings"]
    committed = git(codec, "show", f"{s['commit']}:tests/test_codec.py")
    assert '"bac"' not in committed and "def test_decode_undoes_encode():" in committed
    assert "assert encode(decode(encode('abc'))) == encode('abc')" in committed
    assert git(codec, "show", f"{s['commit']}:textkit/codec.py") == DECODE
    assert [e["step"] for e in events(s["trajectory"]) if e["kind"] == "model_request"] == [
        "test_design", "generate", "commit_message"]
    assert [e["outcome"] for e in events(s["trajectory"]) if e["kind"] == "attempt"] == ["passed"]


def test_a_refutable_assert_stays_when_the_program_does_not_show_it_wrong(codec: Path, tmp_path: Path) -> None:
    """A program that meets the round trips but whose decode("abc") encode does not turn back into "abc" shows
    nothing about the assert (a value encode never gives has no right answer to undo): it stays."""
    odd = STUB + ('    if text == "abc":\n        return "zzz"\n'
                  '    groups = [text[i:i + 3] for i in range(0, len(text), 3)]\n'
                  '    return "".join(g[-1] + g[:-1] if len(g) == 3 else g for g in groups)\n')
    s = _run(codec, tmp_path, [
        {"step": "generate", "text": _reply(WRONG.replace('"abc"', '"xyz"').replace('"bac"', '"yxz"'),
                                            odd.replace('"abc"', '"xyz"'))},
    ], "--max-iterations", "1")
    assert s["status"] == "failed"
    assert [e["witnessed"] for e in events(s["trajectory"]) if e["kind"] == "round_trips_refuted"] == [[]]


def test_round_trips_are_no_example_of_the_task_to_agreement(codec: Path, tmp_path: Path) -> None:
    """A review's find: counted as the task's examples, round trips (which hold for many wrong programs) would let
    two agreeing samples drop any model assert at once, the rule that made py_repo_tasks `words` a false green. A
    model assert they cannot decide is worked on as in a task with no example: a redraft first, no sample."""
    wrong = ('from textkit.codec import decode\n\n\ndef test_decode():\n    assert decode("bca") == "abc"\n'
             '    assert decode("abc")[0] == "b"\n')
    s = _run(codec, tmp_path, [
        {"step": "generate", "text": _reply(wrong, DECODE)},
        {"step": "redraft", "text": _reply(None, DECODE + "# the test is wrong\n")},
    ], "--max-iterations", "2")
    assert s["status"] == "failed"
    assert [e["step"] for e in events(s["trajectory"]) if e["kind"] == "model_request"] == [
        "test_design", "generate", "redraft"]
    assert [e["refutable"] for e in events(s["trajectory"]) if e["kind"] == "round_trips"] == [[]]


def test_a_round_trip_is_an_anchor_the_code_must_meet(codec: Path, tmp_path: Path) -> None:
    """The model's tests agree with wrong code (decode gives back its input); the round trip does not: the first
    draft misses it, is told so as a round trip (not as an example the task wrote), and is drafted again."""
    identity = STUB + "    return text\n"
    s = _run(codec, tmp_path, [
        {"step": "generate", "text": _reply('from textkit.codec import decode, encode\n\n\ndef test_decode():\n'
                                            '    assert decode("xy") == "xy"\n    assert encode("abc") == "bca"\n',
                                            identity)},
        {"text": _reply(None, DECODE)},
        {"step": "commit_message", "text": "feat: add decode"},
    ])
    assert s["status"] == "success", s
    first = next(e for e in events(s["trajectory"]) if e["kind"] == "attempt")
    assert first["summary"] == ("A round trip of the task fails (the function must undo the one it names): assert "
                                "encode(decode(encode('abc'))) == encode('abc'); got 'cab'")
    assert [e["step"] for e in events(s["trajectory"]) if e["kind"] == "model_request"][2] == "redraft"
    assert git(codec, "show", f"{s['commit']}:textkit/codec.py") == DECODE


def test_a_value_the_modules_own_function_raises_on_is_not_used_and_a_right_assert_stays(
        codec: Path, tmp_path: Path) -> None:
    s = _run(codec, tmp_path, [
        {"step": "generate", "text": _reply('from textkit.codec import decode\n\n\ndef test_decode():\n'
                                            '    assert decode(5) == 5\n    assert decode("bca") == "abc"\n',
                                            DECODE)},
    ], "--max-iterations", "1")
    trips = [e for e in events(s["trajectory"]) if e["kind"] == "round_trips"]
    assert trips and trips[0]["examples"] == ["assert encode(decode(encode('bca'))) == encode('bca')",
                                              "assert encode(decode(encode('abc'))) == encode('abc')"]
    assert trips[0]["refutable"] == []  # encode(5) raises (no value to weigh the assert with); encode("abc") is "bca"


def test_a_function_that_gives_one_value_for_all_is_no_inverse_to_check(codec: Path, tmp_path: Path) -> None:
    """A review's find: with an `encode` that returns None (or one constant), every round trip holds for any
    decode and every model assert would look refutable: nothing is derived."""
    (codec / "textkit" / "codec.py").write_text(STUB.replace("    groups = [", "    return None\n    groups = ["))
    git(codec, "commit", "-qam", "an encode that gives nothing")
    s = _run(codec, tmp_path, [{"step": "generate", "text": _reply(WRONG, DECODE)}], "--max-iterations", "1")
    assert s["status"] == "failed"
    assert not [e for e in events(s["trajectory"]) if e["kind"].startswith("round_trips")]


def test_a_repositorys_inverse_runs_only_in_the_jail(codec: Path, tmp_path: Path) -> None:
    """Red team: the module's own function is the repository's code, run to check the round trip values. One that
    writes to the user's home and to /tmp leaves nothing on the host."""
    marks = [Path.home() / f".greenloop-roundtrip-{tmp_path.name}", Path("/tmp") / f"greenloop-roundtrip-{tmp_path.name}"]
    hostile = ("def encode(text):\n    for p in " + repr([str(m) for m in marks]) + ":\n"
               "        try:\n            open(p, 'w').write('escaped')\n        except OSError:\n            pass\n"
               "    return text[::-1]\n\n\ndef decode(text):\n"
               '    """Takes a string made by encode and gives back the original."""\n')
    (codec / "textkit" / "codec.py").write_text(hostile)
    git(codec, "commit", "-qam", "hostile codec")
    s = _run(codec, tmp_path, [
        {"step": "generate", "text": _reply(WRONG, hostile + "    return text[::-1]\n")},
        {"step": "generate", "text": _reply(None, hostile + "    return ''.join(reversed(text))\n")},
        {"step": "commit_message", "text": "feat: add decode"},
    ])
    assert [e for e in events(s["trajectory"]) if e["kind"] == "round_trips"]  # the values were checked
    assert not any(m.exists() for m in marks)


def test_a_dispute_drops_the_assert_from_the_file_not_the_tests_added_since_the_freeze() -> None:
    """A review's find: the run's test file took its frozen copy back after a dispute, so a test the model added
    to the file after the freeze (allowed: new tests may be added) was lost without a word."""
    frozen_text = "def test_a():\n    assert f(1) == 2\n    assert f(2) == 3\n"
    now = frozen_text + "\n\ndef test_b():\n    assert f(3) == 4\n"
    ledger = Ledger()
    ledger.entries["tests/test_f.py"] = Entry("tests/test_f.py", True, None, now)
    guard = frozen.TestGuard(ledger, frozen={"tests/test_f.py": frozen_text})
    red_checked = {"tests/test_f.py": frozen_text}  # test_b has not had its red run
    notes = guard.dispute("DISPUTE: assert f(1) == 2", [])
    guard.follow(red_checked)
    assert notes[0].startswith("dispute accepted")
    assert ledger.entries["tests/test_f.py"].current == now.replace("assert f(1) == 2", "pass  # disputed by the model")
    assert red_checked["tests/test_f.py"] == frozen_text.replace("assert f(1) == 2", "pass  # disputed by the model")


def test_a_dispute_drops_only_its_assert_from_a_line_it_shares() -> None:
    """A review's find: the dropped assert's whole lines became `pass`, so a task example after it on the same
    line (`assert f(1) == 2; assert f(3) == 9`) left the test file with it."""
    text = "def test_a():\n    assert f(1) == 2; assert f(3) == 9\n    x = 'é'; assert f(x) == 1  # why\n"
    ledger = Ledger()
    ledger.entries["tests/test_f.py"] = Entry("tests/test_f.py", True, None, text)
    guard = frozen.TestGuard(ledger, frozen={"tests/test_f.py": text})
    red_checked = {"tests/test_f.py": text}
    guard.dispute("DISPUTE: assert f(1) == 2\nDISPUTE: assert f(x) == 1", [])
    guard.follow(red_checked)
    assert ledger.entries["tests/test_f.py"].current == (
        "def test_a():\n    pass; assert f(3) == 9\n    x = 'é'; pass  # why\n")
