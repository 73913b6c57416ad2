"""Parse /dev/kmsg records (Documentation/ABI/testing/dev-kmsg) and render them as dmesg -T lines.

A record is ``PRI,SEQ,TS_USEC,FLAGS[,...];message`` followed by optional continuation lines that
start with a space (``KEY=VALUE`` device properties). The kernel escapes non-printable bytes and
backslashes as ``\\xNN``, so a multi-line message arrives as one line holding ``\\x0a``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from itertools import chain
from types import MappingProxyType

_ESCAPE = re.compile(rb"\\x([0-9a-fA-F]{2})")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_NO_FIELDS: Mapping[str, str] = MappingProxyType({})  # shared: most records have no properties


class MalformedRecord(ValueError):
    """A record that does not follow the kmsg format; readers count and skip it."""


@dataclass(frozen=True, slots=True)
class KmsgRecord:
    seq: int
    ts_usec: int
    level: int
    facility: int
    message: str
    fields: Mapping[str, str] = field(default_factory=lambda: _NO_FIELDS)


_SKIPPED = KmsgRecord(seq=-1, ts_usec=0, level=0, facility=0, message="")  # before min_seq


def unescape(data: bytes) -> bytes:
    """Undo the kernel's ``\\xNN`` escaping."""
    if b"\\x" not in data:
        return data
    return _ESCAPE.sub(lambda match: bytes((int(match.group(1), 16),)), data)


def escape(data: bytes) -> bytes:
    """Escape like the kernel does (bytes < 0x20 except none, >= 0x7f, and backslash)."""
    return b"".join(
        b"\\x%02x" % byte if byte < 0x20 or byte >= 0x7F or byte == 0x5C else bytes((byte,))
        for byte in data
    )


def _decode(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


def parse_record(data: bytes) -> KmsgRecord:
    """One record as returned by one read(2) of /dev/kmsg (header, message, continuation lines)."""
    head, sep, rest = data.partition(b";")
    if not sep:
        raise MalformedRecord("no ';' after the record header")
    parts = head.split(b",")
    if len(parts) < 4:
        raise MalformedRecord("record header needs PRI,SEQ,TS_USEC,FLAGS")
    if not all(part.isdigit() for part in parts[:3]):
        raise MalformedRecord("PRI, SEQ and TS_USEC must be decimal numbers")
    pri, seq, ts_usec = int(parts[0]), int(parts[1]), int(parts[2])
    lines = rest.split(b"\n")
    fields: Mapping[str, str] = _NO_FIELDS
    extras = [line for line in lines[1:] if line.startswith(b" ")]
    if extras:
        fields = {}
        for extra in extras:
            key, _, value = extra[1:].partition(b"=")
            fields[_decode(unescape(key))] = _decode(unescape(value))
    return KmsgRecord(seq=seq, ts_usec=ts_usec, level=pri & 7, facility=pri >> 3,
                      message=_decode(unescape(lines[0])), fields=fields)


def iter_records(lines: Iterable[bytes], min_seq: int = 0) -> Iterator[KmsgRecord | None]:
    """Records from the lines of a file-backed kernel log (one record per line, continuation
    lines start with a space); None stands for a malformed record. Never raises.

    Records whose header says seq < ``min_seq`` are skipped unparsed: a tick re-reads the file.
    """
    chunk: list[bytes] = []
    for raw in chain(lines, (b"",)):  # the empty line at the end flushes the last record
        line = raw[:-1] if raw.endswith(b"\n") else raw
        if line.startswith(b" ") and chunk:
            chunk.append(line)
            continue
        if chunk:
            record = _parse_chunk(chunk, min_seq)
            if record is not _SKIPPED:
                yield record
            chunk = []
        if line.strip():
            chunk.append(line)


def _parse_chunk(chunk: list[bytes], min_seq: int) -> KmsgRecord | None:
    if min_seq:
        head = chunk[0].split(b",", 2)
        if len(head) == 3 and head[1].isdigit() and int(head[1]) < min_seq:
            return _SKIPPED
    try:
        return parse_record(chunk[0] if len(chunk) == 1 else b"\n".join(chunk))
    except MalformedRecord:
        return None


def parse_records(data: bytes, min_seq: int = 0) -> tuple[list[KmsgRecord], int]:
    """All records of a file-backed kernel log held in memory, and the malformed count."""
    records: list[KmsgRecord] = []
    malformed = 0
    for record in iter_records(data.split(b"\n"), min_seq):
        if record is None:
            malformed += 1
        else:
            records.append(record)
    return records, malformed


def format_time(epoch: float) -> str:
    """``Mon Feb  3 12:25:01 2026`` in local time, as ``dmesg -T`` prints it."""
    return time.asctime(time.localtime(epoch))


def render(record: KmsgRecord, boot_time: float) -> list[str]:
    """The record as the seed's ``[Mon Feb  3 12:25:01 2026] message`` lines (one per message line)."""
    stamp = format_time(boot_time + record.ts_usec / 1_000_000)
    return [f"[{stamp}] {_CONTROL.sub(_show_control, text)}"
            for text in record.message.rstrip("\n").split("\n")]


def line_count(record: KmsgRecord) -> int:
    """How many lines :func:`render` makes of the record, without rendering it."""
    return record.message.rstrip("\n").count("\n") + 1


def _show_control(match: re.Match[str]) -> str:
    return f"\\x{ord(match.group()):02x}"
