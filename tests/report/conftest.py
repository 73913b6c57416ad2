"""Generated pilot databases for the report and review tests.

The shared one (two ISO weeks, 2026-W05 and W06) is generated once per session and only read;
tests that write reviews get their own small copy.
"""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from tasseograph import db as results_db
from tasseograph.report.synthetic import Summary, generate

TWO_WEEKS_START = date(2026, 1, 26)  # Monday of 2026-W05


@pytest.fixture(scope="session")
def two_weeks(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Summary]:
    path = tmp_path_factory.mktemp("pilot") / "two-weeks.db"
    return path, generate(path, hosts=12, days=14, seed=7, start=TWO_WEEKS_START)


@pytest.fixture(scope="session")
def _small_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("pilot") / "small.db"
    generate(path, hosts=6, days=3, seed=3)
    return path


@pytest.fixture
def small_db(_small_template: Path, tmp_path: Path) -> Path:
    """A writable 6-host × 3-day database of this test's own."""
    path = tmp_path / "small.db"
    shutil.copy(_small_template, path)
    return path


@pytest.fixture
def make_db(tmp_path: Path) -> Callable[[list[tuple]], Path]:
    """A database holding exactly the given (timestamp, hostname, status, api_latency_ms) rows."""

    def make(rows: list[tuple]) -> Path:
        path = tmp_path / "handmade.db"
        connection = results_db.connect(path)
        connection.executemany("INSERT INTO results (timestamp, hostname, status, api_latency_ms)"
                               " VALUES (?, ?, ?, ?)", rows)
        connection.close()
        return path

    return make


def plain(path: Path) -> sqlite3.Connection:
    """The independent reader the expected figures come from: stdlib sqlite3, nothing of ours."""
    connection = sqlite3.connect(path)
    connection.row_factory = sqlite3.Row
    return connection
