"""Running collectors for tests, the demo's tests and the fleet soak.

- :func:`collector_config`: a CollectorConfig in a tmpdir (fresh self-signed cert, port 0).
- :class:`CollectorProcess`: ``python -m tasseograph collector --config F`` in a subprocess,
  for SIGKILL/SIGTERM tests.
- the ``collector_factory`` fixture: start either kind with config overrides, stopped at teardown.
  Import it into a conftest: ``from tests.support.collector import collector_factory``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sqlite3
import ssl
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tasseograph.certs import write_certificate
from tasseograph.collector.serve import BackgroundCollector
from tasseograph.config import CollectorConfig
from tasseograph.llm import Analyzer

API_KEY = "test-agent-key-0123456789"
EDAC = "[Mon Feb  3 12:25:01 2026] EDAC MC0: 1 CE on DIMM0"
ROOT = Path(__file__).resolve().parents[2]


def tls_files(directory: Path) -> tuple[Path, Path]:
    """cert.pem/key.pem for 127.0.0.1 and localhost, made once per directory."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    if not cert.exists():
        write_certificate(directory, ["127.0.0.1", "localhost"], days=2)
    return cert, key


def collector_config(tmp_path: Path, **overrides: Any) -> CollectorConfig:
    """Rules backend, tiny backoff, any free port: override any key."""
    cert, key = tls_files(tmp_path / "tls")
    values: dict[str, Any] = {
        "listen_addr": "127.0.0.1:0", "db_path": tmp_path / "results.db", "tls_cert": cert,
        "tls_key": key, "llm_provider": "rules", "api_key": API_KEY, "retry_backoff": 0.01,
        "llm_timeout": 5,
    }
    values.update(overrides)
    return CollectorConfig(**values)


def fake_llm_overrides(base_url: str, provider: str = "openai") -> dict[str, Any]:
    """Config keys pointing the collector at the fake inference server."""
    return {"llm_provider": provider, "llm_base_url": base_url, "llm_model": "fake-model",
            "llm_api_key": "fake-llm-key"}


def client_context(cert: Path) -> ssl.SSLContext:
    """Verifies the collector against its own self-signed certificate (pinned as the CA)."""
    return ssl.create_default_context(cafile=str(cert))


def auth(key: str = API_KEY) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def payload(**overrides: Any) -> dict[str, Any]:
    """A valid push; override any field (None removes it)."""
    body: dict[str, Any] = {
        "hostname": "web-prod-01",
        "timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "lines": [EDAC],
        "batch_id": f"web-prod-01:boot:{time.monotonic_ns()}",
        "boot_id": "boot", "first_seq": 1, "last_seq": 1, "truncated_lines": 0, "lost_lines": 0,
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


def rows(collector: Any, sql: str = "SELECT * FROM results ORDER BY id") -> list[sqlite3.Row]:
    """Read the collector's database the way an operator would, with a separate connection."""
    db = sqlite3.connect(collector.config.db_path)
    db.row_factory = sqlite3.Row
    try:
        return db.execute(sql).fetchall()
    finally:
        db.close()


async def post_all(collector: Any, bodies: list[dict[str, Any]]) -> list[httpx.Response]:
    """POST every body at once, one connection each (concurrent agents)."""
    limits = httpx.Limits(max_connections=len(bodies))
    async with httpx.AsyncClient(verify=client_context(collector.config.tls_cert), timeout=60,
                                 limits=limits) as client:
        return await asyncio.gather(*(client.post(collector.ingest_url, json=b, headers=auth())
                                      for b in bodies))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class CollectorProcess:
    """The real ``tasseograph collector`` command in a subprocess; stderr goes to a file."""

    def __init__(self, config: CollectorConfig, workdir: Path, *, api_key: str = API_KEY) -> None:
        self.port = free_port()
        self.config = config.model_copy(update={"listen_addr": f"127.0.0.1:{self.port}"})
        self.config_path = workdir / "collector.yaml"
        data = self.config.model_dump(mode="json", exclude={"api_key", "llm_api_key", "prices"})
        self.config_path.write_text(yaml.safe_dump(data))
        self.stderr_path = workdir / "collector.stderr"
        env = {**os.environ, "TASSEOGRAPH_API_KEY": api_key,
               "TASSEOGRAPH_LLM_API_KEY": config.llm_api_key or "",
               "PYTHONPATH": str(ROOT)}
        with self.stderr_path.open("wb") as stderr:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "tasseograph", "collector", "--config", str(self.config_path)],
                stdout=subprocess.DEVNULL, stderr=stderr, env=env, cwd=workdir)

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def ingest_url(self) -> str:
        return f"{self.url}/ingest"

    @property
    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    def wait_healthy(self, timeout: float = 20.0) -> CollectorProcess:
        context = client_context(self.config.tls_cert)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"collector exited with {self.process.returncode}:\n{self.stderr}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/healthz", verify=context, timeout=2).status_code == 200:
                    return self
            time.sleep(0.05)
        self.kill()
        raise RuntimeError(f"collector did not become healthy:\n{self.stderr}")

    def terminate(self, timeout: float = 40.0) -> int:
        """SIGTERM (graceful: in-flight requests finish) and wait; returns the exit status."""
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout)

    def kill(self) -> int:
        """SIGKILL: no shutdown code runs at all."""
        if self.process.poll() is None:
            self.process.kill()
        return self.process.wait(10)


CollectorFactory = Callable[..., Any]


@pytest.fixture
def collector_factory(tmp_path: Path) -> Iterator[CollectorFactory]:
    """``start(analyzer=None, process=False, **config_overrides)`` → a running collector.

    In-thread :class:`BackgroundCollector` by default, a :class:`CollectorProcess` with
    ``process=True``; both have ``.url``, ``.ingest_url`` and ``.config``. All are stopped
    (processes killed) at teardown.
    """
    running: list[Any] = []

    def start(analyzer: Analyzer | None = None, process: bool = False, **overrides: Any) -> Any:
        config = collector_config(tmp_path, **overrides)
        if process:
            workdir = tmp_path / f"proc{len(running)}"
            workdir.mkdir()
            proc = CollectorProcess(config, workdir)
            running.append(proc)
            return proc.wait_healthy()
        collector = BackgroundCollector(config, analyzer)
        collector.start()
        running.append(collector)
        return collector

    yield start
    for item in reversed(running):
        if isinstance(item, CollectorProcess):
            item.kill()
        else:
            item.stop()
