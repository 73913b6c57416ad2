"""The database as operators use it: the seed's sqlite3 one-liners, WAL, crashes and restarts."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import httpx
import pytest

from tasseograph import db
from tests.support import fake_inference as fake
from tests.support.collector import EDAC, auth, client_context, fake_llm_overrides, payload, rows

# Verbatim from the seed's "Operations" section (sqlite3 CLI arguments).
SEED_QUERIES = {
    "recent": "SELECT timestamp, hostname, status, issues FROM results WHERE status != 'ok' "
              "ORDER BY timestamp DESC LIMIT 20;",
    "by_status": "SELECT status, COUNT(*) FROM results GROUP BY status;",
    "host": "SELECT * FROM results WHERE hostname = 'web-prod-01' ORDER BY timestamp DESC LIMIT 10;",
    "warnings": "SELECT * FROM results WHERE status = 'warning';",
    "errors": "SELECT COUNT(*) FROM results WHERE status = 'error';",
}


def _fill(collector: Any, fake_llm: fake.FakeInferenceServer) -> None:
    """Two warnings, one ok, one error row, over two hosts."""
    with httpx.Client(base_url=collector.url, verify=client_context(collector.config.tls_cert)) as c:
        fake_llm.enqueue(fake.verdict({"status": "warning", "issues": [
            {"severity": "warning", "category": "memory_ecc", "summary": "CE", "evidence": [EDAC]}]}))
        assert c.post("/ingest", json=payload(lines=[EDAC]), headers=auth()).status_code == 200
        fake_llm.enqueue(fake.verdict({"status": "warning", "issues": [
            {"severity": "warning", "category": "oom", "summary": "OOM", "evidence": ["oom"]}]}))
        assert c.post("/ingest", json=payload(hostname="db-01"), headers=auth()).status_code == 200
        assert c.post("/ingest", json=payload(), headers=auth()).status_code == 200
        fake_llm.enqueue(fake.text("garbage"))
        assert c.post("/ingest", json=payload(), headers=auth()).status_code == 500


def test_the_seeds_sqlite3_one_liners_work_unchanged(
    collector_factory: Any, fake_llm: fake.FakeInferenceServer,
) -> None:
    collector = collector_factory(**fake_llm_overrides(fake_llm.base_url))
    _fill(collector, fake_llm)
    connection = sqlite3.connect(collector.config.db_path)
    try:
        results = {name: connection.execute(sql).fetchall() for name, sql in SEED_QUERIES.items()}
    finally:
        connection.close()
    assert sorted(results["by_status"]) == [("error", 1), ("ok", 1), ("warning", 2)]
    assert results["errors"] == [(1,)]
    assert len(results["recent"]) == 3 and {r[2] for r in results["recent"]} == {"warning", "error"}
    categories = {json.loads(r[3])[0]["category"] for r in results["recent"] if r[3]}
    assert categories == {"memory_ecc", "oom"}
    assert len(results["host"]) == 3 and len(results["warnings"]) == 2


def test_the_database_is_wal_and_migrated(collector_factory: Any) -> None:
    collector = collector_factory()
    connection = sqlite3.connect(collector.config.db_path)
    try:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert connection.execute("PRAGMA user_version").fetchone()[0] == len(db.MIGRATIONS)
        indexes = {r[0] for r in connection.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    finally:
        connection.close()
    assert {"idx_results_hostname", "idx_results_status", "idx_results_timestamp",
            "idx_results_batch_id"} <= indexes
    assert Path(collector.config.db_path).stat().st_mode & 0o077 == 0


def test_timestamps_are_stored_as_utc_iso(collector_factory: Any, client_for: Any) -> None:
    collector = collector_factory()
    client = client_for(collector)
    client.post("/ingest", json=payload(timestamp="2026-02-03T13:30:00+01:00"), headers=auth())
    client.post("/ingest", json=payload(timestamp="2026-02-03T12:31:00"), headers=auth())
    assert [r["timestamp"] for r in rows(collector)] == ["2026-02-03T12:30:00Z", "2026-02-03T12:31:00Z"]


def test_sigkill_loses_nothing_stored_and_a_resend_is_a_duplicate(collector_factory: Any) -> None:
    first = collector_factory(process=True)
    body = payload(batch_id="web-prod-01:boot:1-3")
    context = client_context(first.config.tls_cert)
    reply = httpx.post(first.ingest_url, json=body, headers=auth(), verify=context).json()
    assert first.kill() == -9
    second = collector_factory(process=True, db_path=first.config.db_path)
    again = httpx.post(second.ingest_url, json=body, headers=auth(), verify=context).json()
    assert again["duplicate"] is True and again["id"] == reply["id"]
    assert len(rows(second)) == 1


def test_sigterm_lets_the_request_in_flight_finish(
    collector_factory: Any, fake_llm: fake.FakeInferenceServer,
) -> None:
    import threading

    fake_llm.latency = 1.0
    collector = collector_factory(process=True, **fake_llm_overrides(fake_llm.base_url))
    context = client_context(collector.config.tls_cert)
    result: dict[str, httpx.Response] = {}
    thread = threading.Thread(target=lambda: result.setdefault("r", httpx.post(
        collector.ingest_url, json=payload(), headers=auth(), verify=context, timeout=30)))
    thread.start()
    while not fake_llm.requests:  # the request has reached the LLM
        thread.join(0.02)
    status = collector.terminate()
    thread.join(30)
    assert result["r"].status_code == 200
    assert status in (0, -15)
    assert len(rows(collector)) == 1
    assert "Finished server process" in collector.stderr


@pytest.mark.parametrize("flagged", [True, False])
def test_verdict_rows_keep_the_batch_accounting(collector_factory: Any, client_for: Any,
                                                      flagged: bool) -> None:
    collector = collector_factory()
    lines = [EDAC] if flagged else ["all quiet"]
    client_for(collector).post("/ingest", json=payload(lines=lines, boot_id="b-1", first_seq=7,
                                                       last_seq=7, lost_lines=2, truncated_lines=1),
                               headers=auth())
    [row] = rows(collector)
    assert (row["boot_id"], row["first_seq"], row["last_seq"], row["line_count"], row["lost_lines"],
            row["truncated_lines"]) == ("b-1", 7, 7, 1, 2, 1)
