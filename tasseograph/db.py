"""The results database: the seed's schema, additive columns and reviews, via numbered migrations.

Shared by the collector (writer), review, report and evals (readers). Migrations are a plain
list of functions; ``PRAGMA user_version`` records how many have run.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path


def _m001_seed_results(db: sqlite3.Connection) -> None:
    # Column for column the seed's table, so its sqlite3 one-liners work unchanged.
    db.executescript(
        """
        CREATE TABLE results (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            timestamp TEXT NOT NULL,
            hostname TEXT NOT NULL,
            status TEXT NOT NULL,  -- 'ok', 'warning', 'critical', 'error'
            issues TEXT,           -- JSON array of issues
            raw_dmesg TEXT,        -- original dmesg lines for debugging
            api_latency_ms INTEGER,
            created_at TEXT DEFAULT (datetime('now'))
        );
        CREATE INDEX idx_results_hostname ON results(hostname);
        CREATE INDEX idx_results_status ON results(status);
        CREATE INDEX idx_results_timestamp ON results(timestamp);
        """
    )


def _m002_batch_and_llm_columns(db: sqlite3.Connection) -> None:
    for column in (
        "batch_id TEXT",
        "boot_id TEXT",
        "first_seq INTEGER",
        "last_seq INTEGER",
        "line_count INTEGER",
        "lost_lines INTEGER DEFAULT 0",
        "truncated_lines INTEGER DEFAULT 0",
        "backend TEXT",
        "model TEXT",
        "prompt_version TEXT",
        "input_tokens INTEGER",
        "output_tokens INTEGER",
        "cache_read_tokens INTEGER",
        "cache_write_tokens INTEGER",
        "cost_usd REAL",
        "raw_response TEXT",
        "error TEXT",
    ):
        db.execute(f"ALTER TABLE results ADD COLUMN {column}")
    db.execute("CREATE UNIQUE INDEX idx_results_batch_id ON results(batch_id)")


def _m003_reviews(db: sqlite3.Connection) -> None:
    db.executescript(
        """
        CREATE TABLE reviews (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            result_id INTEGER NOT NULL REFERENCES results(id),
            verdict TEXT NOT NULL CHECK (verdict IN ('tp', 'fp', 'unsure')),
            note TEXT,
            created_at TEXT DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
        );
        CREATE INDEX idx_reviews_result_id ON reviews(result_id);
        """
    )


def iso_utc(moment: datetime) -> str:
    """The ``timestamp`` column: UTC, second precision, ``Z`` (sorts and compares as text)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [
    _m001_seed_results,
    _m002_batch_and_llm_columns,
    _m003_reviews,
]


def migrate(db: sqlite3.Connection) -> int:
    """Run the migrations this database has not seen; returns the schema version."""
    version = db.execute("PRAGMA user_version").fetchone()[0]
    for number, migration in enumerate(MIGRATIONS[version:], start=version + 1):
        with db:
            migration(db)
            db.execute(f"PRAGMA user_version = {number}")
    return len(MIGRATIONS)


def create_private_file(path: Path) -> None:
    """Create ``path`` (and its directory) readable by the owner only, if missing."""
    if not path.parent.exists():
        path.parent.mkdir(parents=True, mode=0o700)
    if not path.exists():
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))


def connect(path: str | os.PathLike[str], *, readonly: bool = False) -> sqlite3.Connection:
    """Open (and migrate) the results database in WAL mode, owner-only permissions."""
    path = Path(path)
    if readonly:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
    else:
        create_private_file(path)
        db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
    db.row_factory = sqlite3.Row
    db.execute("PRAGMA busy_timeout=10000")
    db.execute("PRAGMA foreign_keys=ON")
    if not readonly:
        migrate(db)
    return db
