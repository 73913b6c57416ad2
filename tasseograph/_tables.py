"""Tables for the human reports (eval and weekly): the same Markdown and HTML everywhere."""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence


def _md_cell(value: str) -> str:
    return value.replace("|", "\\|").replace("\n", " ")


def markdown_table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    """The table's lines; a ``|`` or newline inside a cell cannot break its row."""
    return ["| " + " | ".join(_md_cell(h) for h in header) + " |", "|" + "---|" * len(header),
            *("| " + " | ".join(_md_cell(c) for c in row) + " |" for row in rows)]


def html_table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    esc = html.escape
    return ["<table><tr>" + "".join(f"<th>{esc(h)}</th>" for h in header) + "</tr>",
            *("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>" for row in rows),
            "</table>"]
