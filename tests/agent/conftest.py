"""A stdlib HTTPS stand-in for the collector, and a file-backed kernel log, for the agent's tests."""

from __future__ import annotations

import json
import socket
import ssl
import threading
import uuid
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tasseograph.agent.kmsg import escape
from tasseograph.certs import write_certificate
from tasseograph.config import AgentConfig

API_KEY = "s3cret-agent-key"
BOOT_TIME = 1_770_000_000.0  # Feb 2026, so rendered stamps are fixed


@dataclass(frozen=True)
class Behaviour:
    """How the stub answers one request."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    mode: str = "reply"  # reply | drop (store the batch, close without replying) | hang


@dataclass
class Received:
    headers: dict[str, str]
    body: dict[str, Any]


class StubCollector:
    """Records every POST /ingest; answers from a script, then 200 with a dedup flag."""

    def __init__(self, cert: Path, key: Path):
        self.script: deque[Behaviour] = deque()
        self.received: list[Received] = []
        self.seen_batches: set[str] = set()
        self.accepted: list[dict[str, Any]] = []  # first 200 of each batch_id
        self.release = threading.Event()
        self.got_request = threading.Event()
        self.lock = threading.Lock()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(length)
                body = json.loads(raw)
                with stub.lock:
                    stub.received.append(Received(dict(self.headers), body))
                    behaviour = stub.script.popleft() if stub.script else Behaviour()
                    batch = body.get("batch_id")
                    duplicate = batch in stub.seen_batches
                    stored = behaviour.mode == "drop" or behaviour.status == 200
                    if stored and not duplicate:  # a lost reply: processed, answer never arrives
                        stub.seen_batches.add(batch)
                        stub.accepted.append(body)
                stub.got_request.set()
                if behaviour.mode == "hang":
                    stub.release.wait(30)
                    self.close_connection = True
                    return
                if behaviour.mode == "drop":
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if behaviour.status == 200:
                    reply = {"id": len(stub.received), "status": "ok", "issues": [],
                             "duplicate": duplicate}
                else:
                    reply = {"error": f"scripted {behaviour.status}"}
                data = json.dumps(reply).encode()
                self.send_response(behaviour.status)
                for name, value in behaviour.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.url = f"https://127.0.0.1:{self.port}/ingest"
        self._thread = threading.Thread(target=self.server.serve_forever, args=(0.05,),
                                        daemon=True)
        self._thread.start()

    def then(self, *behaviours: Behaviour) -> None:
        self.script.extend(behaviours)

    def lines(self) -> list[str]:
        """Every line the collector stored (first 200 of each batch_id), in order."""
        return [line for body in self.accepted for line in body["lines"]]

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


class FakeKernelLog:
    """A file-backed kmsg stand-in: one record per line, plus a boot_id file."""

    def __init__(self, directory: Path):
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / "kmsg"
        self.boot_id_path = directory / "boot_id"
        self.records: list[bytes] = []
        self.next_seq = 0
        self.reboot()

    def reboot(self) -> str:
        self.boot_id = str(uuid.uuid4())
        self.boot_id_path.write_text(self.boot_id + "\n")
        self.records, self.next_seq = [], 0
        self._flush()
        return self.boot_id

    def write(self, *messages: str, level: int = 6, facility: int = 0) -> list[int]:
        seqs = []
        for message in messages:
            seq = self.next_seq
            self.next_seq += 1
            ts = 1_000_000 + seq * 1000
            body = escape(message.encode())
            self.records.append(b"%d,%d,%d,-;%s" % (facility * 8 + level, seq, ts, body))
            seqs.append(seq)
        self._flush()
        return seqs

    def overwrite(self, count: int) -> None:
        """The ring buffer wraps: the oldest ``count`` records disappear."""
        self.records = self.records[count:]
        self._flush()

    def _flush(self) -> None:
        self.path.write_bytes(b"".join(record + b"\n" for record in self.records))


@pytest.fixture(scope="session")
def collector_cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    cert, key, _ = write_certificate(tmp_path_factory.mktemp("tls"), ["127.0.0.1", "localhost"])
    return cert, key


@pytest.fixture
def collector(collector_cert: tuple[Path, Path]) -> Iterator[StubCollector]:
    stub = StubCollector(*collector_cert)
    yield stub
    stub.close()


@pytest.fixture
def kernel_log(tmp_path: Path) -> FakeKernelLog:
    return FakeKernelLog(tmp_path / "kernel")


@pytest.fixture
def make_config(tmp_path: Path, collector: StubCollector, kernel_log: FakeKernelLog,
                collector_cert: tuple[Path, Path]):
    def build(**overrides: Any) -> AgentConfig:
        values: dict[str, Any] = {
            "collector_url": collector.url, "ca_file": collector_cert[0],
            "state_file": tmp_path / "state" / "cursor.json", "kmsg_path": kernel_log.path,
            "boot_id_path": kernel_log.boot_id_path, "source": "kmsg", "hostname": "host-a",
            "api_key": API_KEY, "request_timeout": 5, "poll_interval": 1,
        }
        values.update(overrides)
        return AgentConfig(**values)

    return build
