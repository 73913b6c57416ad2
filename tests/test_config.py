"""Configuration: the examples load, and every bad config gets one line naming file and key."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tasseograph.config import (
    AgentConfig,
    ConfigError,
    load_agent_config,
    load_collector_config,
    parse_duration,
    split_host_port,
)

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "deploy" / "config"
KEYS = {"TASSEOGRAPH_API_KEY": "agent-secret", "TASSEOGRAPH_LLM_API_KEY": "llm-secret"}


def test_agent_example_loads_with_seed_defaults() -> None:
    config = load_agent_config(EXAMPLES / "agent.yaml.example", env=KEYS)
    assert config.collector_url == "https://collector.internal:9311/ingest"
    assert config.poll_interval == 300.0
    assert config.state_file == Path("/var/lib/tasseograph/last_timestamp")
    assert config.api_key == "agent-secret"
    assert config.source == "auto"


def test_collector_example_loads_with_seed_defaults() -> None:
    config = load_collector_config(EXAMPLES / "collector.yaml.example", env=KEYS)
    assert config.listen_addr == ":9311"
    assert config.max_retries == 3
    assert config.max_payload_bytes == 1_048_576
    assert config.llm_model == "claude-3-5-haiku-20241022"
    assert (config.api_key, config.llm_api_key) == ("agent-secret", "llm-secret")


def test_every_seed_key_is_a_field() -> None:
    seed_agent = {"collector_url", "poll_interval", "state_file", "hostname", "tls_skip_verify"}
    assert seed_agent <= set(AgentConfig.model_fields)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("5m", 300.0), ("30s", 30.0), ("250ms", 0.25), ("1h", 3600.0), (10, 10.0), ("2.5", 2.5)],
)
def test_parse_duration(value: object, seconds: float) -> None:
    assert parse_duration(value) == seconds


@pytest.mark.parametrize(
    ("addr", "expected"),
    [(":9311", ("0.0.0.0", 9311)), ("127.0.0.1:8080", ("127.0.0.1", 8080)),
     ("[::1]:9311", ("::1", 9311))],
)
def test_split_host_port(addr: str, expected: tuple[str, int]) -> None:
    assert split_host_port(addr) == expected


# kind, file text (None = file absent), env, expected fragment of the one-line error
BAD_CONFIGS = [
    ("agent", None, KEYS, "file not found"),
    ("agent", "collector_url: [unclosed\n", KEYS, "YAML syntax error at line 2"),
    ("agent", "- just\n- a list\n", KEYS, "expected a mapping"),
    ("agent", "colector_url: https://x:9311/ingest\n", KEYS, "key 'colector_url': unknown key"),
    ("agent", "poll_interval: soon\n", KEYS, "key 'poll_interval': expected a duration"),
    ("agent", "collector_url: ftp://collector/ingest\n", KEYS, "key 'collector_url': expected an http(s) URL"),
    ("agent", "collector_url: not a url\n", KEYS, "key 'collector_url'"),
    ("agent", "tls_skip_verify: perhaps\n", KEYS, "key 'tls_skip_verify'"),
    ("agent", "source: journald\n", KEYS, "key 'source'"),
    ("agent", "poll_interval: 5m\n", {}, "key 'api_key': no agent API key: set TASSEOGRAPH_API_KEY"),
    ("agent", "request_timeout: 0s\n", KEYS, "key 'request_timeout': duration must be positive"),
    ("collector", "listen_addr: 9311\n", KEYS, "key 'listen_addr'"),
    ("collector", "max_retries: three\n", KEYS, "key 'max_retries'"),
    ("collector", "max_payload_bytes: -5\n", KEYS, "key 'max_payload_bytes'"),
    ("collector", "llm_provider: gemini\n", KEYS, "key 'llm_provider'"),
    ("collector", "prompt: dmesg_triage\n", KEYS, "key 'prompt': expected NAME@VERSION"),
    ("collector", "llm_base_url: inference.internal\n", KEYS, "key 'llm_base_url'"),
    ("collector", "db_path: /tmp/x.db\n", {}, "key 'api_key': no agent API key"),
    ("collector", "db_path: /tmp/x.db\n", {"TASSEOGRAPH_API_KEY": "a"}, "key 'llm_api_key': no LLM API key"),
    ("collector", "prices: {m: {input_per_mtok: 1}}\n", KEYS, "key 'prices.m.output_per_mtok'"),
]


@pytest.mark.parametrize(("kind", "text", "env", "expected"), BAD_CONFIGS)
def test_bad_config_raises_one_clear_error(
    tmp_path: Path, kind: str, text: str | None, env: dict[str, str], expected: str
) -> None:
    path = tmp_path / f"{kind}.yaml"
    if text is not None:
        path.write_text(text)
    loader = load_agent_config if kind == "agent" else load_collector_config
    with pytest.raises(ConfigError) as caught:
        loader(path, env=env)
    message = str(caught.value)
    assert message.startswith(f"config error: {path}: ")
    assert expected in message
    assert "\n" not in message


@pytest.mark.parametrize(("kind", "text", "env", "expected"), BAD_CONFIGS[:12])
def test_bad_config_cli_exits_2_with_one_line(
    tmp_path: Path, kind: str, text: str | None, env: dict[str, str], expected: str
) -> None:
    path = tmp_path / f"{kind}.yaml"
    if text is not None:
        path.write_text(text)
    result = subprocess.run(
        [sys.executable, "-m", "tasseograph", "check-config", f"--{kind}", str(path)],
        capture_output=True, text=True, env={"PATH": "/usr/bin:/bin", **env}, timeout=60,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert expected in lines[0] and str(path) in lines[0]
    assert "Traceback" not in result.stderr


def test_check_config_accepts_examples() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tasseograph", "check-config",
         "--agent", str(EXAMPLES / "agent.yaml.example"),
         "--collector", str(EXAMPLES / "collector.yaml.example")],
        capture_output=True, text=True, env={"PATH": "/usr/bin:/bin", **KEYS}, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "ok (agent)" in result.stdout and "ok (collector)" in result.stdout
