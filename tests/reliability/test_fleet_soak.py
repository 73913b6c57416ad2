"""The fleet soak: real agents against a real collector over HTTPS, every line exactly once.

Bounded by default (50 agents × 5 ticks); ``-m slow`` runs 200 × 12. ``make bench`` runs 600.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import fake_inference as fi
from tests.support.collector import API_KEY, fake_llm_overrides
from tests.support.fleet import Fleet


@pytest.fixture
def make_fleet(tmp_path: Path) -> Iterator:
    fleets: list[Fleet] = []

    def make(collector, size: int, **kwargs) -> Fleet:
        fleet = Fleet(tmp_path / "fleet", collector.ingest_url, collector.config.tls_cert, size,
                      API_KEY, **kwargs)
        fleets.append(fleet)
        fleet.tick()  # no state yet: every agent starts at the current end of its log
        return fleet

    yield make
    for fleet in fleets:
        fleet.close()


@pytest.mark.parametrize("agents, ticks", [
    pytest.param(50, 5, id="50x5"),
    pytest.param(200, 12, id="200x12", marks=pytest.mark.slow),
])
def test_every_line_is_stored_exactly_once(collector_factory, make_fleet, fake_llm, agents: int,
                                           ticks: int) -> None:
    collector = collector_factory(**fake_llm_overrides(fake_llm.base_url, "anthropic"),
                                  llm_max_concurrency=8)
    fleet = make_fleet(collector, agents)
    for _ in range(ticks):
        fleet.write(max_lines=6)
        reports = fleet.tick()
        assert all(report.ok for report in reports), [r.error for r in reports if not r.ok][:3]
    fleet.drain()
    audit = fleet.audit(collector.config.db_path)
    assert audit.written > agents  # the soak really sent something
    assert audit.exactly_once and audit.missing == 0, audit
    assert audit.error_rows == 0, audit
    assert len(fake_llm.requests_to("/v1/messages")) == audit.batches  # one LLM call per batch


FAULTS = {
    "500": lambda: fi.http_error(500),
    "529": fi.overloaded,
    "garbage": lambda: fi.text("I think the kernel is fine, probably."),
    "invalid-verdict": fi.invalid_verdict,
    "stall": lambda: fi.stall(1.5),
    "429": lambda: fi.rate_limited(retry_after=1),
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_llm_fault_burst_then_recovery(collector_factory, make_fleet, fake_llm, fault: str) -> None:
    """During the burst the collector answers per the seed's table; afterwards all lines land once."""
    collector = collector_factory(**fake_llm_overrides(fake_llm.base_url), llm_timeout=0.5,
                                  retry_backoff=0.01)
    fleet = make_fleet(collector, 12)
    fleet.write(max_lines=3)
    assert all(r.ok for r in fleet.tick())
    fake_llm.default = FAULTS[fault]()
    fleet.write(max_lines=3)
    during = fleet.tick()
    expected = {"500": 502, "529": 502, "stall": 502, "garbage": 500, "invalid-verdict": 500,
                "429": 503}[fault]
    statuses = {r.http_status for r in during if r.batch_id}
    assert statuses == {expected}, statuses
    assert fleet.pending() > 0  # the agents kept their lines
    fake_llm.default = fi.verdict(fi.OK_VERDICT)
    fleet.write(max_lines=3)
    fleet.drain(max_ticks=30, pause=0.2)
    audit = fleet.audit(collector.config.db_path)
    assert audit.exactly_once and audit.missing == 0, audit
    if fault == "429":  # rate limiting stores nothing: the batch is simply retried later
        assert audit.error_rows == 0
    else:  # every failed attempt left an error row with its reason; the retry got a verdict
        assert audit.error_rows > 0


def test_reboots_and_ring_buffer_overflow_are_accounted(collector_factory, make_fleet) -> None:
    """A reboot ships the new boot from its first line; overwritten lines are reported as lost."""
    collector = collector_factory()
    fleet = make_fleet(collector, 6)
    fleet.write(max_lines=4)
    fleet.tick()
    rebooted, overflowed = fleet.hosts[0], fleet.hosts[1]
    rebooted.log.reboot()
    rebooted.write([f"reboot line {n}" for n in range(5)])
    already_shipped = overflowed.log.next_seq  # records in its log, all sent by the first tick
    overflowed.write([f"burst line {n}" for n in range(50)])
    overflowed.log.overwrite_oldest(already_shipped + 20)  # the ring wrapped: 20 unread lines gone
    fleet.write(max_lines=4)
    fleet.drain()
    audit = fleet.audit(collector.config.db_path)
    assert audit.duplicated == 0 and audit.unexpected == 0, audit
    assert audit.lost_reported == 20 and audit.missing == 20, audit
    db_boots = {row["boot_id"] for row in _rows(collector, rebooted.name)}
    assert rebooted.log.boot_id in db_boots and len(db_boots) == 2


def _rows(collector, hostname: str) -> list:
    from tests.support.collector import rows

    return [r for r in rows(collector) if r["hostname"] == hostname]
