"""``tasseograph review``: humans judge warning/critical verdicts; the FP rate rests on these rows.

Interactive: unreviewed flagged results newest first, one keypress-line each (read with
``input()`` so it works through a pipe), every verdict committed the moment it is given, so
Ctrl-C or a closed terminal loses nothing. Non-interactive: ``--id N --verdict tp|fp|unsure``.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tasseograph._cli import EXIT_USAGE, fail
from tasseograph.protocol import Severity  # the statuses a review judges: warning, critical

if TYPE_CHECKING:
    from rich.console import Console

EXIT_INTERRUPTED = 130
KEYS = "t=true positive  f=false positive  u=unsure  s=skip  n=note  q=quit"
VERDICT_KEYS = {"t": "tp", "f": "fp", "u": "unsure"}


class ReviewVerdict(StrEnum):
    tp = "tp"
    fp = "fp"
    unsure = "unsure"


def pending(connection: sqlite3.Connection, host: str | None = None, status: str | None = None,
            category: str | None = None) -> list[sqlite3.Row]:
    """Unreviewed warning/critical results, newest first, narrowed by the filters given."""
    where = ["r.status IN ('warning', 'critical')",
             "NOT EXISTS (SELECT 1 FROM reviews v WHERE v.result_id = r.id)"]
    params: list[str] = []
    if host:
        where.append("r.hostname = ?")
        params.append(host)
    if status:
        where.append("r.status = ?")
        params.append(status)
    if category:
        where.append("json_valid(r.issues) AND EXISTS (SELECT 1 FROM json_each(r.issues) i"
                     " WHERE json_extract(i.value, '$.category') = ?)")
        params.append(category)
    return connection.execute(
        "SELECT r.id, r.timestamp, r.hostname, r.status, r.issues, r.raw_dmesg, r.prompt_version"
        f" FROM results r WHERE {' AND '.join(where)} ORDER BY r.timestamp DESC, r.id DESC",
        params).fetchall()


def record(connection: sqlite3.Connection, result_id: int, verdict: str, note: str | None = None) -> int:
    """Insert one review and commit it at once; returns the review's id."""
    with connection:
        cursor = connection.execute("INSERT INTO reviews (result_id, verdict, note) VALUES (?, ?, ?)",
                                    (result_id, verdict, note or None))
    return int(cursor.lastrowid)


def _issues(text: str | None) -> list[dict]:
    try:
        issues = json.loads(text or "[]")
    except json.JSONDecodeError:
        return [{"severity": "?", "category": "?", "summary": f"(unparseable issues: {text[:200]})"}]
    return issues if isinstance(issues, list) else []


def show(console: Console, row: sqlite3.Row, position: int, total: int) -> None:
    from rich.markup import escape
    from rich.panel import Panel

    body = [f"[bold]{escape(row['hostname'])}[/]  {escape(row['timestamp'])}  "
            f"verdict [bold]{row['status']}[/]  (result {row['id']}, prompt {escape(row['prompt_version'] or '?')})"]
    for issue in _issues(row["issues"]):
        if isinstance(issue, dict):
            body.append(f"  - {escape(str(issue.get('severity')))} {escape(str(issue.get('category')))}: "
                        f"{escape(str(issue.get('summary', '')))}")
            body += [f"      evidence: {escape(str(line))}" for line in issue.get("evidence") or []]
    body.append("raw lines:")
    raw = row["raw_dmesg"]
    body += [f"  {escape(line)}" for line in raw.splitlines()] if raw else ["  (raw lines not stored)"]
    console.print(Panel("\n".join(body), title=f"{position}/{total}", title_align="left"))


def _prompts() -> Iterator[str]:
    """Answers, one line each; EOF ends the session like ``q``."""
    while True:
        try:
            yield input(f"[{KEYS}] > ").strip().lower()
        except EOFError:
            return


def interactive(connection: sqlite3.Connection, rows: list[sqlite3.Row], console: Console) -> int:
    """Walk ``rows``; returns how many verdicts were saved."""
    saved = 0
    answers = _prompts()
    for position, row in enumerate(rows, start=1):
        show(console, row, position, len(rows))
        note: str | None = None
        for answer in answers:
            if answer in VERDICT_KEYS:
                record(connection, row["id"], VERDICT_KEYS[answer], note)
                saved += 1
                console.print(f"saved {VERDICT_KEYS[answer]} for result {row['id']}")
                break
            if answer == "s":
                break
            if answer == "n":
                try:
                    note = input("note: ").strip() or None
                except EOFError:
                    return saved
                console.print("note kept; now give the verdict (t/f/u)")
            elif answer == "q":
                return saved
            else:
                console.print(f"unknown key {answer!r}: {KEYS}")
        else:
            return saved  # input ended
    console.print("nothing left to review")
    return saved


def review(
    db: Annotated[Path, typer.Option("--db", help="The collector's results database.")],
    host: Annotated[str | None, typer.Option("--host", help="Only this host.")] = None,
    status: Annotated[Severity | None, typer.Option("--status", help="warning or critical.")] = None,
    category: Annotated[str | None, typer.Option("--category", help="Only results naming this category.")] = None,
    result_id: Annotated[int | None, typer.Option("--id", help="Judge this result (with --verdict).")] = None,
    verdict: Annotated[ReviewVerdict | None, typer.Option("--verdict", help="tp, fp or unsure.")] = None,
    note: Annotated[str | None, typer.Option("--note", help="A note stored with the verdict.")] = None,
) -> None:
    """Judge warning/critical verdicts: interactively, or one with --id N --verdict tp|fp|unsure."""
    from rich.console import Console

    from tasseograph import db as results_db

    if (result_id is None) != (verdict is None):
        raise fail("--id and --verdict go together", EXIT_USAGE)
    if not db.is_file():
        raise fail(f"{db}: no such database file", EXIT_USAGE)
    try:
        connection = results_db.connect(db)
    except sqlite3.DatabaseError as exc:
        raise fail(f"{db}: not a results database ({exc})", EXIT_USAGE) from None
    try:
        if result_id is not None and verdict is not None:
            row = connection.execute("SELECT status FROM results WHERE id = ?", (result_id,)).fetchone()
            if row is None:
                raise fail(f"no result with id {result_id} in {db}")
            if row["status"] not in ("warning", "critical"):
                raise fail(f"result {result_id} is {row['status']}; only warning/critical results are reviewed")
            review_id = record(connection, result_id, verdict.value, note)
            print(f"review {review_id}: result {result_id} = {verdict.value}")
            return
        rows = pending(connection, host, status.value if status else None, category)
        console = Console(highlight=False)
        if not rows:
            console.print("no unreviewed warning/critical results match")
            return
        try:
            saved = interactive(connection, rows, console)
        except KeyboardInterrupt:
            console.print("\ninterrupted; every verdict given so far is saved")
            raise typer.Exit(EXIT_INTERRUPTED) from None
        console.print(f"{saved} verdict(s) saved")
    finally:
        connection.close()
