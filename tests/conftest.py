"""Fixtures shared by every test: a tmpdir for every user path, and the fake inference server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.fake_inference import FakeInferenceServer


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test reads the developer's secrets or writes outside its tmpdir."""
    for var in ("TASSEOGRAPH_API_KEY", "TASSEOGRAPH_LLM_API_KEY", "ANTHROPIC_API_KEY",
                "OPENAI_API_KEY", "ANTHROPIC_BASE_URL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("TASSEOGRAPH_HOME", str(tmp_path / "home"))


@pytest.fixture(scope="session")
def _fake_llm_session() -> Iterator[FakeInferenceServer]:
    with FakeInferenceServer() as server:
        yield server


@pytest.fixture
def fake_llm(_fake_llm_session: FakeInferenceServer) -> Iterator[FakeInferenceServer]:
    """The fake inference server on 127.0.0.1, reset for each test."""
    _fake_llm_session.reset()
    yield _fake_llm_session
    _fake_llm_session.reset()
