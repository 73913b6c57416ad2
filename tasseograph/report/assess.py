"""Assemble the weekly assessment from the figures in ``queries``: the ``Report`` model."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from tasseograph.report import queries as q
from tasseograph.report.load import Loaded, load, newest_timestamp, open_readonly
from tasseograph.report.model import (
    Change,
    Criterion,
    ErrorKind,
    Hosts,
    PeriodInfo,
    Report,
    ReviewCounts,
    WeekOverWeek,
)
from tasseograph.report.periods import Period, choose_period

DEFAULT_POLL_INTERVAL_S = 300.0
SILENT_AFTER_INTERVALS = 3
WEEK_DAYS = 7


def newest_in(path: str | Path) -> datetime | None:
    connection = open_readonly(path)
    try:
        return newest_timestamp(connection)
    finally:
        connection.close()


def open_period(path: str | Path, *, week: str | None = None, since: str | None = None,
                until: str | None = None) -> Loaded:
    """Load the data for the period the CLI flags name (default: the week of the newest result).

    ValueError for bad flags, DatabaseUnreadable for a bad file. The notebook starts here too.
    """
    newest = newest_in(path)
    return load(path, choose_period(week, since, until, newest))


def _as_of(period: Period, newest: datetime | None) -> datetime:
    """Silence is judged at the period's end, or earlier if the data (or today) stop before it."""
    return min(period.end, newest or period.end, datetime.now(UTC))


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _change(current: float | None, previous: float | None) -> Change:
    delta = None if current is None or previous is None else current - previous
    return Change(current=current, previous=previous, change=delta)


def _info(period: Period, newest: datetime | None) -> PeriodInfo:
    return PeriodInfo(start=period.start, end=period.end, label=period.label,
                      as_of=_as_of(period, newest))


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f} %"


def _criteria(hosts: Hosts, checks: int, errors: int, kinds: list[ErrorKind], days: int,
              reviews: ReviewCounts, silence_s: float) -> list[Criterion]:
    """The seed's Phase 1 success criteria, each answered with the figures behind it."""
    if hosts.silent:
        names = ", ".join(f"{h.hostname} (last seen {h.last_seen:%Y-%m-%d %H:%M}Z)" for h in hosts.silent[:10])
        more = f" and {len(hosts.silent) - 10} more" if len(hosts.silent) > 10 else ""
        reporting = f"no: {len(hosts.silent)} of {hosts.known} hosts silent for more than {silence_s / 60:g} min: {names}{more}"
    else:
        reporting = f"yes: all {hosts.known} known hosts reported within {silence_s / 60:g} min"
    by_kind = ", ".join(f"{k.kind} {k.count}" for k in kinds)
    processing = (f"error rate {_pct(_rate(errors, checks))} ({errors} of {checks} checks)"
                  + (f": {by_kind}" if by_kind else ""))
    judged = reviews.tp + reviews.fp
    if judged:
        lo, hi = reviews.fp_rate_ci95
        fp = (f"FP rate {_pct(reviews.fp_rate)} (95 % CI {_pct(lo)}–{_pct(hi)}) from {judged} judged"
              f" reviews ({reviews.fp} fp, {reviews.tp} tp; {reviews.unsure} unsure)")
    else:
        fp = f"not yet: no tp/fp reviews in the period ({reviews.unsure} unsure); run `tasseograph review`"
    return [
        Criterion(name="all_hosts_reporting", met=hosts.known > 0 and not hosts.silent,
                  answer=reporting if hosts.known else "no hosts have reported"),
        Criterion(name="processing_without_errors", met=checks > 0 and errors == 0, answer=processing),
        Criterion(name="one_week_of_data", met=days >= WEEK_DAYS,
                  answer=f"{days} day(s) with data in the period (criterion: {WEEK_DAYS})"),
        Criterion(name="fp_rate_assessed", met=True if judged else None, answer=fp),
    ]


def build_report(data: Loaded, database: str,
                 poll_interval_s: float = DEFAULT_POLL_INTERVAL_S) -> Report:
    con, period = data.con, data.period
    info = _info(period, data.newest)
    silence_s = SILENT_AFTER_INTERVALS * poll_interval_s
    hosts = Hosts(reporting=q.hosts_reporting(con), known=q.hosts_known(con),
                  silent=q.silent_hosts(con, info.as_of, silence_s))
    checks, by_status = q.checks(con), q.by_status(con)
    kinds, reviews, days = q.errors_by_kind(con), q.reviews(con), q.days_with_data(con)
    error_rate = _rate(by_status.error, checks)
    week_over_week = None
    previous_checks = q.checks(con, "prev")
    if checks and previous_checks:
        previous_status, previous_reviews = q.by_status(con, "prev"), q.reviews(con, "prev")
        week_over_week = WeekOverWeek(
            previous_period=_info(data.previous, data.newest),
            checks=_change(checks, previous_checks),
            hosts_reporting=_change(hosts.reporting, q.hosts_reporting(con, "prev")),
            warning=_change(by_status.warning, previous_status.warning),
            critical=_change(by_status.critical, previous_status.critical),
            error_rate=_change(error_rate, _rate(previous_status.error, previous_checks)),
            fp_rate=_change(reviews.fp_rate, previous_reviews.fp_rate),
        )
    message = None
    if not checks:
        message = ("the database has no results yet" if data.newest is None else
                   f"no results in {period.label} ({period.start:%Y-%m-%d %H:%M}Z to "
                   f"{period.end:%Y-%m-%d %H:%M}Z); newest result {data.newest:%Y-%m-%d %H:%M}Z")
    return Report(
        database=database, empty=not checks, message=message, period=info, hosts=hosts,
        checks=checks, by_status=by_status, error_rate=error_rate, errors_by_kind=kinds,
        latency_ms=q.latency(con), reviews=reviews, fp_rate_by_prompt_version=q.fp_by_prompt_version(con),
        per_host=q.per_host(con), top_categories=q.top_categories(con), days_with_data=days,
        status_per_day=q.status_per_day(con), latency_histogram=q.latency_histogram(con),
        week_over_week=week_over_week,
        success_criteria=_criteria(hosts, checks, by_status.error, kinds, days, reviews, silence_s),
    )


def assess(path: str | Path, *, week: str | None = None, since: str | None = None,
           until: str | None = None, poll_interval_s: float = DEFAULT_POLL_INTERVAL_S) -> Report:
    """The whole report for the database at ``path``."""
    data = open_period(path, week=week, since=since, until=until)
    try:
        return build_report(data, str(path), poll_interval_s)
    finally:
        data.con.close()
