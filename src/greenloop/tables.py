"""How a command prints rows: a table on a terminal, one tab-separated line per row for a script (never wrapped)."""

from __future__ import annotations

import sys

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from greenloop.sanitize import for_terminal


def cells(rows: list[tuple[str, ...]]) -> list[tuple[str, ...]]:
    """Table cells from untrusted text: no terminal controls, no line breaks or tabs (a script splits on them)."""
    return [tuple(for_terminal(c).replace("\n", " ").replace("\t", " ") for c in row) for row in rows]


def print_table(header: tuple[str, ...], rows: list[tuple[str, ...]], keep_first: bool = False) -> None:
    if not sys.stdout.isatty():  # scripts get one tab-separated line per row
        print("\n".join("\t".join(row) for row in (header, *rows)))
        return
    table = Table(*header)
    if keep_first:  # the first cell is what other commands take (a run id): never cut
        table.columns[0].no_wrap = True
        table.columns[0].min_width = max((len(r[0]) for r in rows), default=3)
    for row in rows:
        table.add_row(*(escape(cell) for cell in row))  # `pip install 'greenloop[local]'` is text, not markup
    Console().print(table)
