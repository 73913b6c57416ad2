"""The agent against a file-backed kernel log and a real HTTPS stub collector."""

from __future__ import annotations

import json
import logging
import stat
from pathlib import Path

import pytest

from tasseograph.agent.run import Agent
from tests.agent.conftest import API_KEY, BOOT_TIME, Behaviour, FakeKernelLog, StubCollector


def agent(config, now: list[float] | None = None) -> Agent:
    clock = (lambda: now[0]) if now is not None else (lambda: 1_770_000_000.0)
    return Agent(config, clock=clock, boot_time=BOOT_TIME)


def messages(lines: list[str]) -> list[str]:
    return [line.split("] ", 1)[1] for line in lines]


def test_first_run_starts_at_end_then_ships_new_lines_once(
        make_config, kernel_log: FakeKernelLog, collector: StubCollector,
        caplog: pytest.LogCaptureFixture) -> None:
    kernel_log.write("old 1", "old 2")
    config = make_config()
    with caplog.at_level(logging.WARNING, "tasseograph.agent"), agent(config) as first:
        report = first.tick()
    assert report.fresh_start and report.ok and collector.received == []
    assert "current end of the kernel log" in caplog.text

    kernel_log.write("new 1", "new 2")
    with agent(config) as second:
        report = second.tick()
        assert report.sent_lines == 2 and report.http_status == 200
        assert second.tick().sent_lines == 0  # nothing new: no POST
    with agent(config) as third:  # restart: nothing sent twice
        assert third.tick().sent_lines == 0
    assert len(collector.received) == 1
    body = collector.received[0].body
    assert messages(body["lines"]) == ["new 1", "new 2"]
    host_boot = f"host-a:{kernel_log.boot_id}"
    assert body["batch_id"] == f"{host_boot}:2-3"
    assert (body["first_seq"], body["last_seq"], body["boot_id"]) == (2, 3, kernel_log.boot_id)
    assert body["timestamp"].endswith("Z") and body["hostname"] == "host-a"
    assert collector.received[0].headers["Authorization"] == f"Bearer {API_KEY}"


def test_state_file_is_private_and_json(make_config, kernel_log: FakeKernelLog) -> None:
    config = make_config()
    with agent(config) as host:
        host.tick()
    assert stat.S_IMODE(config.state_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(config.state_file.parent.stat().st_mode) == 0o700
    state = json.loads(config.state_file.read_text())
    assert state["boot_id"] == kernel_log.boot_id and state["next_seq"] == 0
    assert not list(config.state_file.parent.glob(".*tmp"))


def test_new_boot_ships_that_boots_lines_from_the_start(
        make_config, kernel_log: FakeKernelLog, collector: StubCollector) -> None:
    kernel_log.write("before reboot")
    config = make_config()
    with agent(config) as host:
        host.tick()
        kernel_log.reboot()
        kernel_log.write("boot line 0", "boot line 1")
        report = host.tick()
    assert report.sent_lines == 2 and report.lost_lines == 0
    assert messages(collector.lines()) == ["boot line 0", "boot line 1"]
    assert collector.received[0].body["batch_id"].endswith(f"{kernel_log.boot_id}:0-1")


def test_corrupt_state_starts_fresh_with_warning(
        make_config, kernel_log: FakeKernelLog, collector: StubCollector,
        caplog: pytest.LogCaptureFixture) -> None:
    kernel_log.write("a", "b")
    config = make_config()
    config.state_file.parent.mkdir(mode=0o700)
    config.state_file.write_text("{not json")
    with caplog.at_level(logging.WARNING, "tasseograph.agent"), agent(config) as host:
        assert host.tick().fresh_start
    assert "corrupt state file" in caplog.text and collector.received == []
    kernel_log.write("c")
    with agent(config) as host:
        assert host.tick().sent_lines == 1
    assert messages(collector.lines()) == ["c"]


def test_ring_buffer_overflow_counts_lost_lines(
        make_config, kernel_log: FakeKernelLog, collector: StubCollector,
        caplog: pytest.LogCaptureFixture) -> None:
    kernel_log.write("x")
    config = make_config()
    with agent(config) as host:
        host.tick()
        kernel_log.write(*[f"burst {i}" for i in range(10)])
        kernel_log.overwrite(7)  # x and burst 0..5 gone; burst 6..9 remain
        with caplog.at_level(logging.WARNING, "tasseograph.agent"):
            report = host.tick()
    assert report.lost_lines == 6 and report.sent_lines == 4
    body = collector.received[0].body
    assert body["lost_lines"] == 6 and (body["first_seq"], body["last_seq"]) == (7, 10)
    assert "overwritten in the ring buffer" in caplog.text


def test_oversized_batch_drops_oldest_lines(
        make_config, kernel_log: FakeKernelLog, collector: StubCollector,
        caplog: pytest.LogCaptureFixture) -> None:
    config = make_config(max_payload_bytes=4096)
    with agent(config) as host:
        host.tick()
        kernel_log.write(*[f"line {i:03d} " + "x" * 100 for i in range(100)])
        with caplog.at_level(logging.WARNING, "tasseograph.agent"):
            report = host.tick()
    body = collector.received[0].body
    sent = messages(body["lines"])
    assert report.truncated_lines == body["truncated_lines"] == 100 - len(sent) > 0
    assert sent[-1].startswith("line 099") and sent[0].startswith(f"line {100 - len(sent):03d}")
    assert len(json.dumps(body, separators=(",", ":")).encode()) <= 4096
    assert "truncated_lines" in caplog.text


@pytest.mark.parametrize(
    "failure",
    [Behaviour(status=500), Behaviour(status=502), Behaviour(status=401), Behaviour(mode="drop")],
    ids=["500", "502", "401", "reply-lost"],
)
def test_failed_send_keeps_batch_and_resends_same_id(
        make_config, kernel_log: FakeKernelLog, collector: StubCollector,
        failure: Behaviour) -> None:
    config = make_config()
    with agent(config) as host:
        host.tick()
        kernel_log.write("one", "two")
        collector.then(failure)
        first = host.tick()
        assert not first.ok and first.sent_lines == 0
        kernel_log.write("three")  # not read until the pending batch is acknowledged
    with agent(config) as restarted:
        again = restarted.tick()
        assert again.ok and again.resent and again.batch_id == first.batch_id
        assert restarted.tick().sent_lines == 1
    ids = [r.body["batch_id"] for r in collector.received]
    assert ids[0] == ids[1] != ids[2]
    assert messages(collector.lines()) == ["one", "two", "three"]


def test_collector_down_then_up_union_is_exactly_the_lines(
        make_config, kernel_log: FakeKernelLog, collector: StubCollector) -> None:
    config = make_config()
    with agent(config) as host:
        host.tick()
        down = make_config(collector_url="https://127.0.0.1:1/ingest")
        with agent(down) as offline:
            kernel_log.write("a", "b")
            assert not offline.tick().ok
            kernel_log.write("c")
            assert not offline.tick().ok
    with agent(config) as host:
        reports = [host.tick() for _ in range(3)]
    assert [r.sent_lines for r in reports] == [2, 1, 0]
    assert messages(collector.lines()) == ["a", "b", "c"]


def test_503_retry_after_is_respected(
        make_config, kernel_log: FakeKernelLog, collector: StubCollector) -> None:
    now = [1_770_000_000.0]
    config = make_config()
    with agent(config, now) as host:
        host.tick()
        kernel_log.write("busy")
        collector.then(Behaviour(status=503, headers={"Retry-After": "120"}))
        report = host.tick()
        assert report.http_status == 503 and report.retry_after == 120
        now[0] += 60
        waiting = host.tick()
        assert waiting.skipped and waiting.retry_after == pytest.approx(60)
        assert len(collector.received) == 1
        now[0] += 61
        assert host.tick().resent
    assert [r.body["batch_id"] for r in collector.received] == [report.batch_id] * 2
    assert messages(collector.lines()) == ["busy"]


def test_userspace_records_are_shipped(
        make_config, kernel_log: FakeKernelLog, collector: StubCollector) -> None:
    with agent(make_config()) as host:
        host.tick()
        kernel_log.write("systemd[1]: Started foo", facility=3)
        kernel_log.write("multi\nline")
        assert host.tick().sent_lines == 3
    assert messages(collector.lines()) == ["systemd[1]: Started foo", "multi", "line"]


def test_unreadable_source_fails_the_tick(make_config, tmp_path: Path) -> None:
    config = make_config(kmsg_path=tmp_path / "missing")
    with agent(config) as host:
        report = host.tick()
    assert not report.ok and "cannot read" in (report.error or "")


def test_dmesg_source_ships_new_lines_once(
        make_config, tmp_path: Path, kernel_log: FakeKernelLog, collector: StubCollector) -> None:
    output = tmp_path / "dmesg.out"
    output.write_text("<6>[    1.000000] early\n<4>[    2.000000] second\n")
    config = make_config(source="dmesg", dmesg_command=["cat", str(output)])
    with agent(config) as host:
        assert host.tick().fresh_start
        with output.open("a") as handle:
            handle.write("<3>[    3.000000] third\n<3>[    3.000000] third again\n")
        report = host.tick()
        assert report.sent_lines == 2 and host.tick().sent_lines == 0
    assert messages(collector.lines()) == ["third", "third again"]
    assert collector.received[0].body["batch_id"].endswith(":0-1")


def test_dmesg_command_failure_is_a_failed_tick(make_config) -> None:
    config = make_config(source="dmesg", dmesg_command=["false"])
    with agent(config) as host:
        report = host.tick()
    assert not report.ok and "exited 1" in (report.error or "")


def test_413_shrinks_the_pending_batch_and_retries(
        make_config, kernel_log: FakeKernelLog, collector: StubCollector) -> None:
    with agent(make_config()) as host:
        host.tick()
        kernel_log.write(*[f"line {i:02d}" for i in range(40)])
        collector.then(Behaviour(status=413))
        first = host.tick()
        second = host.tick()
    assert first.http_status == 413 and not first.ok
    assert second.ok and second.resent and second.batch_id == first.batch_id
    sent = messages(collector.lines())
    assert 0 < len(sent) < 40 and sent[-1] == "line 39"
    assert second.truncated_lines == 40 - len(sent)


def test_state_write_failure_sends_nothing(
        make_config, kernel_log: FakeKernelLog, collector: StubCollector) -> None:
    config = make_config()
    with agent(config) as host:
        host.tick()
        kernel_log.write("cannot persist")
        config.state_file.unlink()
        config.state_file.mkdir()  # rename over a directory fails, even for root
        report = host.tick()
    assert not report.ok and "state file" in (report.error or "") and collector.received == []


def test_many_agents_in_threads_ship_each_line_once(
        make_config, collector: StubCollector, tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    import httpx

    from tasseograph.agent.ship import tls_verify

    logs = [FakeKernelLog(tmp_path / f"host{i}") for i in range(12)]
    shared = httpx.Client(verify=tls_verify(make_config().ca_file, False), timeout=5)
    agents = [Agent(make_config(hostname=f"host-{i}", kmsg_path=log.path,
                                boot_id_path=log.boot_id_path,
                                state_file=tmp_path / f"host{i}" / "state.json"),
                    boot_time=BOOT_TIME, client=shared) for i, log in enumerate(logs)]
    with ThreadPoolExecutor(6) as pool:
        list(pool.map(Agent.tick, agents))
        for round_ in range(3):
            for i, log in enumerate(logs):
                log.write(*[f"host-{i} round {round_} line {n}" for n in range(i % 3 + 1)])
            assert all(report.ok for report in pool.map(Agent.tick, agents))
    for host in agents:
        host.close()
    shared.close()
    sent = messages(collector.lines())
    expected = [f"host-{i} round {r} line {n}" for i in range(12) for r in range(3)
                for n in range(i % 3 + 1)]
    assert sorted(sent) == sorted(expected) and len(sent) == len(set(sent))
