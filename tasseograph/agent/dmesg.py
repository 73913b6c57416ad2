"""Parse ``dmesg --raw`` output, the fallback when /dev/kmsg cannot be read.

Lines look like ``<PRI>[  SECONDS.MICROS] message``; a line without that prefix continues the
previous record. dmesg prints no sequence numbers: the source (source.py) finds its place by
the last shipped record's timestamp and digest instead.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

_LINE = re.compile(rb"^<(\d{1,4})>(?:\[\s*(\d+)(?:\.(\d{1,9}))?\]\s?)?(.*)$")


@dataclass(frozen=True, slots=True)
class DmesgRecord:
    ts_usec: int
    level: int
    facility: int
    message: str

    @property
    def digest(self) -> str:
        """Identifies the record among its neighbours (timestamp, priority and text)."""
        text = f"{self.ts_usec}|{self.facility}|{self.level}|{self.message}"
        return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _usec(seconds: bytes | None, fraction: bytes | None) -> int:
    if seconds is None:
        return 0
    micros = int((fraction or b"0").ljust(6, b"0")[:6])
    return int(seconds) * 1_000_000 + micros


def parse_dmesg_output(data: bytes) -> tuple[list[DmesgRecord], int]:
    """Records and the number of lines that fit no record (text before the first prefix)."""
    records: list[DmesgRecord] = []
    orphans = 0
    for raw in data.split(b"\n"):
        match = _LINE.match(raw)
        if match:
            pri = int(match.group(1))
            records.append(DmesgRecord(ts_usec=_usec(match.group(2), match.group(3)),
                                       level=pri & 7, facility=pri >> 3,
                                       message=match.group(4).decode("utf-8", "replace")))
        elif records and raw:
            last = records[-1]
            records[-1] = DmesgRecord(last.ts_usec, last.level, last.facility,
                                      last.message + "\n" + raw.decode("utf-8", "replace"))
        elif raw.strip():
            orphans += 1
    return records, orphans
