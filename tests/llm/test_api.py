"""The public surface others code against: names, settings from config, light imports."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tasseograph.config import CollectorConfig
from tasseograph.llm import Analyzer, AnalyzerSettings, RulesAnalyzer, make_analyzer
from tasseograph.llm.settings import api_root


def test_settings_from_collector_config() -> None:
    cfg = CollectorConfig(llm_provider="openai", llm_model="m", llm_base_url="http://h:8000/v1",
                          llm_api_key="secret", prompt="dmesg_triage@v1", llm_timeout="45s",
                          llm_max_tokens=512, redact=True, collapse_repeats=False)
    settings = AnalyzerSettings.from_collector_config(cfg)
    assert settings.model_dump(exclude={"prices"}) == {
        "provider": "openai", "model": "m", "base_url": "http://h:8000/v1", "api_key": "secret",
        "prompt": "dmesg_triage@v1", "timeout": 45.0, "max_tokens": 512, "redact": True,
        "collapse_repeats": False}
    assert settings.prices == cfg.prices
    assert "secret" not in repr(settings)


@pytest.mark.parametrize(("base", "root"), [
    ("https://api.anthropic.com", "https://api.anthropic.com"),
    ("https://api.anthropic.com/", "https://api.anthropic.com"),
    ("https://api.anthropic.com/v1", "https://api.anthropic.com"),
    ("http://gw.internal:4000/llm/v1/", "http://gw.internal:4000/llm"),
])
def test_api_root(base: str, root: str) -> None:
    assert api_root(base) == root


@pytest.mark.parametrize("provider", ["rules", "anthropic", "openai"])
def test_every_backend_is_an_analyzer(provider: str) -> None:
    analyzer = make_analyzer(AnalyzerSettings(provider=provider, model="m", api_key="k",
                                              base_url="http://127.0.0.1:9"))
    assert isinstance(analyzer, Analyzer)
    assert analyzer.backend == provider
    assert analyzer.prompt_version.startswith("rules@" if provider == "rules" else "dmesg_triage@v1#")
    assert isinstance(make_analyzer(AnalyzerSettings()), RulesAnalyzer)


def test_rules_path_loads_no_llm_sdk() -> None:
    code = """
import asyncio, json, sys
from tasseograph.llm import AnalyzerSettings, make_analyzer
analysis = asyncio.run(make_analyzer(AnalyzerSettings()).analyze(["Oops: 0000 [#1] SMP PTI"]))
print(json.dumps([analysis.verdict.status, sorted({m.split('.')[0] for m in sys.modules}
                                                  & {"anthropic", "fastapi", "pandas", "duckdb"})]))
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60, check=True)
    assert json.loads(result.stdout) == ["critical", []]
