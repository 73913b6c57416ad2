"""``tasseograph report``: the weekly pilot assessment as Markdown, HTML or JSON.

Nothing heavy at module level: ``tasseograph --help`` imports this module.
"""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from tasseograph._cli import EXIT_USAGE, fail


class Format(StrEnum):
    md = "md"
    html = "html"
    json = "json"


def report(
    db: Annotated[Path, typer.Option("--db", help="The collector's results database (opened read-only).")],
    week: Annotated[str | None, typer.Option("--week", metavar="YYYY-Www",
                                             help="ISO week, Monday 00:00 UTC to the next Monday.")] = None,
    since: Annotated[str | None, typer.Option("--since", metavar="DATE",
                                              help="Start (date or ISO datetime, UTC).")] = None,
    until: Annotated[str | None, typer.Option("--until", metavar="DATE",
                                              help="End; a bare date includes that whole day.")] = None,
    format: Annotated[Format, typer.Option("--format", help="md (terminal), html (self-contained, "
                                                            "with charts) or json.")] = Format.md,
    out: Annotated[Path | None, typer.Option("--out", help="Write here instead of stdout.")] = None,
    poll_interval: Annotated[str, typer.Option(
        "--poll-interval", help="The agents' poll interval; a host is silent after 3 of them.")] = "5m",
) -> None:
    """The weekly assessment (default: the ISO week holding the newest result)."""
    from tasseograph.config import parse_duration
    from tasseograph.report.assess import assess
    from tasseograph.report.load import DatabaseUnreadable

    try:
        interval_s = parse_duration(poll_interval)
    except ValueError as exc:
        raise fail(f"--poll-interval: {exc}", EXIT_USAGE) from None
    try:
        result = assess(db, week=week, since=since, until=until, poll_interval_s=interval_s)
    except DatabaseUnreadable as exc:
        raise fail(str(exc), EXIT_USAGE) from None
    except ValueError as exc:
        raise fail(str(exc), EXIT_USAGE) from None
    if format is Format.json:
        text = result.model_dump_json(indent=2) + "\n"
    elif format is Format.html:
        from tasseograph.report.render import to_html

        text = to_html(result)
    else:
        from tasseograph.report.render import to_markdown

        text = to_markdown(result)
    if out is None:
        sys.stdout.write(text)
        return
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise fail(f"cannot write {out}: {exc.strerror}") from None
    print(f"wrote {out}", file=sys.stderr)
