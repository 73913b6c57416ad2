"""Crashes and a sick disk under fleet load: the agents' resends complete the set, nothing twice."""

from __future__ import annotations

import contextlib
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.collector import API_KEY, CollectorProcess, collector_config
from tests.support.fleet import Fleet


def test_collector_sigkill_mid_load_then_restart(tmp_path: Path) -> None:
    config = collector_config(tmp_path)
    first = CollectorProcess(config, _dir(tmp_path / "run1")).wait_healthy()
    fleet = Fleet(tmp_path / "fleet", first.ingest_url, config.tls_cert, 30, API_KEY,
                  request_timeout=10)
    try:
        fleet.tick()
        stop = threading.Event()

        def load() -> None:
            while not stop.is_set():
                fleet.write(max_lines=4)
                fleet.tick()

        worker = threading.Thread(target=load)
        worker.start()
        time.sleep(1.0)
        first.kill()  # SIGKILL while requests are in flight
        time.sleep(0.5)
        stop.set()
        worker.join(60)
        assert fleet.pending() > 0 or fleet.audit(config.db_path).written > 0
        second = CollectorProcess(config, _dir(tmp_path / "run2")).wait_healthy()
        try:
            fleet.point_at(second.ingest_url)
            fleet.write(max_lines=4)
            fleet.drain()
        finally:
            second.kill()
        audit = fleet.audit(config.db_path)
        assert audit.written > 0 and audit.exactly_once and audit.missing == 0, audit
        assert audit.error_rows == 0
    finally:
        fleet.close()
        first.kill()


@contextlib.contextmanager
def small_tmpfs(path: Path, size_kb: int) -> Iterator[Path]:
    path.mkdir(parents=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_kb}k,mode=0700", "tmpfs",
                              str(path)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip("needs permission to mount a tmpfs (root)")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def _fill(path: Path) -> None:
    """Write until ENOSPC: the disk is full."""
    with contextlib.suppress(OSError), path.open("wb", buffering=0) as filler:
        while True:
            filler.write(b"\0" * 4096)


@pytest.mark.needs_root
def test_full_database_disk_is_5xx_and_agents_keep_their_lines(tmp_path: Path) -> None:
    """(A read-only remount is refused while the collector holds the database open for writing,
    and root ignores file modes, so "disk full" is the runtime storage failure we can cause.)"""
    with small_tmpfs(tmp_path / "dbdisk", 4096) as disk:
        config = collector_config(tmp_path, db_path=disk / "results.db")
        collector = CollectorProcess(config, _dir(tmp_path / "run")).wait_healthy()
        fleet = Fleet(tmp_path / "fleet", collector.ingest_url, config.tls_cert, 10, API_KEY)
        try:
            fleet.tick()
            fleet.write(max_lines=3)
            fleet.drain()
            _fill(disk / "filler")
            fleet.write(max_lines=3, fault_share=1.0)  # flagged verdicts: rows that need space
            sick = [r for r in fleet.tick() if r.batch_id]
            assert sick and {r.http_status for r in sick} <= {500, 503, 507}, sick
            assert fleet.pending() == len(sick)  # every host kept its batch
            assert collector.process.poll() is None  # and the collector stayed up
            (disk / "filler").unlink()
            fleet.write(max_lines=3)
            fleet.drain()
            audit = fleet.audit(config.db_path)
            assert audit.exactly_once and audit.missing == 0, audit
        finally:
            fleet.close()
            collector.kill()


def _dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path
