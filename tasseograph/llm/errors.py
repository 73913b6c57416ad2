"""HTTP failure → the analyzer errors the collector maps to 502/503 (one table, both backends)."""

from __future__ import annotations

import time
from collections.abc import Mapping

from tasseograph.llm._base import LLMError, LLMRateLimited, LLMUnavailable
from tasseograph.protocol import parse_retry_after

DEFAULT_RETRY_AFTER = 1.0


def retry_after_seconds(headers: Mapping[str, str], default: float = DEFAULT_RETRY_AFTER) -> float:
    """``retry-after-ms``, then ``retry-after`` as seconds or an HTTP date; else ``default``."""
    lowered = {k.lower(): v for k, v in headers.items()}
    try:
        if "retry-after-ms" in lowered:
            return max(0.0, float(lowered["retry-after-ms"]) / 1000)
    except ValueError:
        pass
    seconds = parse_retry_after(lowered.get("retry-after"), time.time())
    return default if seconds is None else seconds


def error_for_status(status: int, headers: Mapping[str, str], detail: str) -> LLMError:
    """429 → rate limited; every other failure status → unavailable, with the status kept.

    4xx other than 429 (bad key, unknown model) also count as unavailable: the endpoint
    refuses us, which the collector reports as 502, and the status code says why.
    """
    if status == 429:
        return LLMRateLimited(f"rate limited (HTTP 429): {detail}", retry_after_seconds(headers))
    return LLMUnavailable(f"HTTP {status}: {detail}", status_code=status)
