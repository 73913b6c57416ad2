"""Where kernel-log records come from: /dev/kmsg (or a file of kmsg records), else ``dmesg``.

Every source answers one question, :meth:`Source.read`: which records follow the cursor, and
how many were lost (overwritten in the ring buffer) before the agent could read them.
"""

from __future__ import annotations

import logging
import os
import stat
import subprocess
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from tasseograph.agent.dmesg import parse_dmesg_output
from tasseograph.agent.kmsg import (
    KmsgRecord,
    MalformedRecord,
    iter_records,
    line_count,
    parse_record,
)
from tasseograph.agent.state import DmesgMark

log = logging.getLogger("tasseograph.agent")

READ_SIZE = 8192  # larger than the kernel's largest record (CONSOLE_EXT_LOG_MAX)


class SourceError(Exception):
    """The kernel log could not be read this tick (logged; retried next interval)."""


@dataclass
class Delta:
    """Records after the cursor, and where the cursor goes once they are shipped."""

    records: list[KmsgRecord]
    next_seq: int
    lost_lines: int = 0
    malformed: int = 0
    first_seq: int | None = None  # of the first new record, even when it was truncated
    truncated_lines: int = 0  # oldest new lines that cannot fit in ``window_bytes``
    dmesg_mark: DmesgMark | None = None
    notes: list[str] = field(default_factory=list)


class Source(Protocol):
    name: str

    def read(self, start: int | None, mark: DmesgMark | None = None,
             window_bytes: int | None = None) -> Delta:
        """Records with seq >= ``start`` (None: none, just report the current end of the log).

        With ``window_bytes``, the oldest records that certainly cannot fit in a payload of
        that size are dropped while reading (counted as truncated), so memory stays bounded.
        """
        ...

    def close(self) -> None: ...


def _select(records: Iterable[KmsgRecord | None], start: int | None,
            window_bytes: int | None = None) -> Delta:
    """Keep records from ``start`` on (None entries are malformed records); a jump in sequence
    numbers is counted as lost lines. A record costs at least ``len(message)`` bytes in the
    payload, so once the newer records alone reach ``window_bytes`` the oldest is dropped."""
    kept: deque[KmsgRecord] = deque()
    malformed = lost = truncated = kept_cost = 0
    expected = start if start is not None else 0
    first_seq: int | None = None
    last_seq = -1
    for record in records:
        if record is None:
            malformed += 1
            continue
        last_seq = max(last_seq, record.seq)
        if start is None or record.seq < expected:
            continue
        lost += record.seq - expected
        expected = record.seq + 1
        if first_seq is None:
            first_seq = record.seq
        kept.append(record)
        kept_cost += len(record.message)
        if window_bytes is not None:
            while len(kept) > 1 and kept_cost - len(kept[0].message) >= window_bytes:
                oldest = kept.popleft()
                kept_cost -= len(oldest.message)
                truncated += line_count(oldest)
    if start is None:
        return Delta(records=[], next_seq=last_seq + 1, malformed=malformed)
    return Delta(records=list(kept), next_seq=expected, lost_lines=lost, malformed=malformed,
                 first_seq=first_seq, truncated_lines=truncated)


class KmsgSource:
    """/dev/kmsg, or a regular file holding kmsg records one per line (the file-backed stand-in).

    On the device the file descriptor stays open between reads, so a tick reads only the new
    records; it is reopened (back to the oldest record) when the cursor moves behind it.
    """

    name = "kmsg"

    def __init__(self, path: Path):
        self.path = Path(path)
        self._fd: int | None = None
        self._fd_next = 0  # sequence number the open descriptor will return next

    def read(self, start: int | None, mark: DmesgMark | None = None,
             window_bytes: int | None = None) -> Delta:
        try:
            mode = os.stat(self.path).st_mode
        except OSError as exc:
            raise SourceError(f"cannot read {self.path}: {exc.strerror}") from None
        if stat.S_ISCHR(mode):
            return self._read_device(start, window_bytes)
        try:
            with open(self.path, "rb") as handle:  # streamed: a 16 MiB log is never held whole
                return _select(iter_records(handle, min_seq=start or 0), start, window_bytes)
        except OSError as exc:
            raise SourceError(f"cannot read {self.path}: {exc.strerror}") from None

    def _read_device(self, start: int | None, window_bytes: int | None) -> Delta:
        if self._fd is None or start is None or start < self._fd_next:
            self.close()
            try:
                self._fd = os.open(self.path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
            except OSError as exc:
                raise SourceError(f"cannot open {self.path}: {exc.strerror}") from None
            self._fd_next = 0
        return _select(self._device_records(start), start, window_bytes)

    def _device_records(self, start: int | None) -> Iterator[KmsgRecord | None]:
        """One record per read(2) until EAGAIN; None for a malformed record."""
        assert self._fd is not None
        while True:
            try:
                data = os.read(self._fd, READ_SIZE)
            except BlockingIOError:
                return  # EAGAIN: no more records for now
            except BrokenPipeError:
                continue  # EPIPE: records overwritten under us; the seq gap counts them
            except OSError as exc:
                # EINVAL (a record larger than the buffer) would repeat forever: give up this tick
                self.close()
                raise SourceError(f"cannot read {self.path}: {exc.strerror}") from None
            if not data:
                return
            try:
                record = parse_record(data)
            except MalformedRecord:
                yield None
                continue
            self._fd_next = record.seq + 1
            if start is None or record.seq >= start:
                yield record

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


class DmesgSource:
    """The ``dmesg`` command, for hosts where /dev/kmsg cannot be read.

    dmesg prints no sequence numbers, so the cursor is the last shipped record (timestamp and
    digest of its text): everything after it is new. When that record has been overwritten,
    records newer than its timestamp are shipped and a possible loss is logged, with
    ``lost_lines`` left at 0 because the count is unknown. Sequence numbers in batch ids are
    the agent's own count of lines shipped this boot.
    """

    name = "dmesg"

    def __init__(self, command: list[str], timeout: float = 30.0):
        self.command = command
        self.timeout = timeout

    def read(self, start: int | None, mark: DmesgMark | None = None,
             window_bytes: int | None = None) -> Delta:
        try:
            result = subprocess.run(self.command, capture_output=True, timeout=self.timeout,
                                    check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise SourceError(f"{' '.join(self.command)} failed: {exc}") from None
        if result.returncode != 0:
            detail = result.stderr.decode("utf-8", "replace").strip().splitlines()[:1]
            raise SourceError(f"{' '.join(self.command)} exited {result.returncode}"
                              + (f": {detail[0]}" if detail else ""))
        found, orphans = parse_dmesg_output(result.stdout)
        last = DmesgMark(ts_usec=found[-1].ts_usec, digest=found[-1].digest) if found else mark
        if start is None:
            return Delta(records=[], next_seq=0, malformed=orphans, dmesg_mark=last)
        new = found
        notes: list[str] = []
        if mark is not None:
            position = next((i for i, rec in enumerate(found) if rec.digest == mark.digest), None)
            if position is not None:
                new = found[position + 1:]
            else:
                new = [rec for rec in found if rec.ts_usec > mark.ts_usec]
                if new and len(new) == len(found):
                    notes.append("the last shipped line is no longer in the kernel log: "
                                 "lines may have been lost (count unknown with the dmesg source)")
        records = [KmsgRecord(seq=start + i, ts_usec=rec.ts_usec, level=rec.level,
                              facility=rec.facility, message=rec.message)
                   for i, rec in enumerate(new)]
        return Delta(records=records, next_seq=start + len(records), malformed=orphans,
                     first_seq=start if records else None, dmesg_mark=last, notes=notes)

    def close(self) -> None:
        pass


def open_source(kind: str, kmsg_path: Path, dmesg_command: list[str]) -> Source:
    """``auto`` picks /dev/kmsg when it can be opened for reading, else the dmesg command."""
    if kind == "kmsg":
        return KmsgSource(kmsg_path)
    if kind == "dmesg":
        return DmesgSource(dmesg_command)
    try:
        os.close(os.open(kmsg_path, os.O_RDONLY | os.O_NONBLOCK))
    except OSError as exc:
        log.info("%s not readable (%s): using %s", kmsg_path, exc.strerror, " ".join(dmesg_command))
        return DmesgSource(dmesg_command)
    return KmsgSource(kmsg_path)


def read_boot_id(path: Path) -> str:
    """This boot's id (/proc/sys/kernel/random/boot_id); 'unknown' when it cannot be read."""
    try:
        return Path(path).read_text(encoding="utf-8").strip() or "unknown"
    except OSError:
        return "unknown"
