"""POST /ingest over real HTTPS (rules backend): auth, malformed bodies, size limit, replies, dedupe."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tasseograph.collector.serve import BackgroundCollector
from tasseograph.protocol import ErrorReply, IngestReply
from tests.support.collector import (
    API_KEY,
    EDAC,
    auth,
    client_context,
    collector_config,
    payload,
    post_all,
    rows,
)

SECRET_LINE = "[Mon Feb  3 12:25:01 2026] do-not-log-me-7f3a"


@pytest.fixture
def collector(collector_factory: Any) -> Any:
    return collector_factory(max_payload_bytes=4096)


@pytest.fixture
def client(collector: Any, client_for: Any) -> httpx.Client:
    return client_for(collector)


@pytest.fixture(scope="module")
def refuser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BackgroundCollector]:
    """One collector shared by the tests that only send refused requests (its table stays empty)."""
    config = collector_config(tmp_path_factory.mktemp("refuser"), max_payload_bytes=4096)
    with BackgroundCollector(config) as collector:
        yield collector


@pytest.fixture
def refuser_client(refuser: BackgroundCollector) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=refuser.url, verify=client_context(refuser.config.tls_cert)) as client:
        yield client


def test_healthz_needs_no_auth(client: httpx.Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_verdict_is_stored_and_returned(client: httpx.Client, collector: Any) -> None:
    response = client.post("/ingest", json=payload(lines=[EDAC], batch_id="h:b:1-1"), headers=auth())
    assert response.status_code == 200, response.text
    reply = IngestReply.model_validate(response.json())
    assert (reply.status, reply.duplicate, reply.issues[0].category) == ("warning", False, "memory_ecc")
    [row] = rows(collector)
    assert (row["id"], row["status"], row["batch_id"], row["hostname"]) == (reply.id, "warning",
                                                                           "h:b:1-1", "web-prod-01")
    assert json.loads(row["issues"])[0]["evidence"] == [EDAC]
    assert row["raw_dmesg"] == EDAC and row["model"] == "rules" and row["prompt_version"]


def test_ok_rows_are_minimal(client: httpx.Client, collector: Any) -> None:
    response = client.post("/ingest", json=payload(lines=["eth0: NIC Link is Up 10 Gbps"]),
                           headers=auth())
    assert response.json()["status"] == "ok" and response.json()["issues"] == []
    [row] = rows(collector)
    assert row["status"] == "ok" and row["hostname"] == "web-prod-01" and row["timestamp"]
    assert (row["issues"], row["raw_dmesg"], row["raw_response"], row["error"]) == (None,) * 4


AUTH_CASES = [
    ("no header", {}),
    ("wrong scheme", {"Authorization": f"Basic {API_KEY}"}),
    ("wrong token, same length", {"Authorization": f"Bearer {'x' * len(API_KEY)}"}),
    ("token of another length", {"Authorization": "Bearer short"}),
    ("key as a prefix", {"Authorization": f"Bearer {API_KEY}extra"}),
    ("scheme only", {"Authorization": "Bearer"}),
]


@pytest.mark.parametrize(("case", "headers"), AUTH_CASES, ids=[c[0] for c in AUTH_CASES])
def test_auth_failures_are_401_and_never_log_the_payload(
    refuser_client: httpx.Client, refuser: BackgroundCollector, caplog: pytest.LogCaptureFixture, case: str,
    headers: dict[str, str],
) -> None:
    caplog.set_level(logging.DEBUG)
    response = refuser_client.post("/ingest", headers=headers,
                                   json=payload(lines=[SECRET_LINE], hostname="secret-host"))
    assert response.status_code == 401
    assert ErrorReply.model_validate(response.json()).error == "unauthorized"
    assert response.headers["www-authenticate"] == "Bearer"
    assert "auth_failed" in caplog.text
    assert "do-not-log-me" not in caplog.text and "secret-host" not in caplog.text
    assert API_KEY not in caplog.text
    assert rows(refuser) == []


BAD_BODIES = [
    ("not json", b"this is not json", "malformed JSON"),
    ("truncated json", b'{"hostname": "h", ', "malformed JSON"),
    ("empty body", b"", "malformed JSON"),
    ("json array", b"[]", "invalid payload"),
    ("json string", b'"hello"', "invalid payload"),
    ("missing hostname", json.dumps(payload(hostname=None)).encode(), "hostname"),
    ("missing timestamp", json.dumps(payload(timestamp=None)).encode(), "timestamp"),
    ("missing lines", json.dumps(payload(lines=None)).encode(), "lines"),
    ("lines not a list", json.dumps(payload(lines="a line")).encode(), "lines"),
    ("non-string line", json.dumps(payload(lines=["ok", 3])).encode(), "lines"),
    ("null line", json.dumps(payload(lines=[None])).encode(), "lines"),
    ("hostname with space", json.dumps(payload(hostname="web 01")).encode(), "hostname"),
    ("hostname with slash", json.dumps(payload(hostname="../etc")).encode(), "hostname"),
    ("empty hostname", json.dumps(payload(hostname="")).encode(), "hostname"),
    ("hostname a number", json.dumps(payload(hostname=7)).encode(), "hostname"),
    ("bad timestamp", json.dumps(payload(timestamp="yesterday")).encode(), "timestamp"),
    ("negative seq", json.dumps(payload(first_seq=-1)).encode(), "first_seq"),
    ("seq as string", json.dumps(payload(first_seq="12")).encode(), "first_seq"),
    ("seq beyond 64 bits", json.dumps(payload(last_seq=2**63)).encode(), "last_seq"),
    ("invalid utf-8", b'{"hostname": "\xff\xfe"}', "malformed JSON"),
]


@pytest.mark.parametrize(("case", "body", "reason"), BAD_BODIES, ids=[c[0] for c in BAD_BODIES])
def test_malformed_payloads_are_400_with_a_short_reason(
    refuser_client: httpx.Client, refuser: BackgroundCollector, case: str, body: bytes, reason: str,
) -> None:
    response = refuser_client.post("/ingest", content=body,
                                   headers={**auth(), "content-type": "application/json"})
    assert response.status_code == 400, response.text
    error = ErrorReply.model_validate(response.json()).error
    assert reason in error and len(error) < 200
    assert rows(refuser) == []


def _body_of_size(size: int) -> bytes:
    """A valid push whose JSON is exactly ``size`` bytes."""
    base = json.dumps(payload(lines=[""])).encode()
    filler = size - len(base)
    body = json.dumps(payload(lines=["x" * filler])).encode()
    assert len(body) == size
    return body


def test_body_at_the_limit_is_accepted(client: httpx.Client) -> None:
    response = client.post("/ingest", content=_body_of_size(4096), headers=auth())
    assert response.status_code == 200, response.text


def test_one_byte_over_the_limit_is_413_from_content_length(
    refuser_client: httpx.Client, refuser: BackgroundCollector,
) -> None:
    response = refuser_client.post("/ingest", content=_body_of_size(4097), headers=auth())
    assert response.status_code == 413
    assert "4096" in response.json()["error"]
    assert rows(refuser) == []


def test_one_byte_over_the_limit_is_413_when_streamed_chunked(refuser_client: httpx.Client) -> None:
    body = _body_of_size(4097)

    def chunks() -> Iterator[bytes]:  # no Content-Length: httpx sends Transfer-Encoding: chunked
        for start in range(0, len(body), 1000):
            yield body[start:start + 1000]

    response = refuser_client.post("/ingest", content=chunks(), headers=auth())
    assert response.status_code == 413
    assert response.request.headers.get("transfer-encoding") == "chunked"
    assert "content-length" not in response.request.headers


def test_one_megabyte_plus_one_byte_with_the_default_limit(collector_factory: Any,
                                                            client_for: Any) -> None:
    collector = collector_factory()  # max_payload_bytes 1 MiB, the seed's default
    client = client_for(collector)
    big = _body_of_size(1_048_577)
    assert client.post("/ingest", content=big, headers=auth()).status_code == 413

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(big), 65536):
            yield big[start:start + 65536]

    assert client.post("/ingest", content=chunks(), headers=auth()).status_code == 413
    # the connection survived both refusals and the collector still works
    assert client.post("/ingest", json=payload(), headers=auth()).status_code == 200


def test_unknown_paths_and_methods_answer_json_errors(refuser_client: httpx.Client) -> None:
    assert refuser_client.get("/nope").json() == {"error": "Not Found"}
    response = refuser_client.get("/ingest", headers=auth())
    assert response.status_code == 405 and "error" in response.json()


def test_sequential_duplicate_returns_the_stored_verdict(client: httpx.Client, collector: Any) -> None:
    body = payload(lines=[EDAC], batch_id="web-prod-01:boot:5-9")
    first = client.post("/ingest", json=body, headers=auth()).json()
    second = client.post("/ingest", json=body, headers=auth()).json()
    assert first["duplicate"] is False and second["duplicate"] is True
    assert {k: v for k, v in second.items() if k != "duplicate"} == \
        {k: v for k, v in first.items() if k != "duplicate"}
    assert len(rows(collector)) == 1


def test_pushes_without_batch_id_are_each_stored(client: httpx.Client, collector: Any) -> None:
    body = payload(batch_id=None)
    ids = {client.post("/ingest", json=body, headers=auth()).json()["id"] for _ in range(2)}
    assert len(ids) == 2 and len(rows(collector)) == 2


def test_200_concurrent_valid_pushes_make_200_rows(collector: Any) -> None:
    bodies = [payload(hostname=f"host-{i:03d}", batch_id=f"host-{i:03d}:b:1-1") for i in range(200)]
    responses = asyncio.run(post_all(collector, bodies))
    assert [r.status_code for r in responses] == [200] * 200
    assert len({r.json()["id"] for r in responses}) == 200
    assert rows(collector, "SELECT COUNT(DISTINCT hostname) AS n FROM results")[0]["n"] == 200
