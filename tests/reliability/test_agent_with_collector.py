"""The agent's hardest cases against the real collector (not a stub): exactly once, end to end."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import yaml

from tasseograph.agent.run import Agent
from tasseograph.config import AgentConfig
from tasseograph.simulate import FileKernelLog
from tests.support import fake_inference as fi
from tests.support.collector import API_KEY, fake_llm_overrides, rows

ROOT = Path(__file__).resolve().parents[2]


def _agent_config(collector, log: FileKernelLog) -> AgentConfig:
    return log.agent_config(hostname="web-prod-01", collector_url=collector.ingest_url,
                            ca_file=collector.config.tls_cert, api_key=API_KEY)


def _agent_once(config: AgentConfig, directory: Path) -> subprocess.Popen:
    path = directory / "agent.yaml"
    path.write_text(yaml.safe_dump(config.model_dump(mode="json", exclude={"api_key"})))
    env = {**os.environ, "TASSEOGRAPH_API_KEY": API_KEY, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "tasseograph", "agent", "--config", str(path),
                             "--once"], env=env, stderr=subprocess.PIPE)


def test_agent_killed_while_the_collector_analyzes_is_stored_once(
        collector_factory, fake_llm, tmp_path: Path) -> None:
    """SIGKILL after the send, before the state save: the resend is a duplicate, no second LLM call."""
    collector = collector_factory(**fake_llm_overrides(fake_llm.base_url))
    log = FileKernelLog(tmp_path / "host")
    config = _agent_config(collector, log)
    assert _agent_once(config, tmp_path / "host").wait(60) == 0  # fresh start: cursor at the end
    log.append(["EDAC MC0: 1 CE memory read error on DIMM0", "EDAC MC0: 1 CE memory read error on DIMM1"])
    fake_llm.latency = 3.0  # the collector is busy analyzing when the agent dies
    first = _agent_once(config, tmp_path / "host")
    deadline = time.monotonic() + 30
    while not fake_llm.requests and time.monotonic() < deadline:
        time.sleep(0.02)
    assert fake_llm.requests, "the batch never reached the LLM"
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    time.sleep(3.5)  # the analysis the dead agent started finishes and is stored
    fake_llm.latency = 0.0
    second = _agent_once(config, tmp_path / "host")
    assert second.wait(60) == 0, second.stderr.read().decode() if second.stderr else ""
    stored = rows(collector, "SELECT batch_id, first_seq, last_seq FROM results")
    assert len(stored) == 1 and (stored[0]["first_seq"], stored[0]["last_seq"]) == (0, 1)
    assert len(fake_llm.requests) == 1  # the resend was answered from the database


def test_one_megabyte_truncation_end_to_end(collector_factory, fake_llm, tmp_path: Path) -> None:
    """Over the payload limit the oldest lines go, counted; the collector accepts the rest."""
    collector = collector_factory(**fake_llm_overrides(fake_llm.base_url))
    fake_llm.default = fi.verdict({"status": "critical", "issues": [{
        "severity": "critical", "category": "disk_io", "summary": "I/O errors on sdb",
        "evidence": ["I/O error, dev sdb"]}]})
    log = FileKernelLog(tmp_path / "host")
    with Agent(_agent_config(collector, log)) as agent:
        agent.tick()
        log.append([f"blk_update_request: I/O error, dev sdb, sector {n} op 0x0:(READ) flags 0x0 "
                    f"phys_seg 1 prio class 0 {'x' * 400}" for n in range(4000)])  # ~1.9 MB
        report = agent.tick()
    assert report.http_status == 200 and report.truncated_lines > 0
    (row,) = rows(collector, "SELECT truncated_lines, line_count, first_seq, last_seq, raw_dmesg, "
                             "status FROM results")
    assert row["truncated_lines"] == report.truncated_lines
    assert row["line_count"] + row["truncated_lines"] == 4000
    assert (row["first_seq"], row["last_seq"]) == (0, 3999)
    assert "sector 3999 " in row["raw_dmesg"] and "sector 0 " not in row["raw_dmesg"]  # oldest dropped
