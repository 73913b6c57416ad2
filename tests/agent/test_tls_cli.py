"""TLS pinning, the ``tasseograph agent`` command, and a crash between persisting and sending."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from tasseograph.agent.run import Agent
from tasseograph.certs import write_certificate
from tasseograph.cli import app
from tests.agent.conftest import API_KEY, BOOT_TIME, Behaviour, FakeKernelLog, StubCollector

ROOT = Path(__file__).resolve().parents[2]


def test_wrong_ca_fails_and_pinned_ca_works(
        make_config, kernel_log: FakeKernelLog, collector: StubCollector, tmp_path: Path) -> None:
    other_cert, _, _ = write_certificate(tmp_path / "other", ["127.0.0.1"])
    config = make_config(ca_file=other_cert)
    with Agent(config, boot_time=BOOT_TIME) as host:
        host.tick()
        kernel_log.write("pinned")
        report = host.tick()
    assert not report.ok and report.http_status is None and "CERTIFICATE_VERIFY_FAILED" in (
        report.error or "")
    with Agent(make_config(), boot_time=BOOT_TIME) as host:
        assert host.tick().sent_lines == 1


def test_pinned_ca_still_checks_hostname(
        make_config, kernel_log: FakeKernelLog, collector: StubCollector, tmp_path: Path) -> None:
    cert, key, _ = write_certificate(tmp_path / "elsewhere", ["collector.example"])
    stub = StubCollector(cert, key)
    try:
        config = make_config(ca_file=cert, collector_url=stub.url)
        with Agent(config, boot_time=BOOT_TIME) as host:
            host.tick()
            kernel_log.write("x")
            report = host.tick()
        assert not report.ok and "match" in (report.error or "").lower()
    finally:
        stub.close()


def test_tls_skip_verify_works_with_a_warning(
        make_config, kernel_log: FakeKernelLog, collector: StubCollector,
        caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, "tasseograph.agent"):
        host = Agent(make_config(ca_file=None, tls_skip_verify=True), boot_time=BOOT_TIME)
    with host:
        host.tick()
        kernel_log.write("unverified")
        assert host.tick().sent_lines == 1
    assert "NOT verified" in caplog.text and API_KEY not in caplog.text


def _write_config(path: Path, config) -> Path:
    data = config.model_dump(mode="json", exclude={"api_key"})
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.mark.parametrize(
    ("extra", "env_key", "expected", "code"),
    [
        ({}, API_KEY, "", 0),
        ({}, "", "TASSEOGRAPH_API_KEY", 2),
        ({"bogus_key": 1}, API_KEY, "bogus_key", 2),
        ({"poll_interval": "soon"}, API_KEY, "poll_interval", 2),
        ({"collector_url": "https://127.0.0.1:1/ingest"}, API_KEY, "collector unreachable", 1),
    ],
    ids=["ok", "no-key", "unknown-key", "bad-duration", "unreachable"],
)
def test_agent_once_cli(make_config, kernel_log: FakeKernelLog, collector: StubCollector,
                        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, extra: dict,
                        env_key: str, expected: str, code: int) -> None:
    config = make_config()
    with Agent(config, boot_time=BOOT_TIME) as host:
        host.tick()  # state at the end of the log
    kernel_log.write("for the cli")
    path = _write_config(tmp_path / "agent.yaml", config)
    path.write_text(path.read_text() + "".join(f"{k}: {v}\n" for k, v in extra.items()))
    if env_key:
        monkeypatch.setenv("TASSEOGRAPH_API_KEY", env_key)
    result = CliRunner().invoke(app, ["agent", "--config", str(path), "--once"])
    assert result.exit_code == code, result.output
    assert expected in result.output
    assert "Traceback" not in result.output
    assert len(collector.received) == (1 if code == 0 else 0)


def _spawn(config_path: Path) -> subprocess.Popen:
    env = {**os.environ, "TASSEOGRAPH_API_KEY": API_KEY, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "tasseograph", "agent", "--config",
                             str(config_path), "--once"], env=env, cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_crash_after_persisting_resends_same_batch(
        make_config, kernel_log: FakeKernelLog, collector: StubCollector, tmp_path: Path) -> None:
    config = make_config()
    with Agent(config, boot_time=BOOT_TIME) as host:
        host.tick()
    kernel_log.write("before the crash 1", "before the crash 2")
    path = _write_config(tmp_path / "agent.yaml", config)
    collector.then(Behaviour(mode="hang"))
    process = _spawn(path)
    try:
        assert collector.got_request.wait(30), process.stderr.read1(4096) if process.stderr else ""
        process.send_signal(signal.SIGKILL)  # the collector got the batch; the reply never came
        process.wait(10)
    finally:
        if process.poll() is None:
            process.kill()
    collector.release.set()
    restarted = _spawn(path)
    assert restarted.wait(30) == 0, restarted.stderr.read().decode() if restarted.stderr else ""
    ids = [request.body["batch_id"] for request in collector.received]
    assert len(ids) == 2 and ids[0] == ids[1]
    assert [line.split("] ", 1)[1] for line in collector.lines()] == [
        "before the crash 1", "before the crash 2"]


def test_sigterm_stops_the_loop_cleanly(
        make_config, kernel_log: FakeKernelLog, collector: StubCollector, tmp_path: Path) -> None:
    config = make_config(initial_delay_max=0, poll_interval=0.2)
    path = _write_config(tmp_path / "agent.yaml", config)
    env = {**os.environ, "TASSEOGRAPH_API_KEY": API_KEY, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen([sys.executable, "-m", "tasseograph", "agent", "--config",
                                str(path)], env=env, cwd=ROOT, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while not config.state_file.exists() and process.poll() is None:
            assert time.monotonic() < deadline, "agent never wrote its state file"
            time.sleep(0.05)
        kernel_log.write("while running")
        collector.got_request.wait(20)
        process.send_signal(signal.SIGTERM)
        assert process.wait(20) == 0
    finally:
        if process.poll() is None:
            process.kill()
    stderr = process.stderr.read().decode() if process.stderr else ""
    assert "agent stopped" in stderr and API_KEY not in stderr
    assert [line.split("] ", 1)[1] for line in collector.lines()] == ["while running"]


@pytest.mark.parametrize(("journal", "prefix"), [("8:1234", "<4>no state file"),
                                                 ("", "warning: no state file")])
def test_logs_are_journald_friendly(make_config, tmp_path: Path,
                                    monkeypatch: pytest.MonkeyPatch, journal: str,
                                    prefix: str) -> None:
    path = _write_config(tmp_path / "agent.yaml", make_config())
    monkeypatch.setenv("TASSEOGRAPH_API_KEY", API_KEY)
    monkeypatch.setenv("JOURNAL_STREAM", journal)
    result = CliRunner().invoke(app, ["agent", "--config", str(path), "--once"])
    assert result.exit_code == 0
    assert prefix in result.output and API_KEY not in result.output
