"""Report periods: ISO weeks start Monday 00:00 UTC; date ranges include their last day."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tasseograph.report.periods import between, choose_period, parse_week


@pytest.mark.parametrize(("week", "start", "end"), [
    ("2026-W06", "2026-02-02", "2026-02-09"),
    ("2026-W01", "2025-12-29", "2026-01-05"),  # ISO week 1 starts in the previous year
    ("2026-W53", "2026-12-28", "2027-01-04"),  # 2026 has 53 ISO weeks
])
def test_parse_week(week: str, start: str, end: str) -> None:
    period = parse_week(week)
    assert period.start == datetime.fromisoformat(start).replace(tzinfo=UTC)
    assert period.end == datetime.fromisoformat(end).replace(tzinfo=UTC)
    assert period.label == week and period.start.isoweekday() == 1


@pytest.mark.parametrize("text", ["2025-W53", "2026-W00", "2026W06", "W06"])
def test_bad_weeks(text: str) -> None:
    with pytest.raises(ValueError):
        parse_week(text)


def test_previous_of_a_week_is_the_iso_week_before() -> None:
    assert parse_week("2026-W01").previous().label == "2025-W52"


def test_range_includes_the_until_day_and_takes_offsets() -> None:
    period = between("2026-02-02", "2026-02-03")
    assert (period.end - period.start).days == 2
    assert between("2026-02-02T10:00:00+02:00", "2026-02-02T12:00").start == datetime(2026, 2, 2, 8, tzinfo=UTC)
    assert period.previous().end == period.start


def test_default_is_the_week_of_the_newest_result() -> None:
    newest = datetime(2026, 2, 8, 23, 59, 59, tzinfo=UTC)  # a Sunday
    assert choose_period(None, None, None, newest).label == "2026-W06"
