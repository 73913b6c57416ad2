"""The shared retry policy against a real backend: exact attempts, 1-2-4 s backoff, no SDK retries."""

from __future__ import annotations

from typing import Any

import pytest

from tasseograph.llm import (
    Analysis,
    Analyzer,
    InvalidLLMResponse,
    LLMRateLimited,
    LLMUnavailable,
    analyze_with_retries,
)
from tests.llm.conftest import MakeLLM, run
from tests.support import fake_inference as fake
from tests.support.fake_inference import FakeInferenceServer

LINES = ["EDAC MC0: 1 CE memory read error"]


def _retry(analyzer: Analyzer, sleeps: list[float], **kwargs: Any) -> Analysis:
    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    async def go() -> Analysis:
        try:
            return await analyze_with_retries(analyzer, LINES, sleep=sleep, **kwargs)
        finally:
            await analyzer.aclose()

    return run(go())


@pytest.mark.parametrize("provider", ["anthropic", "openai"])
@pytest.mark.parametrize(("replies", "kwargs", "outcome", "requests", "sleeps"), [
    pytest.param([fake.http_error(500)] * 4, {}, LLMUnavailable, 4, [1, 2, 4], id="down-4-attempts"),
    pytest.param([fake.overloaded()] * 2, {}, "ok", 3, [1, 2], id="recovers-on-3rd"),
    pytest.param([fake.http_error(503)] * 3, {"backoff": 0.5, "max_retries": 2}, LLMUnavailable,
                 3, [0.5, 1.0], id="custom-policy"),
    pytest.param([fake.http_error(500)], {"max_retries": 0}, LLMUnavailable, 1, [], id="no-retries"),
    pytest.param([fake.rate_limited(9)], {}, LLMRateLimited, 1, [], id="429-raised-at-once"),
    pytest.param([fake.text("nope")], {}, InvalidLLMResponse, 1, [], id="invalid-raised-at-once"),
    pytest.param([], {}, "ok", 1, [], id="first-try"),
])
def test_analyze_with_retries(make_llm: MakeLLM, fake_llm: FakeInferenceServer, provider: str,
                              replies: list[fake.Reply], kwargs: dict[str, Any], outcome: object,
                              requests: int, sleeps: list[float]) -> None:
    fake_llm.enqueue(*replies)
    slept: list[float] = []
    if outcome == "ok":
        analysis = _retry(make_llm(provider), slept, **kwargs)
        assert analysis.verdict.status == "ok"
    else:
        with pytest.raises(outcome):  # type: ignore[call-overload]
            _retry(make_llm(provider), slept, **kwargs)
    assert len(fake_llm.requests) == requests
    assert slept == sleeps


def test_stalls_are_retried_as_unavailable(make_llm: MakeLLM, fake_llm: FakeInferenceServer) -> None:
    fake_llm.enqueue(fake.stall(1.0))
    slept: list[float] = []
    analysis = _retry(make_llm("openai", timeout=0.2), slept)
    assert analysis.verdict.status == "ok" and slept == [1]
