"""The wire helpers every component shares."""

from __future__ import annotations

import pytest

from tasseograph.protocol import parse_retry_after

NOW = 1445412470.0  # 2015-10-21 07:27:50 UTC


@pytest.mark.parametrize("value, expected", [
    ("120", 120.0),
    (" 7 ", 7.0),
    ("1.5", 1.5),
    ("-5", 0.0),
    ("Wed, 21 Oct 2015 07:28:00 GMT", 10.0),
    ("Wed, 21 Oct 2015 07:28:00 -0000", 10.0),  # a zone-less date is UTC
    ("Wed, 21 Oct 2015 07:27:00 GMT", 0.0),  # already past
    ("inf", None),
    ("nan", None),
    ("soon", None),
    ("", None),
    (None, None),
])
def test_retry_after_as_seconds_or_http_date(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value, NOW) == expected
