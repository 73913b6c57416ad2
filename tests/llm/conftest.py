"""Helpers for the LLM-layer tests: analyzers pointed at the fake inference server."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import pytest

from tasseograph.llm import Analyzer, AnalyzerSettings, make_analyzer
from tests.support.fake_inference import FakeInferenceServer

T = TypeVar("T")

MODELS = {"anthropic": "claude-haiku-4-5", "openai": "qwen2.5-7b-instruct"}


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def analyze_once(analyzer: Analyzer, lines: list[str]) -> Any:
    """One analyze call, then close the client (each asyncio.run has its own loop)."""

    async def go() -> Any:
        try:
            return await analyzer.analyze(lines)
        finally:
            await analyzer.aclose()

    return run(go())


MakeLLM = Callable[..., Analyzer]


@pytest.fixture
def make_llm(fake_llm: FakeInferenceServer) -> MakeLLM:
    """``make_llm("anthropic", base_suffix="/v1", timeout=0.5, ...)`` → an analyzer on the fake."""

    def build(provider: str, base_suffix: str = "", **overrides: Any) -> Analyzer:
        values: dict[str, Any] = {
            "provider": provider, "model": MODELS[provider],
            "base_url": fake_llm.base_url + base_suffix, "api_key": "sk-test-key", "timeout": 5.0,
        }
        values.update(overrides)
        return make_analyzer(AnalyzerSettings(**values))

    return build
