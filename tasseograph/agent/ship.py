"""POST a batch to the collector over HTTPS, with the collector's certificate pinned."""

from __future__ import annotations

import logging
import ssl
from dataclasses import dataclass
from pathlib import Path

import httpx

from tasseograph.protocol import IngestPayload, parse_retry_after

log = logging.getLogger("tasseograph.agent")


def tls_verify(ca_file: Path | None, skip_verify: bool) -> ssl.SSLContext | bool:
    """The ``verify`` argument for httpx.

    ``ca_file`` trusts only that certificate (self-signed pin, hostname still checked);
    ``tls_skip_verify`` turns checking off, with a warning, and yields to ``ca_file``.
    """
    if ca_file is not None:
        if skip_verify:
            log.warning("both ca_file and tls_skip_verify set: verifying against %s", ca_file)
        return ssl.create_default_context(cafile=str(ca_file))
    if skip_verify:
        log.warning("tls_skip_verify is set: the collector's certificate is NOT verified; "
                    "pin it with ca_file instead")
        return False
    return ssl.create_default_context()


@dataclass(frozen=True)
class SendResult:
    status: int | None  # None: no HTTP reply (network error, timeout, lost reply)
    error: str | None = None
    retry_after: float | None = None  # seconds, from a 503's Retry-After

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class Shipper:
    """One HTTP client per agent (or a shared one, for many agents in one process)."""

    def __init__(self, url: str, api_key: str, *, timeout: float, verify: ssl.SSLContext | bool,
                 client: httpx.Client | None = None):
        self.url = url
        self._headers = {"Authorization": f"Bearer {api_key}",
                         "Content-Type": "application/json",
                         "User-Agent": "tasseograph-agent"}
        self._owns_client = client is None
        self._client = client or httpx.Client(verify=verify, timeout=timeout)

    def send(self, payload: IngestPayload, now: float) -> SendResult:
        body = encode(payload)
        try:
            reply = self._client.post(self.url, content=body, headers=self._headers)
        except httpx.HTTPError as exc:
            return SendResult(None, f"{type(exc).__name__}: {exc}" if str(exc)
                              else type(exc).__name__)
        if 200 <= reply.status_code < 300:
            return SendResult(reply.status_code)
        error = reply.text[:200].strip().replace("\n", " ")
        retry_after = None
        if reply.status_code == 503:
            retry_after = parse_retry_after(reply.headers.get("Retry-After"), now)
        return SendResult(reply.status_code, error or None, retry_after)

    def close(self) -> None:
        if self._owns_client:
            self._client.close()


def encode(payload: IngestPayload) -> bytes:
    """The exact bytes POSTed (and measured against max_payload_bytes)."""
    return payload.model_dump_json(exclude_none=True).encode("utf-8")
