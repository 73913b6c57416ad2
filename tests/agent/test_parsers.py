"""The kmsg record parser, the file-backed log parser and the dmesg output parser."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tasseograph.agent.dmesg import parse_dmesg_output
from tasseograph.agent.kmsg import (
    KmsgRecord,
    MalformedRecord,
    escape,
    parse_record,
    parse_records,
    render,
    unescape,
)

# Records as this machine's /dev/kmsg returned them (one read(2) each).
REAL = [
    b"5,0,0,-;Linux version 6.18.44-fc-v1252 (builder@sandboxing) #1 SMP PREEMPT_DYNAMIC @0\n",
    b"12,339,1031557476,-;tasseograph-probe a\\x5ctb \\x5c\\x5c c\n",
    b"12,340,1031634369,-;probe2 line1\\x0aline2 \\xc3\\xa9 \\x01 \\x5c end\n",
    b"6,341,1485205867,-;TCP: request_sock_TCP: Possible SYN flooding on port 127.0.0.1:46515.\n",
    b"3,1200,5000000,-,caller=T1;sd 0:0:0:0: [sda] tag#0 FAILED Result\n"
    b" SUBSYSTEM=scsi\n DEVICE=+scsi:0:0:0:0\n",
]


@pytest.mark.parametrize(
    ("raw", "seq", "ts_usec", "level", "facility", "message", "fields"),
    [
        (REAL[0], 0, 0, 5, 0, "Linux version 6.18.44-fc-v1252 (builder@sandboxing) #1 SMP "
         "PREEMPT_DYNAMIC @0", {}),
        (REAL[1], 339, 1031557476, 4, 1, "tasseograph-probe a\\tb \\\\ c", {}),
        (REAL[2], 340, 1031634369, 4, 1, "probe2 line1\nline2 é \x01 \\ end", {}),
        (REAL[4], 1200, 5000000, 3, 0, "sd 0:0:0:0: [sda] tag#0 FAILED Result",
         {"SUBSYSTEM": "scsi", "DEVICE": "+scsi:0:0:0:0"}),
        (b"30,7,12,c;systemd[1]: started", 7, 12, 6, 3, "systemd[1]: started", {}),
        (b"6,8,9,-;bad utf8 \\xff here", 8, 9, 6, 0, "bad utf8 \ufffd here", {}),
    ],
)
def test_parse_record(raw: bytes, seq: int, ts_usec: int, level: int, facility: int,
                      message: str, fields: dict[str, str]) -> None:
    assert parse_record(raw) == KmsgRecord(seq, ts_usec, level, facility, message, fields)


@pytest.mark.parametrize("raw", [b"", b"no header at all", b"6,1,2;too few", b"6,x,2,-;nan",
                                 b"-6,1,2,-;negative", b"6,1;", b"\xff\xfe;"])
def test_malformed_records_raise(raw: bytes) -> None:
    with pytest.raises(MalformedRecord):
        parse_record(raw)


def test_file_log_continuations_and_malformed_count() -> None:
    data = (b"6,1,10,-;first\n SUBSYSTEM=pci\n DEVICE=+pci:0000:00:1f.2\n"
            b"garbage line\n"
            b"4,2,20,-;second\\x0awith a second line\n\n"
            b"6,3,30,-;third\n")
    records, malformed = parse_records(data)
    assert [r.seq for r in records] == [1, 2, 3]
    assert records[0].fields == {"SUBSYSTEM": "pci", "DEVICE": "+pci:0000:00:1f.2"}
    assert malformed == 1


def test_file_log_skips_records_before_min_seq_unparsed() -> None:
    data = b"6,1,10,-;one\n SUBSYSTEM=x\n6,2,20,-;two\nbroken\n6,3,30,-;three\n"
    records, malformed = parse_records(data, min_seq=2)
    assert [r.message for r in records] == ["two", "three"] and malformed == 1


def test_render_splits_multiline_and_shows_control_bytes() -> None:
    record = parse_record(REAL[2])
    lines = render(record, boot_time=0.0)
    assert len(lines) == 2
    assert lines[0].endswith("] probe2 line1")
    assert lines[1].endswith("] line2 é \\x01 \\ end")
    assert lines[0].startswith("[") and lines[0][25] == "]"  # [Www Mmm dd hh:mm:ss yyyy]


def test_render_uses_boot_time_plus_monotonic_stamp(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "UTC")
    import time

    time.tzset()
    try:
        record = KmsgRecord(seq=1, ts_usec=61_000_000, level=6, facility=0, message="EDAC MC0")
        # 2026-02-03 12:24:00 UTC + 61 s
        assert render(record, boot_time=1_770_121_440.0) == ["[Tue Feb  3 12:25:01 2026] EDAC MC0"]
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()


@pytest.mark.parametrize(
    ("output", "expected", "orphans"),
    [
        (b"<6>[    0.000000] Linux version 6.1\n<12>[ 1031.557476] user line\n",
         [(0, 6, 0, "Linux version 6.1"), (1031557476, 4, 1, "user line")], 0),
        (b"<3>[   5.5] disk error\n  continued here\n", [(5500000, 3, 0,
                                                          "disk error\n  continued here")], 0),
        (b"stray text\n<6>no timestamp\n", [(0, 6, 0, "no timestamp")], 1),
        (b"", [], 0),
    ],
)
def test_parse_dmesg_output(output: bytes, expected: list[tuple], orphans: int) -> None:
    records, skipped = parse_dmesg_output(output)
    assert [(r.ts_usec, r.level, r.facility, r.message) for r in records] == expected
    assert skipped == orphans


@given(st.binary(max_size=300))
def test_parsers_never_raise_on_arbitrary_bytes(data: bytes) -> None:
    with contextlib.suppress(MalformedRecord):
        parse_record(data)
    records, malformed = parse_records(data)
    assert malformed >= 0 and all(r.seq >= 0 for r in records)
    parse_dmesg_output(data)
    for record in records:
        render(record, boot_time=0.0)


@given(st.binary(max_size=200))
def test_escape_round_trip(data: bytes) -> None:
    escaped = escape(data)
    assert b"\n" not in escaped
    assert unescape(escaped) == data
    record = parse_record(b"6,1,2,-;" + escaped + b"\n")
    assert record.message == data.decode("utf-8", "replace")


@pytest.mark.parametrize(
    ("start", "window", "kept", "first_seq", "lost", "truncated", "next_seq"),
    [
        (None, None, [], None, 0, 0, 9),  # fresh start: nothing, cursor at the end
        (0, None, [0, 1, 5, 8], 0, 3 + 2, 0, 9),  # seq jumps 1->5 and 5->8 are lost lines
        (5, None, [5, 8], 5, 2, 0, 9),
        (9, None, [], None, 0, 0, 9),
        (0, 25, [5, 8], 0, 5, 3, 9),  # records 0 and 1 (two lines) cannot fit: 3 lines
    ],
)
def test_select_counts_lost_and_truncated(start: int | None, window: int | None, kept: list[int],
                                          first_seq: int | None, lost: int, truncated: int,
                                          next_seq: int) -> None:
    from tasseograph.agent.source import _select

    def record(seq: int, text: str) -> KmsgRecord:
        return KmsgRecord(seq=seq, ts_usec=seq, level=6, facility=0, message=text)

    records = [record(0, "x" * 10), record(1, "two\nlines"), None, record(5, "y" * 20),
               record(8, "z" * 10)]
    delta = _select(records, start, window)
    assert [r.seq for r in delta.records] == kept
    assert (delta.first_seq, delta.lost_lines, delta.truncated_lines, delta.next_seq) == (
        first_seq, lost, truncated, next_seq)
    assert delta.malformed == 1
