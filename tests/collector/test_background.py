"""BackgroundCollector, which the demo and the fleet soak build on: start, stop, refuse."""

from __future__ import annotations

import socket
from pathlib import Path

import httpx
import pytest

from tasseograph.collector.serve import BackgroundCollector
from tasseograph.config import ConfigError
from tasseograph.llm import RulesAnalyzer
from tests.support.collector import auth, client_context, collector_config, payload, rows


def test_it_serves_on_a_free_port_and_releases_it(tmp_path: Path) -> None:
    config = collector_config(tmp_path)
    with BackgroundCollector(config, RulesAnalyzer()) as collector:
        assert collector.url == f"https://127.0.0.1:{collector.port}" and collector.port > 0
        response = httpx.post(collector.ingest_url, json=payload(), headers=auth(),
                              verify=client_context(config.tls_cert))
        assert response.status_code == 200
        port = collector.port
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0  # nobody listens any more
    assert len(rows(collector)) == 1


def test_a_restart_on_the_same_database_keeps_dedupe(tmp_path: Path) -> None:
    config = collector_config(tmp_path)
    body = payload(batch_id="h:b:1-2")
    replies = []
    for _ in range(2):
        with BackgroundCollector(config) as collector:
            replies.append(httpx.post(collector.ingest_url, json=body, headers=auth(),
                                      verify=client_context(config.tls_cert)).json())
    assert [r["duplicate"] for r in replies] == [False, True]
    assert replies[0]["id"] == replies[1]["id"]


@pytest.mark.parametrize(("override", "key"), [
    ({"tls_key": "missing.pem"}, "tls_key"),
    ({"db_path": "."}, "db_path"),
])
def test_refusals_raise_config_error_before_serving(tmp_path: Path, override: dict[str, str],
                                                   key: str) -> None:
    values = {k: tmp_path / v for k, v in override.items()}
    with pytest.raises(ConfigError) as caught:
        BackgroundCollector(collector_config(tmp_path, **values)).start()
    assert caught.value.key == key


def test_a_busy_port_is_a_listen_addr_error(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        config = collector_config(tmp_path, listen_addr=f"127.0.0.1:{busy.getsockname()[1]}")
        with pytest.raises(ConfigError) as caught:
            BackgroundCollector(config).start()
    assert caught.value.key == "listen_addr"


def test_stop_is_idempotent(tmp_path: Path) -> None:
    collector = BackgroundCollector(collector_config(tmp_path)).start()
    collector.stop()
    collector.stop()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{collector.url}/healthz", verify=client_context(collector.config.tls_cert))
