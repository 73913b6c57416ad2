"""``tasseograph analyze``: the verdict JSON on stdout, one line on stderr when it cannot."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tasseograph.cli import app
from tests.support import fake_inference as fake
from tests.support.fake_inference import FakeInferenceServer

EDAC = "[Mon Feb  3 12:25:01 2026] EDAC MC0: 1 CE memory read error on DIMM0\n"
BENIGN = "[    0.000000] [Firmware Bug]: TSC doesn't count with P0 frequency!\n"
LLM_VERDICT = {"status": "critical", "issues": [{
    "severity": "critical", "category": "kernel_oops", "summary": "from the fake LLM",
    "evidence": ["x"]}]}

# {base} is the fake server's URL, {log} a file holding EDAC, {config} a collector config.
CASES = [
    # (args, stdin, env key, replies, exit code, stdout fragment, stderr fragment)
    pytest.param(["{log}", "--backend", "rules"], None, None, [], 0, '"memory_ecc"', "",
                 id="rules-file"),
    pytest.param(["-", "--backend", "rules"], BENIGN, None, [], 0, '"status": "ok"', "",
                 id="rules-stdin-benign"),
    pytest.param([], EDAC, None, [], 0, '"status": "warning"', "using the offline rules backend",
                 id="default-stdin-no-key-falls-back-to-rules"),
    pytest.param(["{log}", "--details"], None, None, [], 0, '"prompt_version": "rules@v1#', "",
                 id="details"),
    pytest.param(["{log}"], None, "sk-env", [fake.verdict(LLM_VERDICT)], 0, "from the fake LLM", "",
                 id="anthropic-from-env-key"),
    pytest.param(["{log}", "--backend", "openai", "--model", "local", "--base-url", "{base}/v1"],
                 None, None, [fake.verdict(LLM_VERDICT, mode="fenced")], 0, '"critical"', "",
                 id="openai-flags"),
    pytest.param(["{log}", "--config", "{config}"], None, None, [fake.verdict(LLM_VERDICT)], 0,
                 "from the fake LLM", "", id="openai-from-config"),
    pytest.param(["{log}", "--backend", "bogus"], None, None, [], 2, "",
                 "--backend must be one of rules, anthropic, openai", id="bad-backend"),
    pytest.param(["{log}", "--prompt", "nosuch@v1"], None, None, [], 2, "",
                 "unknown prompt 'nosuch@v1'; available: dmesg_triage@v1", id="unknown-prompt"),
    pytest.param(["{log}", "--prompt", "dmesg_triage"], None, None, [], 2, "",
                 "expected NAME@VERSION", id="malformed-prompt"),
    pytest.param(["{log}", "--backend", "anthropic"], None, None, [], 2, "",
                 "needs an API key", id="anthropic-without-key"),
    pytest.param(["{log}", "--backend", "openai", "--base-url", "{base}"], None, None, [], 2, "",
                 "needs a model", id="openai-without-model"),
    pytest.param(["{missing}", "--backend", "rules"], None, None, [], 2, "", "cannot read",
                 id="missing-file"),
    pytest.param(["{log}", "--config", "{bad_config}"], None, None, [], 2, "",
                 "key 'llm_modle': unknown key", id="bad-config-key"),
    pytest.param(["{log}", "--max-retries", "0"], None, "sk-env", [fake.http_error(500)], 1, "",
                 "LLM unavailable: HTTP 500", id="llm-down"),
    pytest.param(["{log}", "--max-retries", "1"], None, "sk-env", [fake.overloaded()] * 2, 1, "",
                 "LLM unavailable: HTTP 529", id="llm-down-after-retry"),
    pytest.param(["{log}"], None, "sk-env", [fake.rate_limited(30)], 1, "",
                 "LLM rate limited: retry after 30 s", id="rate-limited"),
    pytest.param(["{log}"], None, "sk-env", [fake.text("All good!\nNothing to see.")], 1, "",
                 "invalid LLM response", id="garbage-reply"),
]


@pytest.mark.parametrize(("args", "stdin", "env_key", "replies", "code", "stdout", "stderr"), CASES)
def test_analyze(tmp_path: Path, fake_llm: FakeInferenceServer, monkeypatch: pytest.MonkeyPatch,
                 args: list[str], stdin: str | None, env_key: str | None,
                 replies: list[fake.Reply], code: int, stdout: str, stderr: str) -> None:
    log = tmp_path / "dmesg.log"
    log.write_text(EDAC)
    config = tmp_path / "collector.yaml"
    config.write_text(f"llm_provider: openai\nllm_base_url: {fake_llm.base_url}\n"
                      "llm_model: local-model\nmax_retries: 0\n")
    bad_config = tmp_path / "bad.yaml"
    bad_config.write_text("llm_modle: typo\n")
    values = {"log": log, "base": fake_llm.base_url, "config": config, "bad_config": bad_config,
              "missing": tmp_path / "nope.log"}
    if env_key:
        monkeypatch.setenv("TASSEOGRAPH_LLM_API_KEY", env_key)
    fake_llm.enqueue(*replies)
    argv = ["analyze", *(a.format(**values) for a in args)]
    if env_key and "--base-url" not in args and "--config" not in args:
        argv += ["--base-url", fake_llm.base_url]
    result = CliRunner().invoke(app, argv, input=stdin)
    assert result.exit_code == code, (result.stdout, result.stderr)
    assert stdout in result.stdout
    assert stderr in result.stderr
    if code == 0:
        verdict = json.loads(result.stdout[result.stdout.index("{"):])
        assert "status" in verdict or "verdict" in verdict
    else:
        assert result.stdout == ""
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert result.stderr.startswith("tasseograph: ")
    assert len(fake_llm.requests) == len(replies)


def test_invalid_utf8_is_replaced_not_refused(tmp_path: Path) -> None:
    log = tmp_path / "raw.log"
    log.write_bytes(b"ata1.00: error: { UNC } \xff\xfe\n")
    result = CliRunner().invoke(app, ["analyze", str(log), "--backend", "rules"])
    assert result.exit_code == 0 and '"disk_io"' in result.stdout
