"""The project's conventions, detected from its config and a sample of its files (never guessed): indentation,
quotes, line length, type hints, docstring style, test framework; for JavaScript and TypeScript indentation,
quotes, semicolons and line length (Prettier's settings win over the sample). One line for the generate prompt."""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass

_INDENT = re.compile(r"^( +|\t+)\S", re.M)
_STRING = re.compile(r"""(?<![\w'"])(['"])(?!\1\1)[^'"\\\n]{0,60}\1""")
# [ \t], never \s, after a line start: `^\s*` rescans every blank line after each one (quadratic; the texts are
# the repository's, test_redteam_context.py)
_DEF = re.compile(r"^[ \t]*(?:async[ \t]+)?def[ \t]+\w+\((.*?)\)[ \t]*(->)?", re.M)
_LINE_LENGTH = re.compile(r"^[ \t]*(?:line-length|line_length|max-line-length)[ \t]*=[ \t]*(\d+)", re.M)
_JS_COMMENT = re.compile(r"^\s*(//|/\*|\*)")
_JS_STATEMENT_END = re.compile(r"[\w)\]'\"`]$")  # a line that could end a statement without a semicolon
PRETTIER_FILES = (".prettierrc", ".prettierrc.json", "package.json")


@dataclass(frozen=True)
class StyleFacts:
    indent: str  # "4 spaces", "2 spaces", "tabs"
    quotes: str  # "double", "single"
    line_length: int | None
    type_hints: bool
    docstrings: str  # "google", "numpy", "sphinx", "plain", "none"
    test_framework: str  # "pytest", "unittest"; "" for JS (the runner names it)
    semicolons: bool | None = None  # JS/TS only: statements end with ';'
    src_layout: bool = False  # Python packages under src/ (importable as `pkg`, not `src.pkg`)

    def describe(self) -> str:
        parts = [f"indent with {self.indent}", f"{self.quotes} quotes"]
        if self.semicolons is not None:
            parts.append("semicolons at the end of statements" if self.semicolons else "no semicolons")
            return ", ".join(parts + [f"lines up to {self.line_length} characters"] * bool(self.line_length))
        if self.line_length:
            parts.append(f"lines up to {self.line_length} characters")
        parts.append("type hints on functions" if self.type_hints else "no type hints")
        if self.docstrings != "none":
            parts.append(f"{self.docstrings} docstrings")
        parts.append(f"tests with {self.test_framework}")
        if self.src_layout:
            parts.append("a src/ layout (packages live in src/ and are imported without the src. prefix)")
        return ", ".join(parts)


def _indent(texts: list[str]) -> str:
    """Each file votes with its smallest indentation step."""
    votes = {"tabs": 0, "2 spaces": 0, "4 spaces": 0}
    for text in texts:
        leads = [m.group(1) for m in _INDENT.finditer(text)]
        if not leads:
            continue
        if sum(lead[0] == "\t" for lead in leads) * 2 > len(leads):
            votes["tabs"] += 1
        else:
            votes["2 spaces" if min(len(lead) for lead in leads if lead[0] == " ") == 2 else "4 spaces"] += 1
    return max(votes, key=lambda k: (votes[k], k == "4 spaces"))


def _docstrings(texts: list[str]) -> str:
    joined = "\n".join(texts)
    if '"""' not in joined and "'''" not in joined:
        return "none"
    if re.search(r"^[ \t]*(Args|Returns|Raises):[ \t]*$", joined, re.M):
        return "google"
    if re.search(r"^[ \t]*(Parameters|Returns)\n[ \t]*-{3,}", joined, re.M):
        return "numpy"
    if re.search(r":param \w+:|:returns?:", joined):
        return "sphinx"
    return "plain"


def detect(sources: dict[str, str], config_texts: dict[str, str]) -> StyleFacts:
    """`sources`: a sample of the project's Python files (path -> text); `config_texts`: pyproject.toml,
    setup.cfg, .flake8, ruff.toml when present (name -> text)."""
    texts = list(sources.values())
    quotes = [m.group(1) for t in texts for m in _STRING.finditer(t)]
    single = quotes.count("'")
    defs = [m for t in texts for m in _DEF.finditer(t)]
    hinted = sum(1 for m in defs if m.group(2) or ":" in m.group(1))
    line_length = None
    for name in ("pyproject.toml", "ruff.toml", ".ruff.toml", "setup.cfg", ".flake8", "tox.ini"):
        text = config_texts.get(name)
        if text is None:
            continue
        if name.endswith(".toml"):
            try:
                tomllib.loads(text)
            except tomllib.TOMLDecodeError:
                continue
        found = _LINE_LENGTH.search(text)
        if found:
            line_length = int(found.group(1))
            break
    unittest = sum("import unittest" in t or "unittest.TestCase" in t for t in texts)
    pytest = sum("import pytest" in t or bool(re.search(r"^def test_", t, re.M)) for t in texts)
    pytest += any("pytest" in t for t in config_texts.values())
    return StyleFacts(indent=_indent(texts), quotes="single" if single > len(quotes) - single else "double",
                      line_length=line_length, type_hints=bool(defs) and hinted * 2 >= len(defs),
                      docstrings=_docstrings(texts), test_framework="unittest" if unittest > pytest else "pytest")


def _prettier(config_texts: dict[str, str]) -> dict[str, object]:
    """Prettier's options from .prettierrc(.json) or package.json's "prettier" key; {} when absent or not JSON."""
    for name in PRETTIER_FILES:
        try:
            data = json.loads(config_texts.get(name) or "null")
        except json.JSONDecodeError:
            continue
        data = data.get("prettier") if name == "package.json" and isinstance(data, dict) else data
        if isinstance(data, dict):
            return data
    return {}


def detect_js(sources: dict[str, str], config_texts: dict[str, str]) -> StyleFacts:
    """`sources`: a sample of the project's JS/TS files; `config_texts`: .prettierrc, .prettierrc.json,
    package.json when present. Prettier's useTabs, tabWidth, singleQuote, semi and printWidth win."""
    texts = list(sources.values())
    quotes = [m.group(1) for t in texts for m in _STRING.finditer(t)]
    single = quotes.count("'")
    code = [ln.rstrip() for t in texts for ln in t.splitlines() if ln.strip() and not _JS_COMMENT.match(ln)]
    with_semi = sum(ln.endswith(";") for ln in code)
    without = sum(bool(_JS_STATEMENT_END.search(ln)) for ln in code)
    opts = _prettier(config_texts)
    indent = _indent(texts)
    if opts.get("useTabs") is True:
        indent = "tabs"
    elif isinstance(opts.get("tabWidth"), int):
        indent = f"{opts['tabWidth']} spaces"
    single_quotes = opts["singleQuote"] if isinstance(opts.get("singleQuote"), bool) else single > len(quotes) - single
    semi = opts["semi"] if isinstance(opts.get("semi"), bool) else with_semi >= without
    width = opts.get("printWidth")
    return StyleFacts(indent=indent, quotes="single" if single_quotes else "double",
                      line_length=width if isinstance(width, int) else None, type_hints=False, docstrings="none",
                      test_framework="", semicolons=semi)
