"""Agent and collector configuration: the seed's YAML keys, DESIGN.md's additions, env overrides.

Any problem becomes one :class:`ConfigError` naming the file and the key; the CLI prints it
as one line and exits 2. Nothing here imports a heavy dependency: the agent loads this.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, TypeVar, get_args
from urllib.parse import urlsplit

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

ENV_API_KEY = "TASSEOGRAPH_API_KEY"
ENV_LLM_API_KEY = "TASSEOGRAPH_LLM_API_KEY"


class ConfigError(Exception):
    """A configuration problem, phrased for an operator: file, key, what is wrong."""

    def __init__(self, path: str | os.PathLike[str] | None, key: str | None, message: str):
        self.path = str(path) if path is not None else None
        self.key = key
        self.message = " ".join(message.split())  # always one line, whatever the parser said
        where = self.path or "<config>"
        what = f"key '{key}': " if key else ""
        super().__init__(f"config error: {where}: {what}{self.message}")


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}


def parse_duration(value: object) -> float:
    """'5m', '30s', '250ms', '1h' or a bare number of seconds → seconds."""
    if isinstance(value, bool):
        raise ValueError("expected a duration such as 5m, 30s or 250ms")
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        match = _DURATION.match(str(value))
        if not match:
            raise ValueError(f"expected a duration such as 5m, 30s or 250ms, got {value!r}")
        seconds = float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    if seconds <= 0:
        raise ValueError("duration must be positive")
    return seconds


def split_host_port(addr: str, default_host: str = "0.0.0.0") -> tuple[str, int]:
    """'host:port', ':port' (the seed's form) or '[v6]:port' → (host, port)."""
    host, sep, port_text = addr.rpartition(":")
    if not sep or not port_text.isdigit() or not 0 <= int(port_text) < 65536:  # 0: any free port
        raise ValueError(f"expected host:port or :port, got {addr!r}")
    host = host.strip("[]") or default_host
    return host, int(port_text)


def _check_http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"expected an http(s) URL, got {value!r}")
    return value


#: The LLM backends: anthropic (Messages API), openai (chat completions), rules (offline).
Provider = Literal["rules", "anthropic", "openai"]
PROVIDERS: tuple[str, ...] = get_args(Provider)
_PROMPT_REF = re.compile(r"^[A-Za-z0-9_.-]+@[A-Za-z0-9_.-]+$")


def check_prompt_ref(value: str) -> str:
    """A prompt is named ``NAME@VERSION`` (a pydantic validator body)."""
    if not _PROMPT_REF.match(value):
        raise ValueError(f"expected NAME@VERSION, got {value!r}")
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True)


class AgentConfig(_Strict):
    collector_url: str = "https://collector.internal:9311/ingest"
    poll_interval: float = 300.0
    state_file: Path = Path("/var/lib/tasseograph/last_timestamp")
    hostname: str = ""
    tls_skip_verify: bool = False
    # DESIGN.md additions
    source: Literal["auto", "kmsg", "dmesg"] = "auto"
    ca_file: Path | None = None
    request_timeout: float = 150.0  # the collector may take 4 × llm_timeout + 7 s of backoff
    max_payload_bytes: int = Field(default=1_048_576, gt=1024)
    # where the kernel log and boot id come from (tests point these at files)
    kmsg_path: Path = Path("/dev/kmsg")
    boot_id_path: Path = Path("/proc/sys/kernel/random/boot_id")
    dmesg_command: list[str] = Field(default_factory=lambda: ["dmesg", "--raw"])
    initial_delay_max: float = Field(default=-1.0)  # <0: up to one poll_interval
    api_key: str = Field(default="", repr=False)

    @field_validator("poll_interval", "request_timeout", mode="before")
    @classmethod
    def _durations(cls, value: object) -> float:
        return parse_duration(value)

    @field_validator("collector_url")
    @classmethod
    def _url(cls, value: str) -> str:
        return _check_http_url(value)


class PriceTable(_Strict):
    """US dollars per million tokens."""

    input_per_mtok: float = Field(ge=0)
    output_per_mtok: float = Field(ge=0)
    cache_read_per_mtok: float | None = Field(default=None, ge=0)
    cache_write_per_mtok: float | None = Field(default=None, ge=0)


DEFAULT_PRICES: dict[str, PriceTable] = {
    "claude-3-5-haiku-20241022": PriceTable(
        input_per_mtok=0.80, output_per_mtok=4.00, cache_read_per_mtok=0.08, cache_write_per_mtok=1.00
    ),
    "claude-haiku-4-5": PriceTable(
        input_per_mtok=1.00, output_per_mtok=5.00, cache_read_per_mtok=0.10, cache_write_per_mtok=1.25
    ),
    "rules": PriceTable(input_per_mtok=0.0, output_per_mtok=0.0),
}


class CollectorConfig(_Strict):
    listen_addr: str = ":9311"
    db_path: Path = Path("/var/lib/tasseograph/results.db")
    max_retries: int = Field(default=3, ge=0, le=10)
    max_payload_bytes: int = Field(default=1_048_576, gt=0)
    tls_cert: Path = Path("/etc/tasseograph/tls/cert.pem")
    tls_key: Path = Path("/etc/tasseograph/tls/key.pem")
    llm_base_url: str = "https://api.anthropic.com"
    llm_model: str = "claude-3-5-haiku-20241022"
    # DESIGN.md additions
    llm_provider: Provider = "anthropic"
    prompt: str = "dmesg_triage@v1"
    llm_timeout: float = 30.0
    llm_max_concurrency: int = Field(default=16, ge=1, le=1024)
    llm_max_tokens: int = Field(default=1024, ge=16)
    retry_backoff: float = 1.0  # first backoff; doubles per attempt (1 s, 2 s, 4 s)
    redact: bool = False
    collapse_repeats: bool = True
    prices: dict[str, PriceTable] = Field(default_factory=lambda: dict(DEFAULT_PRICES))
    api_key: str = Field(default="", repr=False)
    llm_api_key: str = Field(default="", repr=False)

    @field_validator("llm_timeout", "retry_backoff", mode="before")
    @classmethod
    def _durations(cls, value: object) -> float:
        return parse_duration(value)

    @field_validator("listen_addr")
    @classmethod
    def _listen_addr(cls, value: str) -> str:
        split_host_port(value)
        return value

    @field_validator("llm_base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        return _check_http_url(value)

    @field_validator("prompt")
    @classmethod
    def _prompt_ref(cls, value: str) -> str:
        return check_prompt_ref(value)


ConfigT = TypeVar("ConfigT", bound=BaseModel)


def read_yaml_mapping(path: Path) -> dict[str, Any]:
    """Read a YAML file that must hold a mapping; errors name the file (and line)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(path, None, "file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(path, None, f"cannot read: {exc}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else "?"
        raise ConfigError(path, None, f"YAML syntax error at line {line}: {exc.problem}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(path, None, f"YAML error: {exc}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(path, None, "expected a mapping of keys at the top level")
    return data


def _first_error(exc: ValidationError) -> tuple[str, str]:
    error = exc.errors()[0]
    key = ".".join(str(part) for part in error["loc"]) or None
    if error["type"] == "extra_forbidden":
        return key or "?", "unknown key"
    message = error["msg"].removeprefix("Value error, ")
    return key or "?", message


def build_config(
    model: type[ConfigT], data: Mapping[str, Any], path: str | os.PathLike[str] | None
) -> ConfigT:
    try:
        return model.model_validate(dict(data))
    except ValidationError as exc:
        key, message = _first_error(exc)
        raise ConfigError(path, key, message) from None


def _apply_env(data: dict[str, Any], env: Mapping[str, str], mapping: dict[str, str]) -> None:
    for key, var in mapping.items():
        if env.get(var):
            data[key] = env[var]


def load_agent_config(path: Path, env: Mapping[str, str] | None = None) -> AgentConfig:
    env = os.environ if env is None else env
    data = read_yaml_mapping(path)
    _apply_env(data, env, {"api_key": ENV_API_KEY})
    config = build_config(AgentConfig, data, path)
    if not config.api_key:
        raise ConfigError(path, "api_key", f"no agent API key: set {ENV_API_KEY}")
    return config


def load_collector_config(path: Path, env: Mapping[str, str] | None = None) -> CollectorConfig:
    env = os.environ if env is None else env
    data = read_yaml_mapping(path)
    _apply_env(data, env, {"api_key": ENV_API_KEY, "llm_api_key": ENV_LLM_API_KEY})
    config = build_config(CollectorConfig, data, path)
    if not config.api_key:
        raise ConfigError(path, "api_key", f"no agent API key: set {ENV_API_KEY}")
    if config.llm_provider == "anthropic" and not config.llm_api_key:
        raise ConfigError(path, "llm_api_key", f"no LLM API key: set {ENV_LLM_API_KEY}")
    return config
