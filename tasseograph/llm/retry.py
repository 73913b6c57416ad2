"""The seed's retry policy, in one place for the collector and the eval runner.

Up to ``max_retries`` further attempts after the first, on LLMUnavailable only, sleeping
``backoff``, ``2*backoff``, ``4*backoff`` … between them (1 s, 2 s, 4 s by default). A rate limit
or an invalid reply is raised at once: the caller decides what those mean.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence

from tasseograph.llm._base import Analysis, Analyzer, LLMUnavailable

Sleep = Callable[[float], Awaitable[None]]


async def analyze_with_retries(
    analyzer: Analyzer,
    lines: Sequence[str],
    *,
    max_retries: int = 3,
    backoff: float = 1.0,
    sleep: Sleep = asyncio.sleep,
) -> Analysis:
    for attempt in range(max_retries + 1):
        try:
            return await analyzer.analyze(lines)
        except LLMUnavailable:
            if attempt == max_retries:
                raise
            await sleep(backoff * 2**attempt)
    raise AssertionError("unreachable")  # the loop always returns or raises
