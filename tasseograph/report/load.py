"""Read the collector's SQLite database (read-only) into DuckDB.

DuckDB's ``sqlite`` extension is downloaded on first use, which an offline collector host cannot
do; so the rows are read with the stdlib ``sqlite3`` (chunked, only the columns and the time
window the report needs) into pandas frames registered in DuckDB. The figures are then plain
DuckDB SQL over three tables:

- ``results``: id, ts (naive UTC TIMESTAMP), hostname, status, issues (flagged rows only),
  latency_ms, error, prompt_version, in_period (true: the period; false: the previous one)
- ``reviews``: the latest review of each result (result_id, verdict, note, created_at)
- ``cur`` / ``prev``: views of ``results`` for the period and the previous one
- ``hosts``: every hostname seen before the period's end, with its last_seen
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from tasseograph import db as results_db
from tasseograph.report.periods import Period

if TYPE_CHECKING:
    import duckdb
    import pandas as pd

CHUNK_ROWS = 250_000
#: columns the report reads; older databases (the seed's schema) may lack the additive ones
#: name in the frame → (source column, SQL expression)
_COLUMNS = {
    "id": ("id", "id"),
    "timestamp": ("timestamp", "timestamp"),
    "hostname": ("hostname", "hostname"),
    "status": ("status", "status"),
    "issues": ("issues", "CASE WHEN status IN ('warning', 'critical') THEN issues END"),
    "latency_ms": ("api_latency_ms", "api_latency_ms"),
    "error": ("error", "error"),
    "prompt_version": ("prompt_version", "prompt_version"),
}


class DatabaseUnreadable(Exception):
    """The file is missing or is not a results database: the CLI's one-line exit 2."""


@dataclass
class Loaded:
    con: duckdb.DuckDBPyConnection
    period: Period
    previous: Period
    newest: datetime | None  # newest result timestamp in the whole database


def open_readonly(path: str | Path) -> sqlite3.Connection:
    path = Path(path)
    if not path.is_file():
        raise DatabaseUnreadable(f"{path}: no such database file")
    try:
        connection = results_db.connect(path, readonly=True)
        tables = {r[0] for r in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    except sqlite3.DatabaseError as exc:
        raise DatabaseUnreadable(f"{path}: not a SQLite database ({exc})") from None
    if "results" not in tables:
        connection.close()
        raise DatabaseUnreadable(f"{path}: has no results table (not a tasseograph database)")
    return connection


def parse_timestamps(values: pd.Series) -> pd.Series:
    """ISO-8601 strings (any offset) → naive UTC datetimes; unparseable ones become NaT."""
    import pandas as pd

    parsed = pd.to_datetime(values, utc=True, format="ISO8601", errors="coerce")
    return parsed.dt.tz_localize(None)


def newest_timestamp(connection: sqlite3.Connection) -> datetime | None:
    row = connection.execute("SELECT max(timestamp) FROM results").fetchone()
    if not row or row[0] is None:
        return None
    stamp = parse_timestamps(_series([row[0]]))[0]
    return None if stamp != stamp else stamp.to_pydatetime().replace(tzinfo=UTC)


def _series(values: list) -> pd.Series:
    import pandas as pd

    return pd.Series(values, dtype="object")


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")


def _results_frame(connection: sqlite3.Connection, start: datetime, end: datetime,
                   boundary: datetime) -> pd.DataFrame:
    """Rows with start <= timestamp < end; ``in_period`` marks those at or after ``boundary``.

    The SQL filter on the text column is padded by a day so that timestamps written with a
    non-UTC offset are not lost; the exact cut happens after parsing.
    """
    import pandas as pd
    from pandas.api.types import union_categoricals

    present = {r[1] for r in connection.execute("PRAGMA table_info(results)")}
    select = ", ".join(f"{expr if source in present else 'NULL'} AS {name}"
                       for name, (source, expr) in _COLUMNS.items())
    cursor = connection.execute(
        f"SELECT {select} FROM results WHERE timestamp >= ? AND timestamp < ?",
        (_iso(start - timedelta(days=1)), _iso(end + timedelta(days=1))))
    names = list(_COLUMNS)
    chunks = []
    while batch := cursor.fetchmany(CHUNK_ROWS):
        frame = pd.DataFrame.from_records(batch, columns=names)
        frame["ts"] = parse_timestamps(frame.pop("timestamp"))
        lo, hi = start.replace(tzinfo=None), end.replace(tzinfo=None)
        frame = frame[(frame["ts"] >= lo) & (frame["ts"] < hi)]
        frame["latency_ms"] = pd.to_numeric(frame["latency_ms"], errors="coerce").astype("float64")
        for column in ("hostname", "status", "prompt_version"):
            frame[column] = frame[column].astype("category")
        chunks.append(frame)
    if not chunks:
        return pd.DataFrame({"id": pd.Series(dtype="int64"), "hostname": _series([]),
                             "status": _series([]), "issues": _series([]),
                             "latency_ms": pd.Series(dtype="float64"), "error": _series([]),
                             "prompt_version": _series([]), "ts": pd.Series(dtype="datetime64[ns]"),
                             "in_period": pd.Series(dtype="bool")})
    # categorical columns keep 1.2 M hostnames as small codes; the union keeps them categorical
    # across chunks (DuckDB sees an ENUM, which compares and groups like VARCHAR)
    categorical = {c: union_categoricals([chunk[c] for chunk in chunks], ignore_order=True)
                   for c in ("hostname", "status", "prompt_version")}
    frame = pd.concat([chunk.drop(columns=list(categorical)) for chunk in chunks], ignore_index=True)
    for column, values in categorical.items():
        frame[column] = pd.Categorical(values)
    frame["in_period"] = frame["ts"] >= boundary.replace(tzinfo=None)
    return frame


def _reviews_frame(connection: sqlite3.Connection) -> pd.DataFrame:
    import pandas as pd

    tables = {r[0] for r in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    rows = [] if "reviews" not in tables else connection.execute(
        "SELECT result_id, verdict, note, created_at FROM reviews"
        " WHERE id IN (SELECT max(id) FROM reviews GROUP BY result_id)").fetchall()
    return pd.DataFrame.from_records(rows, columns=["result_id", "verdict", "note", "created_at"]) \
        .astype({"result_id": "int64", "verdict": "object", "note": "object", "created_at": "object"})


def _hosts_frame(connection: sqlite3.Connection, results: pd.DataFrame, window_start: datetime,
                 end: datetime) -> pd.DataFrame:
    """Every host seen before ``end`` with its newest timestamp before it.

    ``results`` holds every row of [window_start, end), exactly parsed; older hosts come from
    SQL over the rows before the window (a day's overlap, so no timestamp offset loses a host).
    """
    import pandas as pd

    # "+hostname" steers SQLite to the timestamp index: only the rows before the window are read
    rows = connection.execute("SELECT hostname, max(timestamp) FROM results WHERE timestamp < ?"
                              " GROUP BY +hostname", (_iso(window_start + timedelta(days=1)),)).fetchall()
    older = pd.DataFrame.from_records(rows, columns=["hostname", "last_seen"]).astype("object")
    older["last_seen"] = parse_timestamps(older["last_seen"])
    recent = results[["hostname", "ts"]].rename(columns={"ts": "last_seen"})
    both = pd.concat([older, recent.astype({"hostname": "object"})], ignore_index=True)
    both = both[both["last_seen"] < end.replace(tzinfo=None)]
    return both.groupby("hostname", as_index=False)["last_seen"].max()


def load(path: str | Path, period: Period) -> Loaded:
    """Everything the report needs for ``period`` and the one before it, in a DuckDB connection."""
    import duckdb

    connection = open_readonly(path)
    try:
        previous = period.previous()
        results = _results_frame(connection, previous.start, period.end, period.start)
        reviews = _reviews_frame(connection)
        hosts = _hosts_frame(connection, results, previous.start, period.end)
        newest = newest_timestamp(connection)
    except sqlite3.DatabaseError as exc:
        raise DatabaseUnreadable(f"{path}: cannot read results ({exc})") from None
    finally:
        connection.close()
    con = duckdb.connect()
    con.register("results", results)
    con.register("reviews", reviews)
    con.register("hosts", hosts)
    con.execute("CREATE VIEW cur AS SELECT * FROM results WHERE in_period")
    con.execute("CREATE VIEW prev AS SELECT * FROM results WHERE NOT in_period")
    return Loaded(con=con, period=period, previous=previous, newest=newest)
