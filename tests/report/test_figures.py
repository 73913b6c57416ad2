"""Report figures against numbers computed independently (stdlib sqlite3 + plain Python)."""

from __future__ import annotations

import json
import math
import statistics
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tasseograph.report.assess import assess
from tasseograph.report.model import Report
from tasseograph.report.synthetic import Summary

from .conftest import plain

W05 = datetime(2026, 1, 26, tzinfo=UTC)
W06 = W05 + timedelta(days=7)
W07 = W06 + timedelta(days=7)


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


class Expected:
    """Every figure recomputed from the raw rows, for the period [start, end)."""

    def __init__(self, path: Path, start: datetime, end: datetime) -> None:
        db = plain(path)
        everything = db.execute("SELECT * FROM results").fetchall()
        self.rows = [r for r in everything if start <= _when(r["timestamp"]) < end]
        latest: dict[int, str] = {}
        for review in db.execute("SELECT * FROM reviews ORDER BY id"):
            latest[review["result_id"]] = review["verdict"]
        self.latest_review = latest
        self.last_seen: dict[str, datetime] = {}
        for r in everything:
            moment = _when(r["timestamp"])
            if moment < end and moment > self.last_seen.get(r["hostname"], datetime.min.replace(tzinfo=UTC)):
                self.last_seen[r["hostname"]] = moment
        self.newest = max(_when(r["timestamp"]) for r in everything)
        self.end = end

    def by_status(self) -> dict[str, int]:
        counts = Counter(r["status"] for r in self.rows)
        return {s: counts.get(s, 0) for s in ("ok", "warning", "critical", "error")}

    def flagged(self) -> list:
        return [r for r in self.rows if r["status"] in ("warning", "critical")]

    def verdicts(self, rows=None) -> Counter:
        return Counter(self.latest_review[r["id"]] for r in (rows or self.flagged())
                       if r["id"] in self.latest_review)

    def silent(self) -> list[str]:
        as_of = min(self.end, self.newest)
        return sorted(h for h, t in self.last_seen.items() if (as_of - t).total_seconds() > 900)


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """The textbook formula, written out again here on purpose."""
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


@pytest.fixture(scope="module")
def w06(two_weeks: tuple[Path, Summary]) -> tuple[Report, Expected]:
    path, _ = two_weeks
    return assess(path, week="2026-W06"), Expected(path, W06, W07)


def test_default_period_is_the_week_of_the_newest_result(two_weeks, w06) -> None:
    report, _ = w06
    default = assess(two_weeks[0])
    assert (default.period.start, default.period.end) == (W06, W07)
    assert default.checks == report.checks


def test_counts_and_rates(w06) -> None:
    report, expected = w06
    assert report.checks == len(expected.rows) > 0
    assert report.by_status.model_dump() == expected.by_status()
    assert report.error_rate == pytest.approx(expected.by_status()["error"] / len(expected.rows))
    assert report.days_with_data == len({_when(r["timestamp"]).date() for r in expected.rows}) == 7
    assert report.hosts.reporting == len({r["hostname"] for r in expected.rows})


def test_status_mix_is_realistic(w06) -> None:
    report, _ = w06
    assert 0.93 < report.by_status.ok / report.checks < 0.99
    assert min(report.by_status.warning, report.by_status.critical, report.by_status.error) > 0


def test_silent_hosts_with_last_seen(two_weeks, w06) -> None:
    report, expected = w06
    silent = [h.hostname for h in report.hosts.silent]
    assert sorted(silent) == expected.silent()
    assert two_weeks[1].silent_host in silent
    for host in report.hosts.silent:
        assert host.last_seen == expected.last_seen[host.hostname]
    assert report.success_criteria[0].met is False
    assert two_weeks[1].silent_host in report.success_criteria[0].answer


def test_poll_interval_changes_the_silence_threshold(two_weeks) -> None:
    # the silent host has been dark 6 hours: silent at 5 min polls, not at 3 h polls (9 h)
    assert assess(two_weeks[0], week="2026-W06", poll_interval_s=3 * 3600).hosts.silent == []


def test_latency_percentiles(w06) -> None:
    report, expected = w06
    values = [r["api_latency_ms"] for r in expected.rows
              if r["status"] != "error" and r["api_latency_ms"] is not None]
    cuts = statistics.quantiles(values, n=100, method="inclusive")  # linear interpolation
    assert report.latency_ms.p50 == pytest.approx(cuts[49])
    assert report.latency_ms.p95 == pytest.approx(cuts[94])
    assert report.latency_ms.p99 == pytest.approx(cuts[98])
    assert sum(report.latency_histogram.counts) == len(values)


def test_percentile_method_is_linear_interpolation(make_db) -> None:
    rows = [(f"2026-02-0{3 + i}T10:00:00Z", "h1", "ok", ms) for i, ms in enumerate([400, 100, 300, 200])]
    rows.append(("2026-02-03T11:00:00Z", "h1", "error", 99999))  # errors' latency is not counted
    latency = assess(make_db(rows)).latency_ms
    # positions (n-1)*q over the sorted [100, 200, 300, 400]: 1.5, 2.85, 2.97
    assert (latency.p50, latency.p95, latency.p99) == pytest.approx((250.0, 385.0, 397.0))


def test_per_host(w06) -> None:
    report, expected = w06
    counts: dict[str, Counter] = defaultdict(Counter)
    for r in expected.rows:
        counts[r["hostname"]][r["status"]] += 1
    assert len(report.per_host) == len(expected.last_seen)
    for host in report.per_host:
        c = counts[host.hostname]
        assert (host.checks, host.ok, host.warning, host.critical, host.error) == (
            sum(c.values()), c["ok"], c["warning"], c["critical"], c["error"])
        assert host.last_seen == expected.last_seen[host.hostname]


def test_top_categories(w06) -> None:
    report, expected = w06
    counts = Counter(c for r in expected.flagged() for c in {i["category"] for i in json.loads(r["issues"])})
    assert {c.category: c.count for c in report.top_categories} == dict(counts.most_common(10))
    assert [c.count for c in report.top_categories] == sorted((c.count for c in report.top_categories), reverse=True)


def test_reviews_and_wilson_interval(w06) -> None:
    report, expected = w06
    verdicts = expected.verdicts()
    tp, fp = verdicts["tp"], verdicts["fp"]
    assert (report.reviews.tp, report.reviews.fp, report.reviews.unsure) == (tp, fp, verdicts["unsure"])
    assert report.reviews.reviewed == sum(verdicts.values())
    assert report.reviews.fp_rate == pytest.approx(fp / (tp + fp))
    assert report.reviews.fp_rate_ci95 == pytest.approx(wilson(fp, tp + fp))
    lo, hi = report.reviews.fp_rate_ci95
    assert lo < report.reviews.fp_rate < hi


def test_fp_rate_by_prompt_version(two_weeks) -> None:
    # the generator switches prompt versions half-way: both weeks together hold both
    report = assess(two_weeks[0], since="2026-01-26", until="2026-02-08")
    expected = Expected(two_weeks[0], W05, W07)
    by_prompt = {p.prompt_version: p for p in report.fp_rate_by_prompt_version}
    assert len(by_prompt) == 2
    assert sum(p.reviewed for p in by_prompt.values()) == report.reviews.reviewed
    for version, figures in by_prompt.items():
        verdicts = expected.verdicts([r for r in expected.flagged() if r["prompt_version"] == version])
        assert (figures.tp, figures.fp, figures.unsure) == (verdicts["tp"], verdicts["fp"], verdicts["unsure"])


def test_errors_by_kind(w06) -> None:
    report, expected = w06
    assert sum(k.count for k in report.errors_by_kind) == expected.by_status()["error"]
    texts = Counter(r["error"] for r in expected.rows if r["status"] == "error")
    kinds = {k.kind: k.count for k in report.errors_by_kind}
    assert kinds["timeout"] == sum(n for t, n in texts.items() if "timed out" in t)
    assert kinds["rate_limited"] == sum(n for t, n in texts.items() if "429" in t)
    assert len(kinds) >= 3


def test_week_over_week(two_weeks, w06) -> None:
    report, _ = w06
    previous = Expected(two_weeks[0], W05, W06)
    wow = report.week_over_week
    assert wow is not None and wow.previous_period.label == "2026-W05"
    assert wow.checks.previous == len(previous.rows)
    assert wow.checks.change == report.checks - len(previous.rows)
    assert wow.critical.previous == previous.by_status()["critical"]
    assert assess(two_weeks[0], week="2026-W05").week_over_week is None  # nothing before W05


def test_since_until_covers_whole_days(two_weeks) -> None:
    path = two_weeks[0]
    report = assess(path, since="2026-02-02", until="2026-02-03")
    assert report.checks == len(Expected(path, W06, W06 + timedelta(days=2)).rows)
    assert report.days_with_data == 2


@pytest.mark.parametrize(("week", "expected_hosts"), [
    ("2026-W06", {"sunday-late", "offset-sunday"}),
    ("2026-W07", {"monday-midnight"}),
])
def test_week_boundaries(make_db, week: str, expected_hosts: set[str]) -> None:
    path = make_db([
        ("2026-02-08T23:59:59Z", "sunday-late", "ok", 10),
        ("2026-02-09T00:00:00Z", "monday-midnight", "ok", 10),
        ("2026-02-09T00:30:00+01:00", "offset-sunday", "ok", 10),  # 23:30 UTC on Sunday
    ])
    report = assess(path, week=week)
    assert {h.hostname for h in report.per_host if h.checks} == expected_hosts
    assert report.checks == len(expected_hosts)


def test_empty_database(make_db) -> None:
    report = assess(make_db([]))
    assert report.empty and report.checks == 0 and report.error_rate is None
    assert "no results" in report.message
    assert report.reviews.fp_rate is None and report.reviews.fp_rate_ci95 == (0.0, 1.0)


def test_week_without_data(two_weeks) -> None:
    report = assess(two_weeks[0], week="2025-W40")
    assert report.empty and report.checks == 0
    assert "no results in 2025-W40" in report.message


def test_host_seen_only_in_earlier_weeks_is_silent(make_db) -> None:
    path = make_db([
        ("2026-01-12T08:00:00Z", "long-gone", "ok", 10),
        ("2026-02-08T23:58:00Z", "alive", "ok", 10),
    ])
    report = assess(path, week="2026-W06")
    assert [(h.hostname, h.last_seen) for h in report.hosts.silent] == [
        ("long-gone", datetime(2026, 1, 12, 8, tzinfo=UTC))]
    assert {h.hostname: h.checks for h in report.per_host} == {"alive": 1, "long-gone": 0}
    assert (report.hosts.reporting, report.hosts.known) == (1, 2)
