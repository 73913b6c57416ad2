"""The agent: one :meth:`Agent.tick` reads the new kernel-log records and ships them exactly once.

Order of a tick: honour a 503's Retry-After; resend the pending batch if there is one (same
batch_id, nothing new is read until it is acknowledged); else read the records after the
cursor, persist them as the pending batch, POST, and on a 2xx move the cursor and clear it.
"""

from __future__ import annotations

import logging
import random
import socket
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

import httpx
from pydantic import BaseModel
from pydantic_core import to_json

from tasseograph.agent.kmsg import line_count, render
from tasseograph.agent.ship import Shipper, encode, tls_verify
from tasseograph.agent.source import Delta, Source, SourceError, open_source, read_boot_id
from tasseograph.agent.state import AgentState, PendingBatch, StateStore
from tasseograph.config import AgentConfig
from tasseograph.protocol import IngestPayload

log = logging.getLogger("tasseograph.agent")


class TickReport(BaseModel):
    """What one tick did; ``ok`` is False only when a send or a read failed."""

    ok: bool = True
    sent_lines: int = 0
    batch_id: str | None = None
    http_status: int | None = None
    lost_lines: int = 0
    truncated_lines: int = 0
    resent: bool = False
    retry_after: float | None = None  # seconds still to wait before the next POST
    skipped: bool = False  # waiting out a Retry-After
    fresh_start: bool = False  # no usable state: cursor set to the end of the log
    error: str | None = None


def system_boot_time() -> float:
    """Epoch seconds at boot, as ``dmesg -T`` computes it (now minus CLOCK_BOOTTIME)."""
    return time.time() - time.clock_gettime(time.CLOCK_BOOTTIME)


class Agent:
    """One host's agent. ``tick()`` is complete in itself and safe to call from any thread."""

    def __init__(self, config: AgentConfig, *, clock: Callable[[], float] = time.time,
                 boot_time: Callable[[], float] | float | None = None,
                 source: Source | None = None, client: httpx.Client | None = None,
                 rng: random.Random | None = None):
        self.config = config
        self.hostname = config.hostname or socket.gethostname()
        self._clock = clock
        self._boot_time = boot_time if boot_time is not None else system_boot_time
        self._source = source or open_source(config.source, config.kmsg_path,
                                             config.dmesg_command)
        verify = tls_verify(config.ca_file, config.tls_skip_verify) if client is None else True
        self._shipper = Shipper(config.collector_url, config.api_key,
                                timeout=config.request_timeout, verify=verify, client=client)
        self._store = StateStore(config.state_file)
        self._state: AgentState | None = None
        self._loaded = False
        self._retry_at = 0.0
        self._lock = threading.Lock()
        self._rng = rng or random.Random()

    # -- one tick ---------------------------------------------------------------------------

    def tick(self) -> TickReport:
        with self._lock:
            try:
                return self._tick()
            except OSError as exc:  # the state file could not be written: nothing was lost
                log.error("cannot write state file %s: %s", self.config.state_file, exc)
                return TickReport(ok=False, error=f"state file: {exc}")

    def _tick(self) -> TickReport:
        now = self._clock()
        if now < self._retry_at:
            return TickReport(skipped=True, retry_after=self._retry_at - now)
        if not self._loaded:
            self._state = self._store.load()
            self._loaded = True
        state = self._state
        if state is not None and state.source != self._source.name:
            log.warning("state was written by the %s source, now reading %s: starting at "
                        "the current end of the kernel log", state.source, self._source.name)
            state = self._state = None
        if state is not None and state.pending is not None:
            return self._send(state, state.pending, resent=True)
        return self._read_and_send(state, now)

    def _read_and_send(self, state: AgentState | None, now: float) -> TickReport:
        boot_id = read_boot_id(self.config.boot_id_path)
        same_boot = state is not None and state.boot_id == boot_id
        if state is not None and not same_boot:
            log.info("new boot %s (was %s): shipping this boot's log from its first line",
                     boot_id, state.boot_id)
        start = None if state is None else (state.next_seq if same_boot else 0)
        mark = state.dmesg_mark if state is not None and same_boot else None
        try:
            delta = self._source.read(start, mark, window_bytes=self.config.max_payload_bytes)
        except SourceError as exc:
            log.error("%s; retrying next interval", exc)
            return TickReport(ok=False, error=str(exc))
        for note in delta.notes:
            log.warning("%s", note)
        if delta.malformed:
            log.warning("skipped %d malformed kernel-log record(s)", delta.malformed)
        if delta.lost_lines:
            log.warning("%d kernel-log line(s) were overwritten in the ring buffer before they "
                        "could be read (lost_lines)", delta.lost_lines)
        if state is None:
            self._save(AgentState(source=self._source.name, boot_id=boot_id,
                                  next_seq=delta.next_seq, dmesg_mark=delta.dmesg_mark))
            log.warning("starting at the current end of the kernel log (seq %d); earlier lines "
                        "are not sent", delta.next_seq)
            return TickReport(fresh_start=True)
        if not delta.records and not delta.lost_lines:
            log.debug("no new kernel-log lines")
            if (not same_boot or delta.next_seq != state.next_seq
                    or delta.dmesg_mark != state.dmesg_mark):
                self._save(AgentState(source=self._source.name, boot_id=boot_id,
                                      next_seq=delta.next_seq, dmesg_mark=delta.dmesg_mark))
            return TickReport()
        pending = self._batch(delta, boot_id, start or 0, now)
        new_state = AgentState(source=self._source.name, boot_id=boot_id,
                               next_seq=state.next_seq if same_boot else 0,
                               dmesg_mark=mark, pending=pending)
        self._save(new_state)  # persisted before sending: a crash resends this batch_id
        return self._send(new_state, pending, resent=False)

    def _batch(self, delta: Delta, boot_id: str, start: int, now: float) -> PendingBatch:
        first_seq = delta.first_seq if delta.first_seq is not None else start
        last_seq = delta.records[-1].seq if delta.records else max(start, delta.next_seq - 1)
        payload = IngestPayload(
            hostname=self.hostname,
            timestamp=datetime.fromtimestamp(int(now), UTC),
            lines=[],
            batch_id=f"{self.hostname}:{boot_id}:{first_seq}-{last_seq}",
            boot_id=boot_id, first_seq=first_seq, last_seq=last_seq,
            lost_lines=delta.lost_lines,
        )
        budget = self.config.max_payload_bytes - len(encode(payload)) - 32  # room for counters
        lines, truncated = self._newest_lines(delta, budget)
        truncated += delta.truncated_lines
        payload = fit(payload.model_copy(update={"lines": lines, "truncated_lines": truncated}),
                      self.config.max_payload_bytes)
        if payload.truncated_lines:
            log.warning("batch %s over max_payload_bytes (%d): dropped the %d oldest line(s) "
                        "(truncated_lines)", payload.batch_id, self.config.max_payload_bytes,
                        payload.truncated_lines)
        return PendingBatch(payload=payload, next_seq=delta.next_seq, dmesg_mark=delta.dmesg_mark)

    def _newest_lines(self, delta: Delta, budget: int) -> tuple[list[str], int]:
        """Render from the newest record back until the byte budget is spent (seed: the oldest
        lines are the ones dropped), so a 16 MiB backlog never renders what it cannot send."""
        boot_time = self._boot_time() if callable(self._boot_time) else self._boot_time
        newest_first: list[str] = []
        records = delta.records
        for index in range(len(records) - 1, -1, -1):
            rendered = render(records[index], boot_time)
            for position in range(len(rendered) - 1, -1, -1):
                cost = len(to_json(rendered[position])) + 1
                if cost > budget:
                    dropped = position + 1 + sum(line_count(r) for r in records[:index])
                    return newest_first[::-1], dropped
                budget -= cost
                newest_first.append(rendered[position])
        return newest_first[::-1], 0

    def _send(self, state: AgentState, pending: PendingBatch, *, resent: bool) -> TickReport:
        payload = pending.payload
        result = self._shipper.send(payload, self._clock())
        report = TickReport(ok=result.ok, batch_id=payload.batch_id, http_status=result.status,
                            lost_lines=payload.lost_lines, truncated_lines=payload.truncated_lines,
                            resent=resent)
        if result.ok:
            self._save(AgentState(source=state.source, boot_id=payload.boot_id or state.boot_id,
                                  next_seq=pending.next_seq, dmesg_mark=pending.dmesg_mark))
            report.sent_lines = len(payload.lines)
            log.info("sent %d line(s) as %s%s", len(payload.lines), payload.batch_id,
                     " (resent)" if resent else "")
            return report
        report.error = result.error or f"HTTP {result.status}"
        if result.status == 413 and len(payload.lines) > 1:
            # the collector's limit is below ours: nothing was stored, so shrink and retry
            smaller = fit(payload, len(encode(payload)) // 2)
            self._save(state.model_copy(update={
                "pending": pending.model_copy(update={"payload": smaller})}))
            log.warning("HTTP 413: batch %s too large for the collector; dropped its %d oldest "
                        "line(s) (truncated_lines) and will retry", payload.batch_id,
                        smaller.truncated_lines - payload.truncated_lines)
            return report
        what = f"HTTP {result.status}" if result.status is not None else "collector unreachable"
        if result.retry_after is not None:
            self._retry_at = self._clock() + result.retry_after
            report.retry_after = result.retry_after
            log.warning("%s (%s): collector asks to retry after %.0f s; batch %s kept", what,
                        report.error, result.retry_after, payload.batch_id)
        else:
            log.error("%s (%s): batch %s kept, resent next interval", what, report.error,
                      payload.batch_id)
        return report

    def _save(self, state: AgentState) -> None:
        self._store.save(state)
        self._state = state

    # -- the loop ---------------------------------------------------------------------------

    def initial_delay(self) -> float:
        """Random start offset so a fleet's agents don't all POST in the same second."""
        ceiling = self.config.initial_delay_max
        if ceiling < 0:
            ceiling = self.config.poll_interval
        return self._rng.uniform(0, ceiling) if ceiling > 0 else 0.0

    def run_forever(self, stop: threading.Event) -> None:
        """Tick every poll_interval until ``stop`` is set (a tick is never interrupted)."""
        delay = self.initial_delay()
        log.info("agent for %s started: source %s, posting to %s every %.0f s (first in %.0f s)",
                 self.hostname, self._source.name, self.config.collector_url,
                 self.config.poll_interval, delay)
        if stop.wait(delay):
            return
        while not stop.is_set():
            started = time.monotonic()
            try:
                self.tick()
            except Exception:  # a bug must not kill the service loop; logged in full
                log.exception("tick failed")
            elapsed = time.monotonic() - started
            if stop.wait(max(0.0, self.config.poll_interval - elapsed)):
                break
        log.info("agent stopped")

    def close(self) -> None:
        self._source.close()
        self._shipper.close()

    def __enter__(self) -> Agent:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def fit(payload: IngestPayload, max_bytes: int) -> IngestPayload:
    """Drop the oldest lines until the encoded payload fits in ``max_bytes`` (seed rule)."""
    size = len(encode(payload))
    if size <= max_bytes:
        return payload
    lines = payload.lines
    costs = [len(to_json(line)) + 1 for line in lines]
    drop, freed = 0, 0
    while drop < len(lines) and freed < size - max_bytes:
        freed += costs[drop]
        drop += 1
    while True:
        trimmed = payload.model_copy(update={"lines": lines[drop:],
                                             "truncated_lines": payload.truncated_lines + drop})
        if len(encode(trimmed)) <= max_bytes or drop >= len(lines):
            return trimmed
        drop += 1
