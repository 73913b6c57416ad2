"""One function per figure, each a DuckDB query over the tables ``load`` prepares.

``table`` is ``cur`` (the period) or ``prev`` (the period before it). Percentiles use linear
interpolation between order statistics (DuckDB ``quantile_cont``, the same definition as
``tasseograph.stats.percentile``).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal

from tasseograph.report.model import (
    ByStatus,
    CategoryCount,
    CategoryReviews,
    DayStatus,
    ErrorKind,
    Histogram,
    HostRow,
    Latency,
    PromptReviews,
    ReviewCounts,
    SilentHost,
)
from tasseograph.stats import wilson_interval

if TYPE_CHECKING:
    import duckdb

Table = Literal["cur", "prev"]
FLAGGED = "status IN ('warning', 'critical')"
ANSWERED = "status IN ('ok', 'warning', 'critical')"


def _status_sums(column: str = "status") -> str:
    return ", ".join(f"count({column}) FILTER (WHERE {column} = '{s}') AS {s}"
                     for s in ("ok", "warning", "critical", "error"))


_STATUS_SUMS = _status_sums()
_CATEGORIES = "unnest(json_extract_string(CAST(issues AS VARCHAR), '$[*].category'))"

#: error text → kind, first match wins (messages of tasseograph.llm's errors and httpx's)
ERROR_KINDS: list[tuple[str, re.Pattern[str]]] = [
    ("rate_limited", re.compile(r"rate.?limit|\b429\b", re.I)),
    ("timeout", re.compile(r"timed? ?out|timeout", re.I)),
    ("invalid_response", re.compile(r"invalid|not a valid verdict|reply (is|has)|not json|parse", re.I)),
    ("overloaded", re.compile(r"\b529\b|overload", re.I)),
    ("http_error", re.compile(r"\bHTTP [45]\d\d\b", re.I)),
    ("connection", re.compile(r"connect|refused|unreachable|dns|reset by peer", re.I)),
]


def error_kind(text: str | None) -> str:
    for kind, pattern in ERROR_KINDS:
        if text and pattern.search(text):
            return kind
    return "other"


def _utc(value: datetime | None) -> datetime | None:
    return None if value is None else value.replace(tzinfo=UTC)


def checks(con: duckdb.DuckDBPyConnection, table: Table = "cur") -> int:
    return con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def by_status(con: duckdb.DuckDBPyConnection, table: Table = "cur") -> ByStatus:
    row = con.execute(f"SELECT {_STATUS_SUMS} FROM {table}").fetchone()
    return ByStatus(ok=row[0], warning=row[1], critical=row[2], error=row[3])


def hosts_reporting(con: duckdb.DuckDBPyConnection, table: Table = "cur") -> int:
    return con.execute(f"SELECT count(DISTINCT hostname) FROM {table}").fetchone()[0]


def hosts_known(con: duckdb.DuckDBPyConnection) -> int:
    return con.execute("SELECT count(*) FROM hosts").fetchone()[0]


def silent_hosts(con: duckdb.DuckDBPyConnection, as_of: datetime, silence_s: float) -> list[SilentHost]:
    """Hosts whose newest result is more than ``silence_s`` before ``as_of``, longest silent first."""
    rows = con.execute(
        "SELECT hostname, last_seen FROM hosts WHERE last_seen < ? - to_seconds(?)"
        " ORDER BY last_seen, hostname", [as_of.replace(tzinfo=None), silence_s]).fetchall()
    return [SilentHost(hostname=h, last_seen=_utc(t)) for h, t in rows]


def latency(con: duckdb.DuckDBPyConnection, table: Table = "cur") -> Latency:
    row = con.execute(
        f"SELECT quantile_cont(latency_ms, [0.5, 0.95, 0.99]) FROM {table}"
        f" WHERE {ANSWERED} AND latency_ms IS NOT NULL").fetchone()
    values = row[0] or [None, None, None]
    return Latency(p50=values[0], p95=values[1], p99=values[2])


def latency_histogram(con: duckdb.DuckDBPyConnection, table: Table = "cur", bins: int = 40) -> Histogram:
    """Equal-width bins from 0 to the 99.5th percentile (the long tail folds into the last bin)."""
    top = con.execute(f"SELECT quantile_cont(latency_ms, 0.995) FROM {table}"
                      f" WHERE {ANSWERED} AND latency_ms IS NOT NULL").fetchone()[0]
    if not top:
        return Histogram()
    width = top / bins
    rows = dict(con.execute(
        f"SELECT least(floor(latency_ms / ?)::INTEGER, ?) AS bin, count(*) FROM {table}"
        f" WHERE {ANSWERED} AND latency_ms IS NOT NULL GROUP BY bin", [width, bins - 1]).fetchall())
    return Histogram(edges=[round(i * width, 3) for i in range(bins + 1)],
                     counts=[rows.get(i, 0) for i in range(bins)])


def per_host(con: duckdb.DuckDBPyConnection, table: Table = "cur") -> list[HostRow]:
    """Every known host, busiest first; hosts silent the whole period show zero checks."""
    rows = con.execute(
        f"SELECT h.hostname, count(t.status) AS checks,"
        f" {_status_sums('t.status')},"
        f" h.last_seen FROM hosts h LEFT JOIN {table} t USING (hostname)"
        " GROUP BY h.hostname, h.last_seen ORDER BY checks DESC, h.hostname").fetchall()
    return [HostRow(hostname=r[0], checks=r[1], ok=r[2], warning=r[3], critical=r[4], error=r[5],
                    last_seen=_utc(r[6])) for r in rows]


def top_categories(con: duckdb.DuckDBPyConnection, table: Table = "cur", limit: int = 10
                   ) -> list[CategoryCount]:
    """Flagged results per issue category (a result naming a category twice counts once)."""
    rows = con.execute(
        f"SELECT category, count(DISTINCT id) AS n FROM (SELECT id, {_CATEGORIES} AS category"
        f" FROM {table} WHERE {FLAGGED} AND json_valid(CAST(issues AS VARCHAR))) WHERE category IS NOT NULL"
        " GROUP BY category ORDER BY n DESC, category LIMIT ?", [limit]).fetchall()
    return [CategoryCount(category=c, count=n) for c, n in rows]


def errors_by_kind(con: duckdb.DuckDBPyConnection, table: Table = "cur") -> list[ErrorKind]:
    """Error rows grouped by the kind their error text names, most frequent first."""
    kinds: dict[str, ErrorKind] = {}
    rows = con.execute(f"SELECT error, count(*) FROM {table} WHERE status = 'error'"
                       " GROUP BY error ORDER BY count(*) DESC").fetchall()
    for text, count in rows:
        kind = error_kind(text)
        if kind in kinds:
            kinds[kind].count += count
        else:
            kinds[kind] = ErrorKind(kind=kind, count=count, example=(text or "(no error text)")[:200])
    return sorted(kinds.values(), key=lambda k: (-k.count, k.kind))


def days_with_data(con: duckdb.DuckDBPyConnection, table: Table = "cur") -> int:
    return con.execute(f"SELECT count(DISTINCT CAST(ts AS DATE)) FROM {table}").fetchone()[0]


def status_per_day(con: duckdb.DuckDBPyConnection, table: Table = "cur") -> list[DayStatus]:
    rows = con.execute(f"SELECT strftime(CAST(ts AS DATE), '%Y-%m-%d') AS day, {_STATUS_SUMS}"
                       f" FROM {table} GROUP BY day ORDER BY day").fetchall()
    return [DayStatus(day=r[0], ok=r[1], warning=r[2], critical=r[3], error=r[4]) for r in rows]


def _review_counts(tp: int, fp: int, unsure: int) -> dict:
    judged = tp + fp
    return {"reviewed": tp + fp + unsure, "tp": tp, "fp": fp, "unsure": unsure,
            "fp_rate": fp / judged if judged else None, "fp_rate_ci95": wilson_interval(fp, judged)}


_VERDICT_SUMS = ", ".join(f"count(*) FILTER (WHERE v.verdict = '{v}')" for v in ("tp", "fp", "unsure"))


def reviews(con: duckdb.DuckDBPyConnection, table: Table = "cur") -> ReviewCounts:
    """Latest review of each flagged result in the period; fp_rate = fp / (tp + fp)."""
    row = con.execute(f"SELECT {_VERDICT_SUMS} FROM {table} r JOIN reviews v ON v.result_id = r.id"
                      f" WHERE r.{FLAGGED}").fetchone()
    return ReviewCounts(**_review_counts(*row))


def fp_by_prompt_version(con: duckdb.DuckDBPyConnection, table: Table = "cur") -> list[PromptReviews]:
    rows = con.execute(f"SELECT r.prompt_version, {_VERDICT_SUMS} FROM {table} r"
                       f" JOIN reviews v ON v.result_id = r.id WHERE r.{FLAGGED}"
                       " GROUP BY r.prompt_version ORDER BY r.prompt_version").fetchall()
    return [PromptReviews(prompt_version=r[0], **_review_counts(*r[1:])) for r in rows]


def fp_by_category(con: duckdb.DuckDBPyConnection, table: Table = "cur") -> list[CategoryReviews]:
    rows = con.execute(
        f"SELECT category, {_VERDICT_SUMS} FROM (SELECT id, {_CATEGORIES} AS category FROM {table}"
        f" WHERE {FLAGGED} AND json_valid(CAST(issues AS VARCHAR))) r JOIN reviews v ON v.result_id = r.id"
        " GROUP BY category ORDER BY category").fetchall()
    return [CategoryReviews(category=r[0], **_review_counts(*r[1:])) for r in rows]


def host_noise(con: duckdb.DuckDBPyConnection, table: Table = "cur"):  # -> pd.DataFrame
    """Per host: checks, flagged share and the category it flags most (for the notebook)."""
    return con.execute(
        f"WITH c AS (SELECT hostname, {_CATEGORIES} AS category FROM {table} WHERE {FLAGGED}"
        " AND json_valid(CAST(issues AS VARCHAR))), top AS (SELECT hostname, mode(category) AS top_category FROM c"
        " GROUP BY hostname)"
        f" SELECT hostname, count(*) AS checks, count(*) FILTER (WHERE {FLAGGED}) AS flagged,"
        f" round(count(*) FILTER (WHERE {FLAGGED}) / count(*), 4) AS flagged_share, top_category"
        f" FROM {table} LEFT JOIN top USING (hostname) GROUP BY hostname, top_category"
        " ORDER BY flagged_share DESC, hostname").df()


def categories_per_day(con: duckdb.DuckDBPyConnection, table: Table = "cur"):  # -> pd.DataFrame
    """Flagged results per day and category, wide (one column per category), for the notebook."""
    frame = con.execute(
        f"SELECT CAST(ts AS DATE) AS day, {_CATEGORIES} AS category FROM {table}"
        f" WHERE {FLAGGED} AND json_valid(CAST(issues AS VARCHAR))").df()
    if frame.empty:
        return frame
    return frame.groupby(["day", "category"]).size().unstack(fill_value=0)
