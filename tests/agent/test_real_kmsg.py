"""This machine's real /dev/kmsg: read it when readable, and as root ship a marker line."""

from __future__ import annotations

import itertools
import os
import shutil
import uuid
from pathlib import Path

import pytest

from tasseograph.agent.run import Agent
from tasseograph.agent.source import DmesgSource, KmsgSource, SourceError
from tests.agent.conftest import StubCollector

KMSG = Path("/dev/kmsg")


def _readable() -> bool:
    try:
        os.close(os.open(KMSG, os.O_RDONLY | os.O_NONBLOCK))
    except OSError:
        return False
    return True


pytestmark = pytest.mark.skipif(not _readable(), reason="/dev/kmsg is not readable here")


def test_reads_the_real_device_with_increasing_sequence_numbers() -> None:
    source = KmsgSource(KMSG)
    try:
        delta = source.read(0)
        end = source.read(None)
    finally:
        source.close()
    seqs = [record.seq for record in delta.records]
    assert seqs and seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    assert delta.lost_lines == seqs[0] + sum(b - a - 1 for a, b in itertools.pairwise(seqs))
    assert end.next_seq >= seqs[-1] + 1 and end.records == []


@pytest.mark.needs_root
def test_ships_a_marker_written_to_dev_kmsg(make_config, collector: StubCollector) -> None:
    if os.geteuid() != 0:
        pytest.skip("writing to /dev/kmsg needs root")
    marker = f"tasseograph-test {uuid.uuid4()}"
    config = make_config(kmsg_path=KMSG, boot_id_path=Path("/proc/sys/kernel/random/boot_id"))
    with Agent(config) as host:
        assert host.tick().fresh_start
        try:
            with open(KMSG, "w") as kmsg:
                kmsg.write(f"<4>{marker}\n")
        except OSError as exc:
            pytest.skip(f"cannot write to /dev/kmsg: {exc}")
        report = host.tick()
    assert report.ok and report.sent_lines >= 1
    shipped = [line for line in collector.lines() if marker in line]
    assert len(shipped) == 1 and shipped[0].startswith("[") and shipped[0].endswith(f"] {marker}")


def test_real_dmesg_output_parses_like_the_device() -> None:
    if shutil.which("dmesg") is None:
        pytest.skip("no dmesg command")
    dmesg = DmesgSource(["dmesg", "--raw"])
    try:
        delta = dmesg.read(0)
    except SourceError as exc:
        pytest.skip(f"dmesg not permitted here: {exc}")
    device = KmsgSource(KMSG)
    try:
        kmsg = device.read(0)
    finally:
        device.close()
    assert delta.records and delta.malformed == 0
    # the device may have gained a record or two between the reads
    assert abs(len(delta.records) - len(kmsg.records)) <= 5
    assert [r.seq for r in delta.records] == list(range(len(delta.records)))


@pytest.mark.needs_root
def test_dmesg_source_ships_a_marker(make_config, collector: StubCollector) -> None:
    if os.geteuid() != 0 or shutil.which("dmesg") is None:
        pytest.skip("needs root and the dmesg command")
    marker = f"tasseograph-test dmesg {uuid.uuid4()}"
    config = make_config(source="dmesg", dmesg_command=["dmesg", "--raw"],
                         boot_id_path=Path("/proc/sys/kernel/random/boot_id"))
    with Agent(config) as host:
        assert host.tick().fresh_start
        with open(KMSG, "w") as kmsg:
            kmsg.write(f"<4>{marker}\n")
        report = host.tick()
        assert report.ok and host.tick().sent_lines == 0
    assert [line for line in collector.lines() if marker in line] != []
    assert len([line for line in collector.lines() if marker in line]) == 1
