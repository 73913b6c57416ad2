"""Collector fixtures: a running collector factory and an HTTPS client that pins its cert."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from tests.support.collector import client_context, collector_factory

__all__ = ["collector_factory"]


@pytest.fixture
def client_for() -> Iterator[Callable[[Any], httpx.Client]]:
    """``client_for(collector)`` → an httpx.Client on its URL verifying its self-signed cert."""
    clients: list[httpx.Client] = []

    def make(collector: Any) -> httpx.Client:
        client = httpx.Client(base_url=collector.url, timeout=30,
                              verify=client_context(collector.config.tls_cert))
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()
