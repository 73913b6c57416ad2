"""The ingest policy, independent of HTTP: exactly once, the seed's failure table, concurrency.

- Exactly once: a batch_id with a stored verdict is answered from the DB (``duplicate``) with
  no LLM call; two copies arriving together share one in-flight task. A batch whose analysis
  failed (error row, 500/502/503) is analyzed again when the agent resends it.
- Failures (seed table): LLM down → ``max_retries`` further attempts with doubling backoff,
  then an error row and 502; rate limited → 503 with Retry-After and a process-wide gate (no
  LLM call for anyone until then); invalid reply → error row with the raw reply, 500.
- At most ``llm_max_concurrency`` LLM calls at once; backoff sleeps do not hold a slot.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Sequence
from functools import partial

from tasseograph.collector.store import ResultStore, error_row, verdict_row
from tasseograph.config import CollectorConfig
from tasseograph.llm import (
    Analysis,
    Analyzer,
    InvalidLLMResponse,
    LLMRateLimited,
    LLMUnavailable,
    Usage,
    analyze_with_retries,
)
from tasseograph.protocol import IngestPayload, IngestReply

log = logging.getLogger("tasseograph.collector")


class IngestError(Exception):
    """A refusal with its HTTP status; ``retry_after`` (seconds) only for 503."""

    def __init__(self, status_code: int, message: str, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message
        self.retry_after = retry_after


class RateLimitGate:
    """After a 429, no LLM call for anyone until the provider's Retry-After has passed."""

    def __init__(self) -> None:
        self._until = 0.0

    def remaining(self) -> float:
        return max(0.0, self._until - time.monotonic())

    def block(self, seconds: float) -> None:
        self._until = max(self._until, time.monotonic() + seconds)


class GatedAnalyzer:
    """An Analyzer that takes a concurrency slot and honours the gate for every attempt."""

    def __init__(self, inner: Analyzer, gate: RateLimitGate, slots: asyncio.Semaphore) -> None:
        self.inner = inner
        self.gate = gate
        self.slots = slots
        self.backend, self.model, self.prompt_version = inner.backend, inner.model, inner.prompt_version

    async def analyze(self, lines: Sequence[str]) -> Analysis:
        async with self.slots:
            # checked after the wait for a slot: a 429 may have arrived meanwhile
            wait = self.gate.remaining()
            if wait > 0:
                raise LLMRateLimited("waiting for the LLM's Retry-After", wait)
            try:
                return await self.inner.analyze(lines)
            except LLMRateLimited as exc:
                self.gate.block(exc.retry_after)
                log.warning("event=llm_rate_limited retry_after_s=%.3g", exc.retry_after)
                raise

    async def aclose(self) -> None:
        await self.inner.aclose()


class IngestService:
    def __init__(self, config: CollectorConfig, analyzer: Analyzer, store: ResultStore) -> None:
        self.config = config
        self.store = store
        self.gate = RateLimitGate()
        self.llm = GatedAnalyzer(analyzer, self.gate, asyncio.Semaphore(config.llm_max_concurrency))
        self._inflight: dict[str, asyncio.Task[IngestReply]] = {}

    async def ingest(self, payload: IngestPayload) -> IngestReply:
        """The reply for a push, or :class:`IngestError` carrying the status to answer."""
        batch_id = payload.batch_id
        if batch_id is None:  # an old agent: nothing to deduplicate on
            return await self._analyze_and_store(payload)
        task = self._inflight.get(batch_id)
        if task is not None:  # the same batch is being analyzed right now: share its outcome
            reply = await asyncio.shield(task)
            return reply.model_copy(update={"duplicate": True})
        # registered before the first await, so a concurrent copy always finds it
        task = asyncio.ensure_future(self._once(payload, batch_id))
        self._inflight[batch_id] = task
        task.add_done_callback(partial(self._finished, batch_id))
        # shielded: a client that disconnects does not cancel the analysis others wait for
        return await asyncio.shield(task)

    def _finished(self, batch_id: str, task: asyncio.Task[IngestReply]) -> None:
        if self._inflight.get(batch_id) is task:
            del self._inflight[batch_id]
        if not task.cancelled():
            task.exception()  # retrieved here, so an unwatched failure is not reported twice

    async def _once(self, payload: IngestPayload, batch_id: str) -> IngestReply:
        stored = await self.store.lookup(batch_id)
        if stored is not None:
            return stored
        return await self._analyze_and_store(payload)

    async def _analyze_and_store(self, payload: IngestPayload) -> IngestReply:
        started = time.perf_counter()
        try:
            analysis = await analyze_with_retries(
                self.llm, payload.lines, max_retries=self.config.max_retries,
                backoff=self.config.retry_backoff)
        except LLMRateLimited as exc:
            retry_after = max(1, math.ceil(exc.retry_after))
            raise IngestError(503, f"LLM rate limited: retry after {retry_after} s",
                              retry_after=retry_after) from None
        except LLMUnavailable as exc:
            attempts = self.config.max_retries + 1
            row_id = await self._store_error(payload, started, f"LLM unavailable after {attempts} "
                                                               f"attempts: {exc}")
            raise IngestError(502, f"LLM unavailable after {attempts} attempts "
                                   f"(error row {row_id})") from None
        except InvalidLLMResponse as exc:
            row_id = await self._store_error(payload, started, f"invalid LLM response: {exc}",
                                             raw_response=exc.raw, usage=exc.usage,
                                             model=exc.model or self.llm.model)
            raise IngestError(500, f"invalid LLM response (raw reply stored in row {row_id})") from None
        row_id = await self.store.insert(verdict_row(payload, analysis))
        if row_id is None:  # another writer stored this batch first (e.g. a second process)
            stored = await self.store.lookup(payload.batch_id or "")
            if stored is not None:
                return stored
            raise IngestError(500, "verdict could not be stored")
        return IngestReply(id=row_id, status=analysis.verdict.status.value,
                           issues=analysis.verdict.issues, duplicate=False)

    async def _store_error(self, payload: IngestPayload, started: float, error: str, *,
                           model: str | None = None, raw_response: str | None = None,
                           usage: Usage | None = None) -> int | None:
        latency_ms = round((time.perf_counter() - started) * 1000)
        row = error_row(payload, error, backend=self.llm.backend, model=model or self.llm.model,
                        prompt_version=self.llm.prompt_version, latency_ms=latency_ms,
                        raw_response=raw_response, usage=usage)
        row_id = await self.store.insert(row)
        log.error("event=check_failed host=%s batch=%s row=%s error=%r", payload.hostname,
                  payload.batch_id, row_id, error[:300])
        return row_id

    async def aclose(self) -> None:
        """Close the analyzer (its HTTP client) and the store, after in-flight work ended."""
        if self._inflight:
            await asyncio.gather(*self._inflight.values(), return_exceptions=True)
        await self.llm.aclose()
        self.store.close()
