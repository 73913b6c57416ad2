"""The seed's collector failure table, triggered for real: HTTPS collector → fake inference server."""

from __future__ import annotations

import asyncio
import threading
import time
from itertools import pairwise
from typing import Any

import pytest

from tests.support import fake_inference as fake
from tests.support.collector import auth, fake_llm_overrides, free_port, payload, post_all, rows

BACKEND_PATHS = {"openai": "/v1/chat/completions", "anthropic": "/v1/messages"}
WARNING = {"status": "warning", "issues": [{"severity": "warning", "category": "memory_ecc",
                                            "summary": "Corrected ECC errors", "evidence": ["EDAC"]}]}


@pytest.fixture(params=list(BACKEND_PATHS))
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


def start(collector_factory: Any, fake_llm: fake.FakeInferenceServer, backend: str,
          **overrides: Any) -> Any:
    return collector_factory(**{**fake_llm_overrides(fake_llm.base_url, backend), **overrides})


def test_verdict_from_the_llm_is_stored_with_its_accounting(
    collector_factory: Any, client_for: Any, fake_llm: fake.FakeInferenceServer, backend: str,
) -> None:
    fake_llm.default = fake.verdict(WARNING)
    collector = start(collector_factory, fake_llm, backend)
    response = client_for(collector).post("/ingest", json=payload(lines=["EDAC MC0: 1 CE"]),
                                          headers=auth())
    assert response.status_code == 200 and response.json()["status"] == "warning"
    [row] = rows(collector)
    assert (row["backend"], row["model"]) == (backend, "fake-model")
    assert row["prompt_version"].startswith("dmesg_triage@")
    assert row["input_tokens"] > 0 and row["output_tokens"] > 0
    assert row["api_latency_ms"] is not None and row["cost_usd"] is not None
    assert len(fake_llm.requests_to(BACKEND_PATHS[backend])) == 1


FAILURES = {
    "http 500": lambda: fake.http_error(500),
    "http 503": lambda: fake.http_error(503),
    "overloaded 529": fake.overloaded,
}


@pytest.mark.parametrize("kind", list(FAILURES))
def test_llm_down_is_retried_3_times_with_backoff_then_502_and_an_error_row(
    collector_factory: Any, client_for: Any, fake_llm: fake.FakeInferenceServer, backend: str,
    kind: str,
) -> None:
    fake_llm.default = FAILURES[kind]()
    collector = start(collector_factory, fake_llm, backend, retry_backoff=0.05)
    response = client_for(collector).post("/ingest", json=payload(), headers=auth())
    assert response.status_code == 502
    assert "after 4 attempts" in response.json()["error"]
    calls = fake_llm.requests_to(BACKEND_PATHS[backend])
    assert len(calls) == 4  # the first attempt and max_retries=3 more, SDK retries off
    gaps = [b.received_at - a.received_at for a, b in pairwise(calls)]
    assert [g >= want for g, want in zip(gaps, [0.05, 0.1, 0.2], strict=True)] == [True] * 3
    [row] = rows(collector)
    assert row["status"] == "error" and "unavailable after 4 attempts" in row["error"]
    assert row["batch_id"] is None and row["raw_dmesg"]


def test_llm_timeouts_count_as_down(collector_factory: Any, client_for: Any,
                                    fake_llm: fake.FakeInferenceServer) -> None:
    fake_llm.default = fake.stall(3)
    collector = start(collector_factory, fake_llm, "openai", llm_timeout=0.2, max_retries=1)
    response = client_for(collector).post("/ingest", json=payload(), headers=auth())
    assert response.status_code == 502
    assert len(fake_llm.requests) == 2
    assert "timed out" in rows(collector)[0]["error"]


def test_llm_unreachable_is_502(collector_factory: Any, client_for: Any, backend: str) -> None:
    collector = collector_factory(**fake_llm_overrides(f"http://127.0.0.1:{free_port()}", backend),
                                  max_retries=2)
    response = client_for(collector).post("/ingest", json=payload(), headers=auth())
    assert response.status_code == 502 and "after 3 attempts" in response.json()["error"]
    assert rows(collector)[0]["status"] == "error"


def test_recovery_within_the_retries_is_a_normal_verdict(
    collector_factory: Any, client_for: Any, fake_llm: fake.FakeInferenceServer, backend: str,
) -> None:
    fake_llm.enqueue(fake.overloaded(), fake.http_error(500))
    collector = start(collector_factory, fake_llm, backend)
    response = client_for(collector).post("/ingest", json=payload(), headers=auth())
    assert response.status_code == 200 and response.json()["status"] == "ok"
    assert len(fake_llm.requests) == 3
    assert [r["status"] for r in rows(collector)] == ["ok"]


INVALID = {
    "prose": lambda: fake.text("I think the host is probably fine, no JSON here"),
    "invalid verdict": fake.invalid_verdict,
    "broken envelope": fake.malformed_json,
}


@pytest.mark.parametrize("kind", list(INVALID))
def test_invalid_llm_response_is_500_with_the_raw_reply_stored(
    collector_factory: Any, client_for: Any, fake_llm: fake.FakeInferenceServer, backend: str,
    kind: str,
) -> None:
    fake_llm.default = INVALID[kind]()
    collector = start(collector_factory, fake_llm, backend)
    response = client_for(collector).post("/ingest", json=payload(), headers=auth())
    assert response.status_code == 500
    assert "invalid LLM response" in response.json()["error"]
    assert len(fake_llm.requests) == 1  # an invalid reply is not retried
    [row] = rows(collector)
    assert row["status"] == "error" and row["error"].startswith("invalid LLM response")
    assert row["raw_response"]
    if kind == "prose":
        assert "no JSON here" in row["raw_response"]
    if kind == "broken envelope":
        assert "msg_broken" in row["raw_response"]


def test_rate_limit_is_503_with_retry_after_and_gates_every_llm_call_until_then(
    collector_factory: Any, client_for: Any, fake_llm: fake.FakeInferenceServer, backend: str,
) -> None:
    fake_llm.enqueue(fake.rate_limited(retry_after=1))
    collector = start(collector_factory, fake_llm, backend)
    client = client_for(collector)
    first = client.post("/ingest", json=payload(hostname="a"), headers=auth())
    limited_at = time.monotonic()
    assert first.status_code == 503 and first.headers["retry-after"] == "1"
    assert "rate limited" in first.json()["error"]
    # another host inside the window: refused at once, the LLM never sees it
    second = client.post("/ingest", json=payload(hostname="b"), headers=auth())
    assert second.status_code == 503 and int(second.headers["retry-after"]) >= 1
    assert len(fake_llm.requests) == 1
    assert rows(collector) == []  # a rate-limited push stores nothing: the agent resends it
    time.sleep(max(0.0, limited_at + 1.05 - time.monotonic()))
    third = client.post("/ingest", json=payload(hostname="b"), headers=auth())
    assert third.status_code == 200
    assert len(fake_llm.requests) == 2


def test_a_failed_batch_is_analyzed_again_when_resent(
    collector_factory: Any, client_for: Any, fake_llm: fake.FakeInferenceServer,
) -> None:
    fake_llm.enqueue(*[fake.http_error(500)] * 4)
    collector = start(collector_factory, fake_llm, "openai")
    client = client_for(collector)
    body = payload(batch_id="web-prod-01:boot:10-12")
    assert client.post("/ingest", json=body, headers=auth()).status_code == 502
    retry = client.post("/ingest", json=body, headers=auth())
    assert retry.status_code == 200 and retry.json()["duplicate"] is False
    again = client.post("/ingest", json=body, headers=auth())
    assert again.json()["duplicate"] is True and again.json()["id"] == retry.json()["id"]
    assert len(fake_llm.requests) == 5
    assert [(r["status"], r["batch_id"]) for r in rows(collector)] == [
        ("error", None), ("ok", "web-prod-01:boot:10-12")]


def test_concurrent_copies_of_a_batch_make_one_llm_call_and_one_row(
    collector_factory: Any, fake_llm: fake.FakeInferenceServer, backend: str,
) -> None:
    fake_llm.latency = 0.3
    fake_llm.default = fake.verdict(WARNING)
    collector = start(collector_factory, fake_llm, backend)
    body = payload(batch_id="web-prod-01:boot:1-50")
    responses = asyncio.run(post_all(collector, [body] * 6))
    assert [r.status_code for r in responses] == [200] * 6
    assert sorted(r.json()["duplicate"] for r in responses) == [False] + [True] * 5
    assert len({r.json()["id"] for r in responses}) == 1
    assert len(fake_llm.requests) == 1 and len(rows(collector)) == 1


def test_concurrent_copies_share_a_failure(
    collector_factory: Any, fake_llm: fake.FakeInferenceServer,
) -> None:
    fake_llm.latency = 0.2
    fake_llm.default = fake.invalid_verdict()
    collector = start(collector_factory, fake_llm, "openai")
    responses = asyncio.run(post_all(collector, [payload(batch_id="h:b:1-2")] * 4))
    assert [r.status_code for r in responses] == [500] * 4
    assert len(fake_llm.requests) == 1 and len(rows(collector)) == 1


def test_llm_calls_never_exceed_llm_max_concurrency(
    collector_factory: Any, fake_llm: fake.FakeInferenceServer,
) -> None:
    lock = threading.Lock()
    active, peak = 0, 0

    def responder(request: fake.RecordedRequest) -> fake.Reply:
        nonlocal active, peak
        with lock:
            active += 1
            peak = max(peak, active)
        time.sleep(0.15)
        with lock:
            active -= 1
        return fake.verdict(fake.OK_VERDICT)

    fake_llm.responder = responder
    collector = start(collector_factory, fake_llm, "openai", llm_max_concurrency=3)
    bodies = [payload(hostname=f"h{i}", batch_id=f"h{i}:b:1-1") for i in range(12)]
    responses = asyncio.run(post_all(collector, bodies))
    assert [r.status_code for r in responses] == [200] * 12
    assert len(fake_llm.requests) == 12
    assert peak == 3  # concurrent up to the cap (not serialized), never above it


def test_rules_backend_needs_no_llm(collector_factory: Any, client_for: Any,
                                    fake_llm: fake.FakeInferenceServer) -> None:
    collector = collector_factory()
    response = client_for(collector).post("/ingest", json=payload(), headers=auth())
    assert response.status_code == 200 and response.json()["status"] == "warning"
    assert fake_llm.requests == []
