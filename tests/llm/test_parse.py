"""Reply parsing: the accepted shapes, and nothing but InvalidLLMResponse for anything else."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tasseograph.llm import InvalidLLMResponse
from tasseograph.llm.parse import parse_anthropic_reply, parse_openai_reply, parse_verdict_text

OK = {"status": "ok", "issues": []}
CRIT = {"status": "critical", "issues": [{"severity": "critical", "category": "kernel_oops",
                                          "summary": "Oops", "evidence": ["Oops: 0000 [#1] SMP"]}]}


@pytest.mark.parametrize(("text", "status"), [
    (json.dumps(OK), "ok"),
    (f"  \n{json.dumps(CRIT)}\n", "critical"),
    (f"```json\n{json.dumps(CRIT)}\n```", "critical"),
    (f"Verdict:\n```\n{json.dumps(OK)}\n```\nDone.", "ok"),
    (f"```JSON\r\n{json.dumps(CRIT)}\r\n```", "critical"),
    (f"```text\nnot it\n```\n```json\n{json.dumps(CRIT)}\n```", "critical"),
    (json.dumps({**OK, "confidence": 0.9}), "ok"),  # extra keys are ignored
    (f"```json {json.dumps(CRIT)}```", "critical"),
    (f"```{json.dumps(OK)}```", "ok"),
])
def test_accepted_text(text: str, status: str) -> None:
    assert parse_verdict_text(text).status == status


@pytest.mark.parametrize("text", [
    "", "ok", "The host looks fine.", f"Sure! {json.dumps(OK)}", "[]", "null", "42",
    json.dumps({"status": "fine", "issues": []}),
    json.dumps({"status": "OK", "issues": []}),
    json.dumps({"issues": []}),
    json.dumps({"status": "warning", "issues": [{"severity": "ok", "category": "oom",
                                                 "summary": "s", "evidence": []}]}),
    json.dumps({"status": "warning", "issues": [{"severity": "warning", "category": "Disk IO",
                                                 "summary": "s", "evidence": []}]}),
    json.dumps({"status": "warning", "issues": [{"severity": "warning", "category": "oom",
                                                 "summary": "", "evidence": []}]}),
    "```json\n{not json}\n```",
    "[" * 100_000,
])
def test_rejected_text_keeps_raw(text: str) -> None:
    with pytest.raises(InvalidLLMResponse) as caught:
        parse_verdict_text(text)
    assert caught.value.raw == text


def _anthropic(content: Any, usage: Any = None) -> str:
    return json.dumps({"type": "message", "content": content,
                       "usage": usage or {"input_tokens": 10, "output_tokens": 3,
                                          "cache_read_input_tokens": 5,
                                          "cache_creation_input_tokens": 2}})


def test_anthropic_tool_use_wins_over_text_and_usage_is_read() -> None:
    body = _anthropic([{"type": "text", "text": "Let me report."},
                       {"type": "tool_use", "id": "t1", "name": "report_verdict", "input": CRIT}])
    reply = parse_anthropic_reply(body)
    assert reply.verdict.status == "critical" and json.loads(reply.output) == CRIT
    assert reply.usage.model_dump() == {"input_tokens": 10, "output_tokens": 3,
                                        "cache_read_tokens": 5, "cache_write_tokens": 2}


@pytest.mark.parametrize("body", [
    _anthropic([]),
    _anthropic([{"type": "tool_use", "id": "t", "name": "report_verdict", "input": "{}"}]),
    _anthropic([{"type": "text", "text": "  "}]),
    _anthropic("a string"),
    json.dumps([1, 2]),
    '{"content": [',
])
def test_anthropic_rejections(body: str) -> None:
    with pytest.raises(InvalidLLMResponse) as caught:
        parse_anthropic_reply(body)
    assert caught.value.raw == body


def _openai(message: Any, usage: Any = None) -> str:
    return json.dumps({"choices": [{"index": 0, "message": message}],
                       "usage": usage or {"prompt_tokens": 100, "completion_tokens": 7,
                                          "prompt_tokens_details": {"cached_tokens": 60}}})


@pytest.mark.parametrize(("message", "status"), [
    ({"tool_calls": [{"function": {"name": "report_verdict", "arguments": json.dumps(CRIT)}}]},
     "critical"),
    ({"tool_calls": [{"function": {"name": "report_verdict", "arguments": OK}}]}, "ok"),
    ({"content": f"```json\n{json.dumps(CRIT)}\n```"}, "critical"),
    ({"content": [{"type": "text", "text": json.dumps(OK)}]}, "ok"),
])
def test_openai_shapes_and_cached_usage(message: dict, status: str) -> None:
    reply = parse_openai_reply(_openai(message))
    assert reply.verdict.status == status
    assert (reply.usage.input_tokens, reply.usage.cache_read_tokens,
            reply.usage.output_tokens) == (40, 60, 7)


@pytest.mark.parametrize("body", [
    _openai({"content": None}), json.dumps({"choices": []}), json.dumps({"choices": [{}]}),
    _openai({"tool_calls": [{"function": {"arguments": "nope"}}]}), "null",
])
def test_openai_rejections(body: str) -> None:
    with pytest.raises(InvalidLLMResponse) as caught:
        parse_openai_reply(body)
    assert caught.value.raw == body


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.sampled_from(["status", "issues", "severity", "category", "summary",
                                       "evidence", "content", "type", "input", "text", "choices",
                                       "message", "tool_calls", "function", "arguments", "usage"])
                      | st.text(max_size=8), children, max_size=5),
    max_leaves=20,
)
PARSERS = [parse_verdict_text, parse_anthropic_reply, parse_openai_reply]


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=300) | JSON.map(json.dumps)
       | JSON.map(lambda v: f"```json\n{json.dumps(v)}\n```"))
def test_parsers_raise_nothing_but_invalid_response(text: str) -> None:
    for parse in PARSERS:
        try:
            parse(text)
        except InvalidLLMResponse as exc:
            assert exc.raw == text
