"""Secrets stay out of logs; everything private is created owner-only."""

from __future__ import annotations

import logging
import stat
from pathlib import Path

import pytest

from tests.support.collector import API_KEY, fake_llm_overrides
from tests.support.fleet import Fleet


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_no_secret_in_any_log_line_and_private_files(collector_factory, fake_llm, tmp_path: Path,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    overrides = fake_llm_overrides(fake_llm.base_url)
    collector = collector_factory(**overrides, db_path=tmp_path / "private" / "results.db")
    fleet = Fleet(tmp_path / "fleet", collector.ingest_url, collector.config.tls_cert, 4, API_KEY)
    intruder = Fleet(tmp_path / "intruder", collector.ingest_url, collector.config.tls_cert, 1,
                     "wrong-key-but-still-a-secret")
    try:
        for group in (fleet, intruder):
            group.tick()
            group.write(max_lines=3, fault_share=1.0)
            group.tick()
        assert {r.http_status for r in intruder.tick()} == {401}
    finally:
        fleet.close()
        intruder.close()
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "401" in logged or "unauthorized" in logged.lower()  # the refusal itself is logged
    for secret in (API_KEY, overrides["llm_api_key"], "wrong-key-but-still-a-secret"):
        assert secret not in logged
    intruder_lines = intruder.hosts[0].log.path.read_bytes().decode().split(";", 1)[1][:40]
    assert intruder_lines not in logged  # a refused payload is never logged

    db_path = collector.config.db_path
    assert _mode(db_path) == 0o600 and _mode(db_path.parent) == 0o700
    assert _mode(collector.config.tls_key) == 0o600
    for host in fleet.hosts:
        assert _mode(host.agent.config.state_file) == 0o600
