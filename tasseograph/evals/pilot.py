"""The pilot loop: reviewed collector results become a labelled corpus.

A human review says whether a stored verdict was right. ``fp`` (a false alarm) labels the
lines ``ok``; ``tp`` labels them with the stored status and the stored issues' categories;
``unsure`` says nothing and is skipped. The latest review of a result wins. Rows without
lines (the seed keeps ``ok`` rows minimal) or with an ``error`` status cannot be replayed and
are skipped too, and counted, so the export says what it left out.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tasseograph.db import connect
from tasseograph.evals.corpus import Corpus, CorpusError, LabelEntry, write_corpus
from tasseograph.protocol import CATEGORIES, Status

_QUERY = """
SELECT r.id, r.timestamp, r.hostname, r.status, r.issues, r.raw_dmesg,
       v.verdict, v.note, v.created_at
FROM results r
JOIN reviews v ON v.id = (SELECT max(id) FROM reviews WHERE result_id = r.id)
ORDER BY r.id
"""


@dataclass
class PilotCorpus:
    entries: list[tuple[LabelEntry, list[str]]] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)

    def skip(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1


def _categories(raw: str | None) -> list[str]:
    try:
        issues = json.loads(raw) if raw else []
    except ValueError:
        return []
    found: list[str] = []
    for issue in issues if isinstance(issues, list) else []:
        category = issue.get("category") if isinstance(issue, dict) else None
        if category in CATEGORIES and category not in found:
            found.append(category)
    return found


def _entry(row: sqlite3.Row, db_path: Path) -> LabelEntry | str:
    """The label for one reviewed row, or the reason it is skipped."""
    verdict, stored = row["verdict"], row["status"]
    if verdict == "unsure":
        return "unsure"
    if stored not in {s.value for s in Status}:
        return f"status {stored}"
    status, categories = Status.ok.value, []
    if verdict == "tp":
        status, categories = stored, _categories(row["issues"])
    metadata: dict[str, Any] = {
        "source": f"pilot review of {db_path.name} result {row['id']}",
        "rationale": row["note"] or f"reviewed {verdict} of a stored {stored} verdict",
        "hostname": row["hostname"], "timestamp": row["timestamp"], "result_id": row["id"],
        "review": verdict, "stored_status": stored, "reviewed_at": row["created_at"],
    }
    return LabelEntry(id=f"pilot-{row['id']}", status=status, categories=categories, **metadata)


def reviewed_corpus(db_path: str | Path) -> PilotCorpus:
    """Every usable reviewed result of ``db_path`` as (label, lines)."""
    path = Path(db_path)
    if not path.is_file():
        raise CorpusError(f"{path}: results database not found")
    try:
        db = connect(path, readonly=True)
        try:
            rows = db.execute(_QUERY).fetchall()
        finally:
            db.close()
    except sqlite3.Error as exc:
        raise CorpusError(f"{path}: cannot read reviewed results: {exc}") from None
    pilot = PilotCorpus()
    for row in rows:
        entry = _entry(row, path)
        if isinstance(entry, str):
            pilot.skip(entry)
            continue
        lines = (row["raw_dmesg"] or "").splitlines()  # stored as the collector received them
        if not lines:
            pilot.skip("no stored lines")
            continue
        pilot.entries.append((entry, lines))
    return pilot


def corpus_from_db(db_path: str | Path) -> Corpus:
    """The reviewed results as an in-memory corpus (same manifest hash as its export)."""
    pilot = reviewed_corpus(db_path)
    if not pilot.entries:
        raise CorpusError(f"{db_path}: no reviewed results to replay (tp/fp reviews with lines)")
    return Corpus.from_entries(f"pilot-{Path(db_path).stem}", str(db_path), pilot.entries)


def export_reviews(db_path: str | Path, out: str | Path) -> PilotCorpus:
    """Write the reviewed results as a corpus directory (labels.yaml + cases/)."""
    pilot = reviewed_corpus(db_path)
    write_corpus(Path(out), pilot.entries)
    return pilot
