"""Reply parsing and edit matching: pure functions, table-driven, plus a fuzz test."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from greenloop.edits import apply_all, apply_edit, replace_once
from greenloop.errors import EditError, FormatError
from greenloop.replies import parse_commit_message, parse_reply
from greenloop.types import FileEdit

J = json.dumps
WHOLE = {"testFile": {"path": "tests/test_a.py", "content": "def test_a():\n    assert True\n"},
         "sourceFiles": [{"path": "a.py", "content": "X = 1\n"}]}
SR = "a.py\n<<<<<<< SEARCH\nX = 1\n=======\nX = 2\n>>>>>>> REPLACE\n"
DIFF = "--- a/a.py\n+++ b/a.py\n@@ -1,1 +1,1 @@\n-X = 1\n+X = 2\n"

# (id, reply text, expected format, expected [(path, kind, is_test)])
PARSE_OK = [
    ("json_bare", J(WHOLE), "json", [("tests/test_a.py", "whole", True), ("a.py", "whole", False)]),
    ("json_fenced", "```json\n" + J(WHOLE) + "\n```", "json", [("tests/test_a.py", "whole", True), ("a.py", "whole", False)]),
    ("json_prose_around", "Sure, here you go:\n" + J(WHOLE) + "\nHope it helps {not json}", "json",
     [("tests/test_a.py", "whole", True), ("a.py", "whole", False)]),
    ("json_fence_inside_string", J({"sourceFiles": [{"path": "md.py", "content": 'DOC = """```py\nx\n```"""\n'}]}),
     "json", [("md.py", "whole", False)]),
    ("json_test_files_list", J({"testFiles": [{"path": "tests/test_x.py", "content": "x"}, {"path": "tests/test_y.py", "content": "y"}]}),
     "json", [("tests/test_x.py", "whole", True), ("tests/test_y.py", "whole", True)]),
    ("json_fix_without_tests", J({"sourceFiles": [{"path": "a.py", "content": "X = 3\n"}]}), "json", [("a.py", "whole", False)]),
    ("json_raw_newlines_in_strings", '{"sourceFiles": [{"path": "a.py", "content": "X = 1\nY = 2\n"}]}', "json", [("a.py", "whole", False)]),
    ("json_crlf", J(WHOLE).replace("\\n", "\\r\\n"), "json", [("tests/test_a.py", "whole", True), ("a.py", "whole", False)]),
    ("json_unicode", J({"sourceFiles": [{"path": "ü.py", "content": "S = 'ß→✓'\n"}]}, ensure_ascii=False), "json", [("ü.py", "whole", False)]),
    ("json_empty_file", J({"sourceFiles": [{"path": "pkg/__init__.py", "content": ""}]}), "json", [("pkg/__init__.py", "whole", False)]),
    ("json_source_as_object", J({"sourceFiles": {"path": "a.py", "content": "X = 1\n"}}), "json", [("a.py", "whole", False)]),
    ("json_files_key", J({"files": [{"path": "a.py", "content": "X\n"}]}), "json", [("a.py", "whole", False)]),
    ("json_two_objects_first_wins", '{"note": 1}\n' + J(WHOLE), "json", [("tests/test_a.py", "whole", True), ("a.py", "whole", False)]),
    ("json_tilde_fence", "~~~\n" + J(WHOLE) + "\n~~~", "json", [("tests/test_a.py", "whole", True), ("a.py", "whole", False)]),
    ("sr_plain", SR, "search_replace", [("a.py", "search_replace", False)]),
    ("sr_fenced_name_before_fence", "a.py\n```python\n<<<<<<< SEARCH\nX = 1\n=======\nX = 2\n>>>>>>> REPLACE\n```\n", "search_replace", [("a.py", "search_replace", False)]),
    ("sr_name_in_backticks", "`pkg/a.py`\n<<<<<<< SEARCH\nX = 1\n=======\nX = 2\n>>>>>>> REPLACE\n", "search_replace", [("pkg/a.py", "search_replace", False)]),
    ("sr_bold_name_with_colon", "**a.py**:\n" + SR.split("\n", 1)[1], "search_replace", [("a.py", "search_replace", False)]),
    ("sr_two_blocks_same_file", SR + "\n<<<<<<< SEARCH\nY = 1\n=======\nY = 2\n>>>>>>> REPLACE\n", "search_replace",
     [("a.py", "search_replace", False), ("a.py", "search_replace", False)]),
    ("sr_two_files", SR + "tests/test_a.py\n<<<<<<< SEARCH\n=======\ndef test(): pass\n>>>>>>> REPLACE\n", "search_replace",
     [("a.py", "search_replace", False), ("tests/test_a.py", "search_replace", True)]),
    ("sr_empty_search_creates", "new.py\n<<<<<<< SEARCH\n=======\nX = 1\n>>>>>>> REPLACE\n", "search_replace", [("new.py", "search_replace", False)]),
    ("sr_crlf", SR.replace("\n", "\r\n"), "search_replace", [("a.py", "search_replace", False)]),
    ("sr_prose_around", "I will change it.\n\n" + SR + "\nThat's all.", "search_replace", [("a.py", "search_replace", False)]),
    ("sr_long_markers", "a.py\n<<<<<<<< SEARCH\nX = 1\n========\nX = 2\n>>>>>>>> REPLACE\n", "search_replace", [("a.py", "search_replace", False)]),
    ("diff_plain", DIFF, "diff", [("a.py", "diff", False)]),
    ("diff_fenced", "```diff\n" + DIFF + "```\n", "diff", [("a.py", "diff", False)]),
    ("diff_new_file", "--- /dev/null\n+++ b/new.py\n@@ -0,0 +1,2 @@\n+A = 1\n+B = 2\n", "diff", [("new.py", "whole", False)]),
    ("diff_two_files", DIFF + "--- a/tests/test_a.py\n+++ b/tests/test_a.py\n@@ -1 +1 @@\n-x\n+y\n", "diff",
     [("a.py", "diff", False), ("tests/test_a.py", "diff", True)]),
    ("diff_wrong_line_numbers", "--- a/a.py\n+++ b/a.py\n@@ -90,1 +90,1 @@\n-X = 1\n+X = 2\n", "diff", [("a.py", "diff", False)]),
    ("fenced_files", "tests/test_a.py\n```python\ndef test_a():\n    assert True\n```\n\na.py\n```python\nX = 1\n```\n",
     "fenced_files", [("tests/test_a.py", "whole", True), ("a.py", "whole", False)]),
    ("fenced_path_in_info", "```python pkg/a.py\nX = 1\n```", "fenced_files", [("pkg/a.py", "whole", False)]),
    ("fenced_bold_file_label", "**File: a.py**\n\n```\nX = 1\n```", "fenced_files", [("a.py", "whole", False)]),
    ("fenced_repeated_last_wins_and_cut_copy_ignored", "a.py\n```\nX = 1\n```\na.py\n```\nX = 2\n```\na.py\n```\nX = 3",
     "fenced_files", [("a.py", "whole", False)]),
    ("diff_no_prefix", "--- a.py\n+++ a.py\n@@\n-X = 1\n+X = 2\n", "diff", [("a.py", "diff", False)]),
    ("fenced_path_as_first_line_comment", "```js\n// test/slug.test.js\nconst a = 1;\n```\n\n```js\n/* lib/slug.js */\n"
     "module.exports = {};\n```\n", "fenced_files", [("test/slug.test.js", "whole", True), ("lib/slug.js", "whole", False)]),
]

NEW_WHOLE = "tests/test_b.py\n```python\nfrom a import X\n\n\ndef test_b():\n    assert X == 2\n```\n"
FENCED_SR = "a.py\n```python\n<<<<<<< SEARCH\nX = 1\n=======\nX = 2\n>>>>>>> REPLACE\n```\n"
SR_WITH_FENCE_IN_REPLACE = 'a.py\n```python\n<<<<<<< SEARCH\nX = 1\n=======\nDOC = """\n```\nx\n```\n"""\n>>>>>>> REPLACE\n```\n'

# (id, reply, expected [(path, kind)] in reply order): SEARCH/REPLACE blocks and whole new files in one reply
MIXED = [
    ("sr_then_new_file", SR + "\n" + NEW_WHOLE, [("a.py", "search_replace"), ("tests/test_b.py", "whole")]),
    ("new_file_then_sr", NEW_WHOLE + "\n" + SR, [("tests/test_b.py", "whole"), ("a.py", "search_replace")]),
    ("fenced_sr_then_new_file", FENCED_SR + "\nAnd the test:\n\n" + NEW_WHOLE,
     [("a.py", "search_replace"), ("tests/test_b.py", "whole")]),
    ("new_file_between_blocks", FENCED_SR + NEW_WHOLE + "c.py\n<<<<<<< SEARCH\nC = 1\n=======\nC = 2\n>>>>>>> REPLACE\n",
     [("a.py", "search_replace"), ("tests/test_b.py", "whole"), ("c.py", "search_replace")]),
    ("fence_inside_replace", SR_WITH_FENCE_IN_REPLACE + NEW_WHOLE, [("a.py", "search_replace"), ("tests/test_b.py", "whole")]),
    ("two_new_files", SR + NEW_WHOLE + "pkg/new.py\n```python\nY = 1\n```\n",
     [("a.py", "search_replace"), ("tests/test_b.py", "whole"), ("pkg/new.py", "whole")]),
]


@pytest.mark.parametrize("text, expected", [c[1:] for c in MIXED], ids=[c[0] for c in MIXED])
def test_mixed_replies_keep_every_file(text: str, expected: list) -> None:
    parsed = parse_reply(text)
    assert [(e.path, e.kind) for e in parsed.edits] == expected
    assert parsed.format == "mixed"
    files, errors = apply_all(parsed.edits, {"a.py": "X = 1\n", "c.py": "C = 1\n"}.get)
    assert errors == [] and files["a.py"].after.startswith(("X = 2\n", 'DOC = """\n```\nx\n```\n"""\n'))
    assert files["tests/test_b.py"].after == "from a import X\n\n\ndef test_b():\n    assert X == 2\n"


def test_numbered_search_lines_from_a_partial_view_still_apply() -> None:
    content = "def f():\n    return 1\n\n\ndef g():\n    return 2\n"
    search = "   5| def g():\n   6|     return 2\n"
    assert replace_once(content, search, "   5| def g():\n   6|     return 3\n", "m.py").endswith("return 3\n")
    assert replace_once(content, search, "def g():\n    return 4\n", "m.py").endswith("    return 4\n")


PARSE_ERR = [
    ("empty", "", "empty"),
    ("whitespace", "  \n\t ", "empty"),
    ("prose_only", "I think you should use a regex.", "No file edits found"),
    ("code_without_file", "```python\ndef f():\n    return 1\n```", "No file edits found"),
    ("truncated_json", '{"testFile": {"path": "tests/test_a.py", "content": "def test', "incomplete or invalid"),
    ("json_missing_content", J({"sourceFiles": [{"path": "a.py"}]}), "no \"content\""),
    ("json_missing_path", J({"sourceFiles": [{"content": "x"}]}), "no \"path\""),
    ("json_no_files", J({"testFiles": [], "sourceFiles": []}), "names no files"),
    ("json_bad_list", J({"sourceFiles": "a.py"}), "must be a list"),
    ("sr_unclosed", "a.py\n<<<<<<< SEARCH\nX = 1\n=======\nX = 2\n", "not closed"),
    ("sr_no_filename", "<<<<<<< SEARCH\nX = 1\n=======\nX = 2\n>>>>>>> REPLACE\n", "has no file name"),
    ("fenced_cut_off", "a.py\n```python\nX = 1\n", "not closed"),
    ("diff_delete", "--- a/a.py\n+++ /dev/null\n@@ -1 +0,0 @@\n-X = 1\n", "does not delete"),
]


@pytest.mark.parametrize("text, fmt, expected", [c[1:] for c in PARSE_OK], ids=[c[0] for c in PARSE_OK])
def test_parse_ok(text: str, fmt: str, expected: list) -> None:
    parsed = parse_reply(text)
    assert parsed.format == fmt
    assert [(e.path, e.kind, e.is_test) for e in parsed.edits] == expected


@pytest.mark.parametrize("text, fragment", [c[1:] for c in PARSE_ERR], ids=[c[0] for c in PARSE_ERR])
def test_parse_errors_are_precise(text: str, fragment: str) -> None:
    with pytest.raises(FormatError, match=fragment.replace("(", r"\(")):
        parse_reply(text)


def test_fenced_files_contents_are_exact() -> None:
    parsed = parse_reply("a.py\n```\nX = 1\n```\na.py\n```\nX = 2\n```\na.py\n```\nX = 3")
    assert parsed.edits[0].content == "X = 2\n"
    fenced_name = parse_reply("```\ntest/slug.test.js\n```\n```javascript\nconst a = 1;\n```\n")
    assert [(e.path, e.content) for e in fenced_name.edits] == [("test/slug.test.js", "const a = 1;\n")]
    named_inside = parse_reply("```python\n# pkg/a.py\nX = 1\n```\n```python\n# not a path\nY = 2\n```\n")
    assert [(e.path, e.content) for e in named_inside.edits] == [("pkg/a.py", "X = 1\n")]


def test_search_block_without_a_name_is_placed_by_its_text() -> None:
    reply = "```\n<<<<<<< SEARCH\nX = 1\n=======\nX = 2\n>>>>>>> REPLACE\n```"
    parsed = parse_reply(reply, {"a.py": "X = 1\n", "tests/test_a.py": "from a import X\n"})
    assert [(e.path, e.search) for e in parsed.edits] == [("a.py", "X = 1\n")]
    with pytest.raises(FormatError, match="has no file name"):
        parse_reply(reply, {"a.py": "X = 1\n", "b.py": "X = 1\n"})  # ambiguous: two owners


def test_a_single_unnamed_block_goes_to_the_target_file() -> None:
    parsed = parse_reply("Here it is:\n```python\ndef f():\n    return 1\n```\n", default_path="pkg/f.py")
    assert parsed.format == "single_block" and parsed.edits[0].path == "pkg/f.py"
    with pytest.raises(FormatError):
        parse_reply("```python\nA = 1\n```\n```python\nB = 2\n```", default_path="pkg/f.py")  # two blocks: which?
    with_usage = "Fixed:\n```python\ndef f():\n    return 2\n```\nUsage:\n```python\nprint(f())\n```\n"
    assert parse_reply(with_usage, default_path="pkg/f.py").edits[0].content == "def f():\n    return 2\n"
    with_tests = ("```python\ndef f():\n    return 2\n```\n```python\nfrom unittest import TestCase\n"
                  "from f import f\n\nclass TestF(TestCase):\n    def test_f(self):\n        assert f() == 2\n```\n")
    assert [(e.path, e.content) for e in parse_reply(with_tests, default_path="pkg/f.py").edits] == [
        ("pkg/f.py", "def f():\n    return 2\n")]  # an implementation asked for, its tests sent beside it unnamed
    tester = "```python\nclass Tester:\n    pass\n```\n```python\ndef main():\n    print(Tester())\n```\n"
    with pytest.raises(FormatError):  # no block defines a test: which one is the file is still unknown
        parse_reply(tester, default_path="pkg/t.py")
    with pytest.raises(FormatError, match="No file edits found"):  # a file's name alone is no code for the file
        parse_reply("```\nsolution.py\n```", default_path="solution.py")
    named_by_its_name = parse_reply("```js\n// slug.js\nmodule.exports = {};\n```\n", default_path="lib/slug.js")
    assert [(e.path, e.content) for e in named_by_its_name.edits] == [("lib/slug.js", "module.exports = {};\n")]


def test_a_language_name_on_the_line_after_a_bare_fence_is_not_code() -> None:
    # the 1.5B model's "```" then "python" on a line of its own (HumanEval/110): taken as code, the file's first
    # statement was the name `python`, and importing it raised NameError
    single = parse_reply("```\npython\ndef f():\n    return 1\n```\n", default_path="solution.py")
    assert single.edits[0].content == "def f():\n    return 1\n"
    named = parse_reply("tests/test_a.py\n```\npython\nfrom a import f\n```\na.py\n```\nJS = 1\n```\n")
    assert [(e.path, e.content) for e in named.edits] == [("tests/test_a.py", "from a import f\n"),
                                                          ("a.py", "JS = 1\n")]
    kept = parse_reply("a.py\n```python\npy\n```\n")  # a language given: the first line is the file's
    assert kept.edits[0].content == "py\n"


def test_json_contents_are_exact() -> None:
    parsed = parse_reply("```json\n" + J(WHOLE) + "\n```")
    assert parsed.edits[1].content == "X = 1\n" and parsed.test_paths == ["tests/test_a.py"]
    crlf = parse_reply(J(WHOLE).replace("\\n", "\\r\\n"))
    assert "\r" not in crlf.edits[0].content


SOURCE = "def f(x):\n    if x:\n        return 1\n    return 2\n\n\ndef g():\n\treturn 'tab'\n"

# (id, search, replace, expected content)
MATCH_OK = [
    ("exact", "        return 1\n", "        return 10\n", SOURCE.replace("return 1\n", "return 10\n")),
    ("trailing_whitespace", "    if x:   \n        return 1\n", "    if x:\n        return 11\n", SOURCE.replace("return 1\n", "return 11\n")),
    ("indent_offset_less", "if x:\n    return 1\n", "if x:\n    return 12\n", SOURCE.replace("return 1\n", "return 12\n")),
    ("indent_offset_more", "            if x:\n                return 1\n", "            if x:\n                return 13\n", SOURCE.replace("return 1\n", "return 13\n")),
    ("tabs", "\treturn 'tab'\n", "\treturn 'tabs'\n", SOURCE.replace("'tab'", "'tabs'")),
    ("fuzzy_typo", "def g():\n\treturn 'tbs'\n", "def g():\n\treturn 'fixed'\n", SOURCE.replace("\treturn 'tab'", "\treturn 'fixed'")),
    ("delete_lines", "    if x:\n        return 1\n", "", SOURCE.replace("    if x:\n        return 1\n", "")),
    ("unicode", "def g():\n", "def g():  # ✓\n", SOURCE.replace("def g():\n", "def g():  # ✓\n")),
]


@pytest.mark.parametrize("search, replace, expected", [c[1:] for c in MATCH_OK], ids=[c[0] for c in MATCH_OK])
def test_matching_cascade(search: str, replace: str, expected: str) -> None:
    assert replace_once(SOURCE, search, replace, "a.py") == expected


def test_no_match_names_the_closest_lines() -> None:
    with pytest.raises(EditError) as exc:
        replace_once(SOURCE, "def h(y):\n    return 99\n", "x", "a.py")
    assert "did not match. Did you mean these lines?" in str(exc.value) and "def g():" in str(exc.value)


def test_ambiguous_match_is_refused() -> None:
    with pytest.raises(EditError, match="more than once"):
        replace_once("x = 1\nx = 1\n", "x = 1\n", "x = 2\n", "a.py")


def test_diff_hunk_that_matches_twice_is_refused() -> None:
    edit = parse_reply("--- a/a.py\n+++ b/a.py\n@@ -1 +1 @@\n-x = 1\n+x = 2\n").edits[0]
    with pytest.raises(EditError, match="more than once"):
        apply_edit(edit, "x = 1\ny\nx = 1\n")


def test_diff_with_wrong_line_numbers_applies_by_content() -> None:
    edit = parse_reply("--- a/a.py\n+++ b/a.py\n@@ -40,3 +40,3 @@\n def f(x):\n-    if x:\n+    if x is not None:\n         return 1\n").edits[0]
    assert "if x is not None:" in apply_edit(edit, SOURCE)


def test_two_blocks_for_one_file_apply_in_order_and_report_progress() -> None:
    reply = ("a.py\n<<<<<<< SEARCH\nA = 1\n=======\nA = 2\n>>>>>>> REPLACE\n"
             "a.py\n<<<<<<< SEARCH\nB = 1\n=======\nB = 2\n>>>>>>> REPLACE\n"
             "a.py\n<<<<<<< SEARCH\nNOPE\n=======\nC\n>>>>>>> REPLACE\n")
    files, errors = apply_all(parse_reply(reply).edits, lambda p: "A = 1\nB = 1\n")
    assert files["a.py"].after == "A = 2\nB = 2\n"
    assert len(errors) == 1 and "2 earlier edit(s) to a.py applied" in errors[0]


def test_crlf_files_keep_their_line_endings() -> None:
    files, errors = apply_all(parse_reply(SR).edits, lambda p: "X = 1\r\nY = 1\r\n")
    assert not errors and files["a.py"].after == "X = 2\r\nY = 1\r\n"


def test_empty_search_on_existing_file_is_refused_and_creates_new_files() -> None:
    edit = FileEdit(path="a.py", kind="search_replace", search="", replace="X\n")
    assert apply_edit(edit, None) == "X\n"
    with pytest.raises(EditError, match="exists"):
        apply_edit(edit, "already\n")


def test_applied_edits_produce_unified_diffs() -> None:
    files, _ = apply_all(parse_reply(DIFF).edits, lambda p: "X = 1\n")
    assert files["a.py"].diff().splitlines()[-2:] == ["-X = 1", "+X = 2"]


@pytest.mark.parametrize("text, expected", [
    ("feat(slug): add slugify\n\nBody.", "feat(slug): add slugify\n\nBody."),
    ("```\nfix: handle empty input\n```", "fix: handle empty input"),
    ("Here is a message: add stuff", None),
    ("feat: " + "x" * 80, None),
    # the request's own sections echoed back (seen with Qwen2.5-Coder-1.5B): greenloop adds files and tests itself
    ("feat(textkit/slug.py): add slugify helper\n- lowercase\n\ntests: 1 passed.\ndiff:\n--- /dev/null\n+++ b/x.py\n",
     "feat(textkit/slug.py): add slugify helper\n\n- lowercase"),
    ("feat: add slugify\n\nLowercase the text.\n\nTests: 1 passed.\nDiff:\n", "feat: add slugify\n\nLowercase the text."),
    ("fix: x\n\nBody.\ndiff --git a/x.py b/x.py\n@@ -1 +1 @@\n", "fix: x\n\nBody."),
    ("fix: keep the tests: all of them", "fix: keep the tests: all of them"),
])
def test_commit_message_parsing(text: str, expected: str | None) -> None:
    assert parse_commit_message(text) == expected


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(list('{}[]":,\n `<=>-+@ab/.py\\#~') + ["<<<<<<< SEARCH", "=======",
       ">>>>>>> REPLACE", "--- a/x.py", "+++ b/x.py", "--- /dev/null", "@@ -1 +1 @@", '"testFile"', '"testFiles"',
       '"sourceFiles"', '"path"', '"content"', "\n", "x.py\n"]), max_size=60).map("".join))
def test_fuzz_parser_raises_only_its_own_error(text: str) -> None:
    try:
        parsed = parse_reply(text)
    except FormatError:
        return
    assert parsed.edits and all(isinstance(e.path, str) and e.path for e in parsed.edits)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_fuzz_parser_on_arbitrary_text(text: str) -> None:
    try:
        parse_reply(text)
    except FormatError:
        pass
