"""The project's conventions, detected from its config and a sample of its files (never guessed): indentation,
quotes, line length, type hints, docstring style, test framework. One line for the generate prompt."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass

_INDENT = re.compile(r"^( +|\t+)\S", re.M)
_STRING = re.compile(r"""(?<![\w'"])(['"])(?!\1\1)[^'"\\\n]{0,60}\1""")
_DEF = re.compile(r"^\s*(?:async\s+)?def\s+\w+\((.*?)\)\s*(->)?", re.M)
_LINE_LENGTH = re.compile(r"^\s*(?:line-length|line_length|max-line-length)\s*=\s*(\d+)", re.M)


@dataclass(frozen=True)
class StyleFacts:
    indent: str  # "4 spaces", "2 spaces", "tabs"
    quotes: str  # "double", "single"
    line_length: int | None
    type_hints: bool
    docstrings: str  # "google", "numpy", "sphinx", "plain", "none"
    test_framework: str  # "pytest", "unittest"

    def describe(self) -> str:
        parts = [f"indent with {self.indent}", f"{self.quotes} quotes"]
        if self.line_length:
            parts.append(f"lines up to {self.line_length} characters")
        parts.append("type hints on functions" if self.type_hints else "no type hints")
        if self.docstrings != "none":
            parts.append(f"{self.docstrings} docstrings")
        parts.append(f"tests with {self.test_framework}")
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
    if re.search(r"^\s*(Args|Returns|Raises):\s*$", joined, re.M):
        return "google"
    if re.search(r"^\s*(Parameters|Returns)\n\s*-{3,}", joined, re.M):
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
