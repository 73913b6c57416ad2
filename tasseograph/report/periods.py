"""Report periods: ISO weeks (Monday 00:00 UTC) or explicit dates, always half-open [start, end)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

from pydantic import BaseModel

_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


class Period(BaseModel):
    """A half-open UTC interval; ``label`` is what the report calls it (``2026-W06``)."""

    start: datetime
    end: datetime
    label: str
    iso_week: bool = False

    def previous(self) -> Period:
        """The period of the same length just before this one (for week-over-week)."""
        start = self.start - (self.end - self.start)
        if self.iso_week:
            return iso_week_period(start.date())
        return Period(start=start, end=self.start, label=f"{start:%Y-%m-%d}..{self.start:%Y-%m-%d}")


def iso_week_period(day: date) -> Period:
    """The ISO week containing ``day``."""
    monday = day - timedelta(days=day.isoweekday() - 1)
    start = datetime.combine(monday, time(), tzinfo=UTC)
    year, week, _ = monday.isocalendar()
    return Period(start=start, end=start + timedelta(days=7), label=f"{year}-W{week:02d}",
                  iso_week=True)


def parse_week(text: str) -> Period:
    """``YYYY-Www`` → that ISO week; ValueError with a readable message otherwise."""
    match = _WEEK.match(text.strip())
    if not match:
        raise ValueError(f"--week must look like 2026-W06, got {text!r}")
    year, week = int(match[1]), int(match[2])
    try:
        monday = date.fromisocalendar(year, week, 1)
    except ValueError:
        raise ValueError(f"{text!r} is not an ISO week of {year}") from None
    return iso_week_period(monday)


def parse_instant(text: str, *, end_of_day: bool = False) -> datetime:
    """A date (``2026-02-03``) or an ISO datetime; naive means UTC.

    A bare date used as an end is inclusive: ``--until 2026-02-08`` covers that whole day.
    """
    text = text.strip()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            moment = datetime.combine(day, time(), tzinfo=UTC)
            return moment + timedelta(days=1) if end_of_day else moment
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"not a date or ISO datetime: {text!r}") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def between(since: str, until: str) -> Period:
    start, end = parse_instant(since), parse_instant(until, end_of_day=True)
    if end <= start:
        raise ValueError("--until must be after --since")
    return Period(start=start, end=end, label=f"{start:%Y-%m-%d}..{end:%Y-%m-%d}")


def choose_period(week: str | None, since: str | None, until: str | None,
                  newest: datetime | None) -> Period:
    """The CLI's rule: --week, or --since/--until, else the ISO week holding the newest result."""
    if week and (since or until):
        raise ValueError("give either --week or --since/--until, not both")
    if week:
        return parse_week(week)
    if since or until:
        if not (since and until):
            raise ValueError("--since and --until go together")
        return between(since, until)
    return iso_week_period((newest or datetime.now(UTC)).astimezone(UTC).date())
