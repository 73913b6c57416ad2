"""The fake inference server speaks both wire formats faithfully enough for the real clients."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.support import fake_inference as fake
from tests.support.fake_inference import FakeInferenceServer

VERDICT = {"status": "warning", "issues": [{"severity": "warning", "category": "memory_ecc",
                                            "summary": "1 CE", "evidence": ["EDAC MC0: 1 CE"]}]}
ANTHROPIC_TOOL = {"name": "report_verdict", "input_schema": {"type": "object"}}
OPENAI_TOOL = {"type": "function", "function": {"name": "report_verdict", "parameters": {}}}


def _anthropic(server: FakeInferenceServer, **extra: object) -> httpx.Response:
    body = {"model": "claude-test", "max_tokens": 100,
            "messages": [{"role": "user", "content": "EDAC MC0: 1 CE"}], **extra}
    return httpx.post(f"{server.base_url}/v1/messages", json=body,
                      headers={"x-api-key": "k"}, timeout=5)


def test_anthropic_tool_use_reply_with_usage(fake_llm: FakeInferenceServer) -> None:
    fake_llm.enqueue(fake.verdict(VERDICT))
    reply = _anthropic(fake_llm, tools=[ANTHROPIC_TOOL]).json()
    assert reply["type"] == "message" and reply["stop_reason"] == "tool_use"
    assert reply["content"][0] == {"type": "tool_use", "id": reply["content"][0]["id"],
                                   "name": "report_verdict", "input": VERDICT}
    assert reply["usage"]["input_tokens"] > 0 and reply["usage"]["output_tokens"] > 0
    assert fake_llm.requests[0].headers["x-api-key"] == "k"


def test_anthropic_prompt_cache_write_then_read(fake_llm: FakeInferenceServer) -> None:
    system = [{"type": "text", "text": "x" * 4098, "cache_control": {"type": "ephemeral"}}]
    first = _anthropic(fake_llm, system=system).json()["usage"]  # "[]" (no tools) + 4098 chars
    second = _anthropic(fake_llm, system=system).json()["usage"]
    assert first["cache_creation_input_tokens"] == 1025 and first["cache_read_input_tokens"] == 0
    assert second["cache_read_input_tokens"] == 1025 and second["cache_creation_input_tokens"] == 0


@pytest.mark.parametrize("model, floor", [("claude-3-5-haiku-20241022", 2048),
                                          ("claude-haiku-4-5", 4096), ("claude-sonnet-4", 1024)])
def test_a_prefix_below_the_models_minimum_is_not_cached(fake_llm: FakeInferenceServer, model: str,
                                                          floor: int) -> None:
    below = [{"type": "text", "text": "y" * (4 * floor - 10), "cache_control": {"type": "ephemeral"}}]
    for _ in range(2):
        usage = _anthropic(fake_llm, system=below, model=model).json()["usage"]
    assert usage["cache_read_input_tokens"] == 0 and usage["cache_creation_input_tokens"] == 0
    above = [{"type": "text", "text": "z" * 4 * floor, "cache_control": {"type": "ephemeral"}}]
    for _ in range(2):
        usage = _anthropic(fake_llm, system=above, model=model).json()["usage"]
    assert usage["cache_read_input_tokens"] > 0


def test_openai_tool_call_and_text_replies(fake_llm: FakeInferenceServer) -> None:
    fake_llm.enqueue(fake.verdict(VERDICT), fake.verdict(VERDICT, mode="fenced"))
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "tools": [OPENAI_TOOL]}
    url = f"{fake_llm.base_url}/v1/chat/completions"
    tool_reply = httpx.post(url, json=body, timeout=5).json()
    call = tool_reply["choices"][0]["message"]["tool_calls"][0]
    assert json.loads(call["function"]["arguments"]) == VERDICT
    assert tool_reply["usage"]["total_tokens"] == (
        tool_reply["usage"]["prompt_tokens"] + tool_reply["usage"]["completion_tokens"])
    text_reply = httpx.post(url, json=body, timeout=5).json()
    assert "```json" in text_reply["choices"][0]["message"]["content"]


@pytest.mark.parametrize(("reply", "status", "error_type"), [
    (fake.http_error(500), 500, "api_error"),
    (fake.overloaded(), 529, "overloaded_error"),
    (fake.rate_limited(7), 429, "rate_limit_error"),
])
def test_scripted_errors(fake_llm: FakeInferenceServer, reply: fake.Reply, status: int,
                         error_type: str) -> None:
    fake_llm.enqueue(reply)
    response = _anthropic(fake_llm)
    assert response.status_code == status
    assert response.json()["error"]["type"] == error_type
    if status == 429:
        assert response.headers["retry-after"] == "7"
    assert _anthropic(fake_llm).status_code == 200  # the script is consumed


def test_malformed_json_and_invalid_verdict(fake_llm: FakeInferenceServer) -> None:
    fake_llm.enqueue(fake.malformed_json(), fake.invalid_verdict())
    with pytest.raises(json.JSONDecodeError):
        _anthropic(fake_llm).json()
    text_block = _anthropic(fake_llm).json()["content"][0]
    assert json.loads(text_block["text"])["status"] == "maybe"


def test_stall_outlasts_client_timeout(fake_llm: FakeInferenceServer) -> None:
    fake_llm.enqueue(fake.stall(3))
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(f"{fake_llm.base_url}/v1/messages", json={"messages": []}, timeout=0.3)


def test_responder_and_unknown_route(fake_llm: FakeInferenceServer) -> None:
    fake_llm.responder = lambda request: fake.verdict(
        {"status": "critical" if "panic" in request.prompt_text else "ok", "issues": []}, mode="text")
    body = {"model": "m", "messages": [{"role": "user", "content": "Kernel panic"}]}
    reply = httpx.post(f"{fake_llm.base_url}/v1/messages", json=body, timeout=5).json()
    assert json.loads(reply["content"][0]["text"])["status"] == "critical"
    assert httpx.post(f"{fake_llm.base_url}/v2/nothing", json={}, timeout=5).status_code == 404
    assert [r.path for r in fake_llm.requests] == ["/v1/messages", "/v2/nothing"]
