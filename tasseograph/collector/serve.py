"""Serving the collector over TLS: the blocking CLI server and an in-thread one for tests/demo.

Everything that can refuse (TLS files, the listen socket, the database, the analyzer) is
checked in :class:`CollectorServer`'s constructor, before any request is served, and raised
as a ConfigError naming the config key. TLS 1.2 is the minimum protocol version.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import ssl
import sys
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import uvicorn

from tasseograph.collector.app import create_app
from tasseograph.config import CollectorConfig, ConfigError, split_host_port
from tasseograph.llm import Analyzer

log = logging.getLogger("tasseograph.collector")

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
GRACEFUL_SHUTDOWN_S = 30.0


def _readable(key: str, path: Path) -> None:
    try:
        with path.open("rb") as handle:
            handle.read(1)
    except OSError as exc:
        raise ConfigError(None, key, f"cannot read {path}: {exc.strerror or exc}") from None


def build_ssl_context(config: CollectorConfig) -> ssl.SSLContext:
    """A server context for the configured cert/key that refuses anything older than TLS 1.2."""
    _readable("tls_cert", config.tls_cert)
    _readable("tls_key", config.tls_key)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(config.tls_cert, config.tls_key)
    except ssl.SSLError as exc:
        raise ConfigError(None, "tls_cert", f"{config.tls_cert} and {config.tls_key} are not a "
                                            f"matching PEM certificate and key: {exc.reason or exc}") from None
    return context


def bind_socket(listen_addr: str) -> socket.socket:
    """Listen on ``host:port`` (port 0: any free port), IPv6 when the host is an IPv6 address."""
    try:
        host, port = split_host_port(listen_addr)
    except ValueError as exc:
        raise ConfigError(None, "listen_addr", str(exc)) from None
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY on accepted sockets only when the
    # protocol says TCP, and without it Nagle + delayed ACK add 40 ms to every reply
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        raise ConfigError(None, "listen_addr", f"cannot listen on {listen_addr}: "
                                               f"{exc.strerror or exc}") from None
    sock.setblocking(False)
    return sock


class CollectorServer:
    """A checked, bound, not yet running collector: :meth:`run` (blocking) or :meth:`serve`."""

    def __init__(self, config: CollectorConfig, analyzer: Analyzer | None = None) -> None:
        self.config = config
        context = build_ssl_context(config)
        self.socket = bind_socket(config.listen_addr)
        try:
            self.app = create_app(config, analyzer)
        except BaseException:
            self.socket.close()
            raise
        self.port: int = self.socket.getsockname()[1]
        uv_config = uvicorn.Config(
            self.app, ssl_context_factory=lambda _config, _default: context,
            log_config=None, access_log=False, lifespan="on", server_header=False,
            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S)
        self.server = uvicorn.Server(uv_config)

    async def serve(self) -> None:
        await self.server.serve(sockets=[self.socket])

    def run(self) -> None:
        """Serve until SIGTERM/SIGINT; in-flight requests finish first (uvicorn's graceful stop)."""
        asyncio.run(self.serve())

    def stop(self) -> None:
        self.server.should_exit = True


def configure_logging(level: int = logging.INFO) -> None:
    """Plain ``key=value`` lines on stderr (journald adds the time; we keep ours for files)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


def serve(config: CollectorConfig) -> None:
    """The ``tasseograph collector`` command's body: check everything, then serve (blocking)."""
    server = CollectorServer(config)
    log.info("event=listening addr=%s port=%d tls_min=1.2 db=%s", config.listen_addr, server.port,
             config.db_path)
    server.run()


class BackgroundCollector:
    """A real collector (TLS, uvicorn, SQLite) on a thread of this process, for tests and demos.

    ``listen_addr`` may use port 0; :attr:`url` and :attr:`port` tell where it listens.
    Entering waits until ``/healthz`` answers over TLS; leaving stops it and joins the thread.
    """

    def __init__(self, config: CollectorConfig, analyzer: Analyzer | None = None,
                 *, start_timeout: float = 15.0) -> None:
        self.config = config
        self._analyzer = analyzer
        self._start_timeout = start_timeout
        self._server: CollectorServer | None = None
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the collector is not running")
        return self._server.port

    @property
    def url(self) -> str:
        """``https://127.0.0.1:PORT`` (the host the self-signed certificate names)."""
        return f"https://127.0.0.1:{self.port}"

    @property
    def ingest_url(self) -> str:
        return f"{self.url}/ingest"

    @property
    def app(self) -> Any:
        if self._server is None:
            raise RuntimeError("the collector is not running")
        return self._server.app

    def _run(self) -> None:
        assert self._server is not None
        try:
            asyncio.run(self._server.serve())
        except BaseException as exc:  # surfaced by start(); SystemExit from a failed lifespan too
            self._error = exc

    def start(self) -> BackgroundCollector:
        self._server = CollectorServer(self.config, self._analyzer)
        self._thread = threading.Thread(target=self._run, name=f"collector:{self.port}", daemon=True)
        self._thread.start()
        self._wait_healthy()
        return self

    def _wait_healthy(self) -> None:
        import httpx

        context = ssl.create_default_context(cafile=str(self.config.tls_cert))
        deadline = time.monotonic() + self._start_timeout
        assert self._server is not None and self._thread is not None
        while time.monotonic() < deadline:
            if not self._thread.is_alive():
                raise RuntimeError(f"collector thread exited during startup: {self._error!r}")
            if self._server.server.started:
                with contextlib.suppress(httpx.HTTPError):
                    if httpx.get(f"{self.url}/healthz", verify=context, timeout=2).status_code == 200:
                        return
            time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"collector did not answer /healthz within {self._start_timeout:g} s")

    def stop(self, timeout: float = 35.0) -> None:
        if self._server is None or self._thread is None:
            return
        self._server.stop()
        self._thread.join(timeout)
        if self._thread.is_alive():
            self._server.server.force_exit = True
            self._thread.join(5)
        self._thread = None

    def __enter__(self) -> BackgroundCollector:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
