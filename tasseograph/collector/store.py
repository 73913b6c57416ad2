"""The collector's one writer: a single SQLite connection behind a single worker thread.

Every statement is its own short autocommit transaction, run on one dedicated thread, so
writes never interleave and no transaction is ever open while an LLM call is in flight.
Rows follow the seed: ``ok`` rows are minimal (no issues, no raw dmesg); error rows keep the
lines and the raw reply for debugging but never the ``batch_id`` (see :func:`error_row`).
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from tasseograph import db
from tasseograph.config import ConfigError
from tasseograph.llm import Analysis, Usage
from tasseograph.protocol import IngestPayload, IngestReply, Issue, Status

T = TypeVar("T")
Row = dict[str, Any]


def _batch_columns(payload: IngestPayload) -> Row:
    return {
        "timestamp": db.iso_utc(payload.timestamp),
        "hostname": payload.hostname,
        "boot_id": payload.boot_id,
        "first_seq": payload.first_seq,
        "last_seq": payload.last_seq,
        "line_count": len(payload.lines),
        "lost_lines": payload.lost_lines,
        "truncated_lines": payload.truncated_lines,
    }


def _usage_columns(usage: Usage) -> Row:
    return {
        "input_tokens": usage.input_tokens,
        "output_tokens": usage.output_tokens,
        "cache_read_tokens": usage.cache_read_tokens,
        "cache_write_tokens": usage.cache_write_tokens,
    }


def verdict_row(payload: IngestPayload, analysis: Analysis) -> Row:
    """A stored verdict. ``ok`` rows keep no issues, dmesg or raw reply (the seed's minimal row)."""
    flagged = analysis.verdict.status != Status.ok
    return {
        **_batch_columns(payload),
        "batch_id": payload.batch_id,
        "status": analysis.verdict.status.value,
        "issues": json.dumps([i.model_dump(mode="json") for i in analysis.verdict.issues])
        if flagged else None,
        "raw_dmesg": "\n".join(payload.lines) if flagged else None,
        "raw_response": analysis.raw_response if flagged else None,
        "api_latency_ms": analysis.latency_ms,
        "backend": analysis.backend,
        "model": analysis.model,
        "prompt_version": analysis.prompt_version,
        "cost_usd": analysis.cost_usd,
        **_usage_columns(analysis.usage),
    }


def error_row(payload: IngestPayload, error: str, *, backend: str, model: str,
              prompt_version: str, latency_ms: int, raw_response: str | None = None,
              usage: Usage | None = None) -> Row:
    """A failed check: ``status='error'``, the reason in ``error``, the lines kept for replay.

    ``batch_id`` stays NULL on purpose: the UNIQUE batch_id belongs to a verdict, and a batch
    whose analysis failed is analyzed again when the agent resends it (boot_id and the
    sequence range still identify the batch).
    """
    return {
        **_batch_columns(payload),
        "status": "error",
        "error": error,
        "raw_dmesg": "\n".join(payload.lines),
        "raw_response": raw_response,
        "api_latency_ms": latency_ms,
        "backend": backend,
        "model": model,
        "prompt_version": prompt_version,
        **(_usage_columns(usage) if usage else {}),
    }


def open_database(path: Path) -> sqlite3.Connection:
    """Open (create, migrate) the results DB; a path we cannot write is a config error."""
    try:
        connection = db.connect(path)
        connection.execute("BEGIN IMMEDIATE")  # proves we can write, not just read
        connection.execute("ROLLBACK")
        return connection
    except (OSError, sqlite3.Error) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise ConfigError(None, "db_path", f"cannot open database {path} for writing: {reason}") from None


class ResultStore:
    """Async facade over one connection; all statements run on one thread, in order."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db = open_database(path)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tasseograph-db")

    async def _run(self, func: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, func, *args)

    # -- synchronous bodies (run on the writer thread) -------------------------------------
    def _insert(self, row: Row) -> int | None:
        columns = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        conflict = " ON CONFLICT(batch_id) DO NOTHING" if row.get("batch_id") else ""
        cursor = self._db.execute(f"INSERT INTO results ({columns}) VALUES ({marks}){conflict}",
                                  list(row.values()))
        return cursor.lastrowid if cursor.rowcount else None

    def _lookup(self, batch_id: str) -> IngestReply | None:
        found = self._db.execute(
            "SELECT id, status, issues FROM results WHERE batch_id = ?", (batch_id,)).fetchone()
        if found is None:
            return None
        issues = [Issue.model_validate(i) for i in json.loads(found["issues"] or "[]")]
        return IngestReply(id=found["id"], status=found["status"], issues=issues, duplicate=True)

    # -- async API -------------------------------------------------------------------------
    async def insert(self, row: Row) -> int | None:
        """The new row's id, or None when a verdict for this batch_id is already stored."""
        return await self._run(self._insert, row)

    async def lookup(self, batch_id: str) -> IngestReply | None:
        """The stored verdict for ``batch_id`` as a duplicate reply, or None."""
        return await self._run(self._lookup, batch_id)

    def close(self) -> None:
        self._executor.shutdown(wait=True)
        self._db.close()

