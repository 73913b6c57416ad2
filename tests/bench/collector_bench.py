"""Collector benchmark: /ingest over HTTPS against a bare uvicorn+TLS endpoint, and a 600-host burst.

1. Throughput: N keep-alive clients POST valid pushes to a collector (rules backend, so the
   analyzer is instant) and, in the same run, to a bare ASGI app behind the same uvicorn+TLS
   setup; the ratio is the collector's own cost (auth, parsing, dedupe, SQLite).
2. Burst: 600 pushes spread over 10 s (one new TLS connection each, like 600 agents) against
   a collector whose LLM (the fake inference server) takes 1 s per call; p99 latency and
   failures. The baseline is the ideal p99 with every LLM slot busy: the last push waits for
   pushes × latency / llm_max_concurrency minus the spread, plus its own call.

Servers run as subprocesses (``python -m tasseograph collector``), the load in this process.
Nothing is asserted: these are measurements.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from tests.support import fake_inference as fake
from tests.support.collector import (
    CollectorProcess,
    auth,
    client_context,
    collector_config,
    fake_llm_overrides,
    free_port,
    payload,
)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


async def _closed_loop(url: str, cert: Path, clients: int, total: int) -> dict[str, Any]:
    """``clients`` workers, each on its own keep-alive connection, ``total`` requests overall."""
    latencies: list[float] = []
    failed = 0
    counter = iter(range(total))
    context = client_context(cert)

    async def worker(n: int) -> None:
        nonlocal failed
        async with httpx.AsyncClient(verify=context, timeout=60) as client:
            for i in counter:
                body = payload(hostname=f"bench-{n}", batch_id=f"bench-{n}:{time.monotonic_ns()}:{i}")
                started = time.perf_counter()
                try:
                    response = await client.post(url, json=body, headers=auth())
                    failed += response.status_code != 200
                except httpx.HTTPError:
                    failed += 1
                latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(worker(n) for n in range(clients)))
    wall = time.perf_counter() - started
    return {"requests": total, "clients": clients, "failed": failed, "wall_s": round(wall, 3),
            "rps": round(total / wall, 1), "p50_ms": round(percentile(latencies, 50) * 1000, 2),
            "p95_ms": round(percentile(latencies, 95) * 1000, 2),
            "p99_ms": round(percentile(latencies, 99) * 1000, 2)}


async def _open_loop(url: str, cert: Path, pushes: int, spread_s: float) -> dict[str, Any]:
    """``pushes`` requests started uniformly over ``spread_s``, each on a fresh connection."""
    context = client_context(cert)
    latencies: list[float] = []
    failures: dict[str, int] = {}
    begin = time.perf_counter()

    async def push(i: int) -> None:
        await asyncio.sleep(max(0.0, begin + i * spread_s / pushes - time.perf_counter()))
        started = time.perf_counter()
        try:
            async with httpx.AsyncClient(verify=context, timeout=180) as client:
                response = await client.post(url, json=payload(hostname=f"host-{i:04d}",
                                                               batch_id=f"host-{i:04d}:b:{i}"),
                                             headers=auth())
            outcome = None if response.status_code == 200 else str(response.status_code)
        except httpx.HTTPError as exc:
            outcome = type(exc).__name__
        latencies.append(time.perf_counter() - started)
        if outcome:
            failures[outcome] = failures.get(outcome, 0) + 1

    await asyncio.gather(*(push(i) for i in range(pushes)))
    return {"pushes": pushes, "spread_s": spread_s, "failed": sum(failures.values()),
            "failures": failures, "wall_s": round(time.perf_counter() - begin, 2),
            "p50_s": round(percentile(latencies, 50), 3), "p99_s": round(percentile(latencies, 99), 3),
            "max_s": round(max(latencies), 3)}


BARE_SERVER = """
import socket, ssl, sys, uvicorn
cert, key, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    more = True
    while more:
        more = (await receive()).get("more_body", False)
    body = b'{"id": 1, "status": "ok", "issues": [], "duplicate": false}'
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": body})
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.minimum_version = ssl.TLSVersion.TLSv1_2
context.load_cert_chain(cert, key)
uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False,
            ssl_context_factory=lambda config, default: context)
"""


def _bare_endpoint(cert: Path, key: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-c", BARE_SERVER, str(cert), str(key), str(port)])
    url = f"https://127.0.0.1:{port}/ingest"
    context = client_context(cert)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            httpx.post(url, verify=context, timeout=1)
            return process, url
        except httpx.HTTPError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError("bare uvicorn endpoint did not start")


def _throughput(tmp: Path, quick: bool) -> dict[str, Any]:
    clients, total = (8, 400) if quick else (32, 4000)
    config = collector_config(tmp / "rules")
    (tmp / "rules" / "run").mkdir(parents=True)
    collector = CollectorProcess(config, tmp / "rules" / "run").wait_healthy()
    bare, bare_url = _bare_endpoint(config.tls_cert, config.tls_key)
    try:
        # warm both (imports, first connections), then measure
        asyncio.run(_closed_loop(collector.ingest_url, config.tls_cert, 2, 20))
        asyncio.run(_closed_loop(bare_url, config.tls_cert, 2, 20))
        measured = asyncio.run(_closed_loop(collector.ingest_url, config.tls_cert, clients, total))
        baseline = asyncio.run(_closed_loop(bare_url, config.tls_cert, clients, total))
    finally:
        collector.terminate()
        bare.terminate()
        bare.wait(10)
    return {"collector": measured, "bare_uvicorn_tls": baseline}


def _burst(tmp: Path, quick: bool) -> dict[str, Any]:
    pushes, spread, latency = (60, 2.0, 0.2) if quick else (600, 10.0, 1.0)
    with fake.FakeInferenceServer() as llm:
        llm.latency = latency
        config = collector_config(tmp / "burst", **fake_llm_overrides(llm.base_url),
                                  llm_timeout=30)
        (tmp / "burst" / "run").mkdir(parents=True)
        collector = CollectorProcess(config, tmp / "burst" / "run").wait_healthy()
        try:
            result = asyncio.run(_open_loop(collector.ingest_url, config.tls_cert, pushes, spread))
        finally:
            collector.terminate()
        result["llm_calls"] = len(llm.requests)
    # with perfect use of the LLM slots the last push waits for the queue ahead of it to drain
    drain = pushes * latency / config.llm_max_concurrency
    result.update(llm_latency_s=latency, llm_max_concurrency=config.llm_max_concurrency,
                  ideal_p99_s=round(max(latency, drain - spread + latency), 2))
    return result


def run(quick: bool = False) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="tasseograph-collector-bench-") as tmp_name:
        tmp = Path(tmp_name)
        throughput = _throughput(tmp, quick)
        burst = _burst(tmp, quick)
    measured, bare = throughput["collector"], throughput["bare_uvicorn_tls"]
    clients = measured["clients"]

    def ratio(value: float, baseline: float) -> float | None:
        return round(value / baseline, 3) if baseline else None

    rows = [
        {"measure": f"/ingest req/s, rules backend, {clients} clients", "value": measured["rps"],
         "baseline": bare["rps"], "ratio": ratio(measured["rps"], bare["rps"])},
        {"measure": "/ingest p50 ms, rules backend", "value": measured["p50_ms"],
         "baseline": bare["p50_ms"], "ratio": ratio(measured["p50_ms"], bare["p50_ms"])},
        {"measure": "/ingest p99 ms, rules backend", "value": measured["p99_ms"],
         "baseline": bare["p99_ms"], "ratio": ratio(measured["p99_ms"], bare["p99_ms"])},
        {"measure": f"{burst['pushes']} pushes in {burst['spread_s']:g} s, LLM {burst['llm_latency_s']:g} s: "
                    "p99 latency s (baseline: ideal queueing)", "value": burst["p99_s"],
         "baseline": burst["ideal_p99_s"], "ratio": ratio(burst["p99_s"], burst["ideal_p99_s"])},
        {"measure": f"{burst['pushes']} pushes: failed", "value": burst["failed"],
         "baseline": None, "ratio": None},
    ]
    return {"rows": rows, "throughput": throughput, "burst": burst}


if __name__ == "__main__":
    import json

    print(json.dumps(run(quick="--quick" in sys.argv), indent=2))
