"""`show RUN --html`, `runs --html` and `runs --stats` over real runs made through the real CLI with the scripted
model; the page escapes everything the model and the tests wrote (red team), and old or foreign lines of a record
never break it. A headless Chromium, where one is installed, renders the page."""

from __future__ import annotations

import json
import os
import shutil
import statistics
import struct
import subprocess
import zlib
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import BAD_IMPL, TASK, cli, init_repo, summary, whole, write_script

PAYLOAD = "</details><img src=x onerror=alert(1)><script>alert(2)</script>"
HOSTILE_NAME = "textkit/<img src=x onerror=alert(3)>.py"
CONTROLS = "\x1b]0;pwned\x07\x1b[2J\rALL TESTS PASSED \u202egnp.exe"  # a terminal title, a clear, a fake line, RLO
HOSTILE_TEST = ('from textkit.slug import slugify\n\n\ndef test_basic():\n    assert slugify("Hello World") == "hello-world"\n'
                f'\n\ndef test_punct():\n    print({PAYLOAD!r})\n    print({CONTROLS!r})\n'
                '    assert slugify("  A, b!  ") == "a-b"\n')
# the tags and attributes the templates write; anything else on the page came from the record
OUR_TAGS = {"html", "head", "meta", "title", "style", "body", "h1", "h2", "h3", "p", "span", "code", "dl", "dt",
            "dd", "details", "summary", "pre", "ol", "ul", "li", "section", "table", "tr", "th", "td", "figure",
            "figcaption", "svg", "text", "rect", "strong", "a"}
OUR_ATTRS = {"lang", "charset", "http-equiv", "content", "name", "class", "open", "xmlns", "width", "height", "role",
             "x", "y", "font-size", "fill", "href", "colspan"}


class Page(HTMLParser):
    """A page as a browser's tokenizer sees it: its tags with their attributes, the end tags, and the text."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.ends: list[str] = []
        self.text: list[str] = []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        self.ends.append(tag)

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def count(self, tag: str) -> int:
        return sum(t == tag for t, _ in self.tags)

    @property
    def words(self) -> str:
        return " ".join(self.text)


def _runs(repo: Path) -> Path:
    return repo / ".git" / "greenloop" / "runs"


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """One real run in two attempts whose reply, test output, file name and commit message carry live HTML."""
    base = tmp_path_factory.mktemp("story")
    root = base / "project"
    (root / "textkit").mkdir(parents=True)
    (root / "textkit" / "__init__.py").write_text("")
    repo = init_repo(root)
    script = write_script(base / "s.json", [
        {"text": f"Here you go {PAYLOAD}\n" + whole(test=HOSTILE_TEST, impl=BAD_IMPL, **{HOSTILE_NAME: "X = 1\n"})},
        {"step": "fix", "text": whole(test=None)},
        {"text": f"feat: slugify {PAYLOAD}"}])
    s = summary(cli("run", TASK, "--repo", str(repo), "--model", f"scripted:{script}", "--json"))
    assert s["status"] == "success" and s["attempts"] == 2, s
    assert HOSTILE_NAME in s["files"]  # the record carries the hostile name (the report must not trust it)
    return {"repo": repo, "summary": s}


def test_show_html_writes_one_self_contained_page_beside_the_trajectory(story: dict, tmp_path: Path) -> None:
    repo, s = story["repo"], story["summary"]
    proc = cli("show", s["run_id"][-6:], "--html", "--repo", str(repo))
    assert proc.returncode == 0, proc.stderr
    path = Path(proc.stdout.strip())
    assert path == Path(s["trajectory"]).parent / "report.html" and path.is_file()
    text = path.read_text()
    page = Page(text)
    words = " ".join(page.words.split())
    assert TASK in words and "Attempt 1 (generate): tests_failed" in words and "Attempt 2 (fix): passed" in words
    assert "assert '--a,-b!--' == 'a-b'" in page.words  # the failing test output, in full
    assert "+    return text.lower().replace(\" \", \"-\")" in page.words  # the first diff
    assert s["commit"] in page.words and "-def slugify(text):" in page.words  # the commit and the fix's diff
    mutation = s["quality"]["mutation"]
    assert f"({mutation['killed']} of {mutation['total']} mutants killed" in words
    assert f"Evidence of the green: {s['evidence']}" in words and s["evidence"] in ("strong", "weak", "unmeasured")
    assert "textkit/slug.py" in words and "maintainability" in words
    assert page.count("details") == page.ends.count("details") >= 8  # request, reply, outputs: collapsed
    assert page.count("svg") == 2 and page.count("rect") >= 5  # seconds and tokens by step
    chart = text[text.index("<svg"):text.index("</svg>")]
    assert all(f">{step}</text>" in chart for step in ("generate", "fix", "test", "grade", "commit_message"))
    # self-contained: no script, no stylesheet link, no image or frame, nothing loaded from anywhere
    assert not {t for t, _ in page.tags} - OUR_TAGS
    assert all(not attrs.get("src") for _, attrs in page.tags) and "url(" not in text and "@import" not in text
    csp = next(a["content"] for t, a in page.tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy")
    assert csp is not None and "default-src 'none'" in csp
    elsewhere = tmp_path / "out" / "run.html"
    again = cli("show", s["run_id"], "--html", str(elsewhere), "--repo", str(repo))
    assert again.returncode == 0 and again.stdout.strip() == str(elsewhere) and elsewhere.read_text() == text
    plain = cli("show", s["run_id"], str(elsewhere), "--repo", str(repo))
    assert plain.returncode == 2 and "only with --html" in plain.stderr
    folder = cli("show", s["run_id"], "--html", str(elsewhere.parent), "--repo", str(repo))
    assert folder.returncode == 2 and "is a directory" in folder.stderr and "Traceback" not in folder.stderr
    assert sorted(p.name for p in elsewhere.parent.parent.iterdir()) == ["out"]  # nothing half-written left


def test_redteam_model_reply_test_output_and_file_names_stay_text(story: dict) -> None:
    repo, s = story["repo"], story["summary"]
    page_path = Path(cli("show", s["run_id"], "--html", "--repo", str(repo)).stdout.strip())
    text = page_path.read_text()
    page = Page(text)
    assert not [t for t, _ in page.tags if t in ("script", "img", "iframe", "object", "embed", "base", "link")]
    assert not [(t, a) for t, attrs in page.tags for a in attrs if a.lower().startswith("on")]
    assert not [(t, a) for t, attrs in page.tags for a in attrs if a not in OUR_ATTRS]
    assert all(not (a.get("href") or "./").startswith(("javascript:", "data:")) for _, a in page.tags)
    # the payloads are there, as text: in the reply, in the test output (printed by the failing test), in the
    # diffs, in the file names of the grade, and in the commit message
    shown = page.words
    assert shown.count(PAYLOAD) >= 4 and shown.count("<img src=x onerror=alert(3)>.py") >= 3
    assert "feat: slugify " + PAYLOAD in shown
    output = next(e["output"] for e in map(json.loads, Path(s["trajectory"]).read_text().splitlines())
                  if e["kind"] == "test_run" and e["exit_code"] == 1)
    assert PAYLOAD in output and PAYLOAD not in text  # the test printed it; the page holds it escaped only
    assert page.count("details") == page.ends.count("details")  # no </details> of theirs closed one of ours
    assert "ALL TESTS PASSED <U+202E>gnp.exe" in shown  # shown, not obeyed: no control character reaches the page
    assert not [c for c in text if (ord(c) < 32 and c not in "\n\t") or 0x7f <= ord(c) <= 0x9f or c == "\u202e"]


def test_old_and_foreign_lines_never_break_the_pages(story: dict, tmp_path: Path) -> None:
    repo = init_repo(_project(tmp_path))
    real = Path(story["summary"]["trajectory"])
    runs = _runs(repo)
    copied = runs / real.parent.name / "trajectory.jsonl"
    copied.parent.mkdir(parents=True)
    shutil.copy(real, copied)
    foreign = [
        "not json at all", '["a", "list"]', '{"ts": 1}',
        json.dumps({"ts": "soon", "run_id": 7, "step": None, "kind": "from_the_future", "x": PAYLOAD}),
        json.dumps({"ts": float("nan"), "run_id": "r", "step": "test", "kind": "test_run", "output": PAYLOAD}),
        json.dumps({"ts": 1e300, "run_id": "r", "step": PAYLOAD, "kind": "model_reply", "text": "no tokens"}),
        json.dumps({"ts": 2.0, "run_id": "r", "step": "grade", "kind": "grade",
                    "quality": {"files": "not a table", "mutation": {"score": "high"}}}),
        json.dumps({"ts": 3.0, "run_id": "r", "step": "end", "kind": "run_end", "seconds": 1.0,
                    "summary": {"status": "success", "attempts": "many", "usage": [1]}}),
    ]
    with open(copied, "a") as fh:
        fh.write("\n".join(foreign) + "\n")
    old = runs / "20250101-000000-old"  # a record from before the typed record: no usage, no grade
    old.mkdir()
    (old / "trajectory.jsonl").write_text("".join(json.dumps(e) + "\n" for e in [
        {"ts": 1.0, "run_id": "old", "step": "start", "kind": "run_start", "greenloop_version": "0.0.1",
         "prompt_version": "1", "config": {}, "task": "an old task", "model": "scripted:x", "sandbox": "bwrap"},
        {"ts": 3.0, "run_id": "old", "step": "end", "kind": "run_end", "seconds": 2.0,
         "summary": {"status": "failed", "attempts": 1}}]))
    proc = cli("show", real.parent.name, "--html", "--repo", str(repo))
    assert proc.returncode == 0, proc.stderr
    page = Page(Path(proc.stdout.strip()).read_text())
    assert not {t for t, _ in page.tags} - OUR_TAGS
    assert "Lines of the record not shown" in page.words and "line " in page.words and "not JSON" in page.words
    assert "event 'from_the_future' (not known to this greenloop)" in page.words
    assert "the grade: files: Input should be a valid dictionary" in page.words  # the last grade did not fit
    index = cli("runs", "--html", "--repo", str(repo))
    assert index.returncode == 0, index.stderr
    listed = Page(Path(index.stdout.strip()).read_text())
    assert "an old task" in listed.words and len([a for t, a in listed.tags if t == "a"]) == 2
    figures = json.loads(cli("runs", "--stats", "--json", "--repo", str(repo)).stdout)
    assert figures["runs"] == 2 and figures["solved"] == 1
    assert cli("runs", "--repo", str(repo)).returncode == 0 and cli("show", "old", "--repo", str(repo)).returncode == 0


def _project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / "textkit").mkdir(parents=True)
    (root / "textkit" / "__init__.py").write_text("")
    return root


def test_runs_stats_and_html_index_over_real_runs(repo: Path, tmp_path: Path) -> None:
    green = write_script(tmp_path / "green.json", [whole()])
    red = write_script(tmp_path / "red.json", [{"text": whole(impl=BAD_IMPL)}])
    made = [summary(cli("run", TASK, "--repo", str(repo), "--model", f"scripted:{green}", "--json")),
            summary(cli("run", TASK, "--repo", str(repo), "--model", f"scripted:{red}", "--json",
                        "--max-iterations", "1"))]
    assert [s["status"] for s in made] == ["success", "failed"]
    proc = cli("runs", "--stats", "--json", "--repo", str(repo))
    figures = json.loads(proc.stdout)
    tokens = [s["usage"]["input_tokens"] + s["usage"]["output_tokens"] for s in made]
    assert (figures["runs"], figures["finished"], figures["solved"], figures["solve_rate"]) == (2, 2, 1, 0.5)
    assert figures["median_attempts"] == 1 and figures["median_tokens"] == statistics.median(tokens)
    assert figures["median_seconds"] > 0
    assert figures["mutation_runs"] == 1 and figures["mean_mutation_score"] == made[0]["quality"]["mutation"]["score"]
    assert figures["graded_runs"] == 1 and figures["mean_max_complexity"] == 1.0
    claimed = made[0]["evidence"]  # the green run's, counted by level; the failed run claims none
    assert figures["evidence"] == {level: int(level == claimed) for level in ("strong", "weak", "unmeasured", "unknown")}
    table = cli("runs", "--stats", "--repo", str(repo)).stdout.splitlines()
    assert table[0] == "figure\tvalue" and "solved\t1 (50.0%)" in table and "median attempts\t1" in table
    listed = json.loads(cli("runs", "--json", "--repo", str(repo)).stdout)
    assert [r["run_id"] for r in listed] == [s["run_id"] for s in made] and listed[0]["tokens"] == tokens[0]
    assert [r["evidence"] for r in listed] == [claimed, None] and f"evidence (green runs)\t{claimed} 1" in table

    for where in (None, tmp_path / "elsewhere" / "runs.html"):
        proc = cli("runs", "--html", *([str(where)] if where else []), "--repo", str(repo))
        assert proc.returncode == 0, proc.stderr
        index = Path(proc.stdout.strip())
        assert index == (where or _runs(repo) / "index.html")
        page = Page(index.read_text())
        links = [a["href"] for t, a in page.tags if t == "a"]
        assert len(links) == 2 and all(link.startswith("./") for link in links)
        for link, s in zip(links, made, strict=True):
            report = (index.parent / link).resolve()
            assert report == Path(s["trajectory"]).parent / "report.html" and report.is_file()
            assert s["run_id"] in Page(report.read_text()).words
        words = " ".join(page.words.split())
        assert "success" in words and "failed" in words and TASK in words and "solved 1 (50.0%)" in words
        assert f"{made[0]['quality']['mutation']['score'] * 100:.0f}%" in words and str(tokens[1]) in words
    assert cli("runs", "--html", "--stats", "--repo", str(repo)).returncode == 2


def _browser() -> str | None:
    return next((p for name in ("chromium", "chromium-browser", "google-chrome") if (p := shutil.which(name))), None)


def _png_pixels(data: bytes) -> tuple[int, int, bytes]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    idat, at = b"", 8
    while at < len(data):
        length, kind = struct.unpack(">I4s", data[at:at + 8])
        if kind == b"IDAT":
            idat += data[at + 8:at + 8 + length]
        at += 12 + length
    return width, height, zlib.decompress(idat)


@pytest.mark.skipif(_browser() is None, reason="no headless Chromium/Chrome on PATH (chromium, chromium-browser, "
                                               "google-chrome); `apt-get install chromium` to run this check")
def test_a_headless_browser_renders_the_page(story: dict, tmp_path: Path) -> None:
    repo, s = story["repo"], story["summary"]
    page = Path(cli("show", s["run_id"], "--html", "--repo", str(repo)).stdout.strip())
    shot = tmp_path / "page.png"
    argv = [_browser() or "", "--headless", "--disable-gpu", f"--user-data-dir={tmp_path / 'profile'}",
            f"--screenshot={shot}", "--window-size=1000,1400", page.as_uri()]
    if os.geteuid() == 0:
        argv.insert(2, "--no-sandbox")  # Chromium refuses to run as root with its own sandbox
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=120, env={**os.environ, "HOME": str(tmp_path)})
    assert shot.is_file(), proc.stderr[-2000:]
    width, height, pixels = _png_pixels(shot.read_bytes())
    assert (width, height) == (1000, 1400) and shot.stat().st_size > 20_000
    assert len(set(pixels)) > 50  # text, colours and bars, not a blank page
