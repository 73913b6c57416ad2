"""The one small interface every backend implements, and the errors it may raise.

Backends do not retry: the caller (collector, eval runner) owns the retry policy, so the
number of attempts is exact and visible.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from pydantic import BaseModel, Field

from tasseograph.protocol import Verdict


class Usage(BaseModel):
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0


class Analysis(BaseModel):
    """A validated verdict and everything needed to account for how it was obtained."""

    verdict: Verdict
    raw_response: str
    backend: str
    model: str
    prompt_version: str  # NAME@VERSION#hash8
    usage: Usage = Field(default_factory=Usage)
    latency_ms: int = 0
    cost_usd: float = 0.0


class LLMError(Exception):
    """Base of everything an analyzer raises on purpose."""


class LLMUnavailable(LLMError):
    """Connection error, timeout, 5xx or 529: worth retrying with backoff."""

    def __init__(self, message: str, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code


class LLMRateLimited(LLMError):
    """429: the provider asked us to wait ``retry_after`` seconds."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class InvalidLLMResponse(LLMError):
    """The reply could not be parsed or is not a valid verdict; ``raw`` keeps it for debugging."""

    def __init__(self, message: str, raw: str, usage: Usage | None = None,
                 model: str = "", prompt_version: str = "") -> None:
        super().__init__(message)
        self.raw = raw
        self.usage = usage or Usage()
        self.model = model
        self.prompt_version = prompt_version


@runtime_checkable
class Analyzer(Protocol):
    backend: str
    model: str
    prompt_version: str

    async def analyze(self, lines: Sequence[str]) -> Analysis: ...

    async def aclose(self) -> None: ...
