"""``tasseograph demo``: the whole system on this machine, in about a minute, without an API key.

A real collector (uvicorn, TLS with a fresh self-signed certificate, SQLite) on a free loopback
port; a handful of simulated hosts, each a real :class:`~tasseograph.agent.run.Agent` reading a
file-backed kernel log into which fixture cases are replayed; one more agent reading this
machine's own kernel log; then the weekly report. The rules analyzer answers unless
``TASSEOGRAPH_LLM_API_KEY`` is set, in which case the anthropic backend does.
"""

from __future__ import annotations

import os
import random
import secrets
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer
import yaml

from tasseograph._cli import EXIT_USAGE, fail
from tasseograph.config import AgentConfig, CollectorConfig
from tasseograph.simulate import FileKernelLog

SIMULATED_HOSTS = ["web-prod-01", "web-prod-02", "db-prod-01", "gpu-node-07", "arm-build-03",
                   "cache-prod-02"]
#: share of replayed cases per label: mostly healthy, as in a real fleet
STATUS_WEIGHTS = {"ok": 6, "warning": 2, "critical": 1}


@dataclass
class Case:
    id: str
    status: str
    messages: list[str]


def find_corpus() -> Path:
    """The labelled dev corpus of the source tree (the demo runs from a checkout: ``make demo``)."""
    for base in (Path.cwd(), Path(__file__).resolve().parents[1]):
        if (base / "fixtures" / "dev" / "labels.yaml").is_file():
            return base / "fixtures" / "dev"
    raise FileNotFoundError("fixtures/dev not found: run the demo from a tasseograph checkout")


def load_cases(corpus: Path, max_lines: int = 400) -> list[Case]:
    from tasseograph.llm.collapse import strip_prefix

    labels = yaml.safe_load((corpus / "labels.yaml").read_text())
    cases = []
    for label in labels:
        lines = (corpus / "cases" / f"{label['id']}.log").read_text().splitlines()
        if 0 < len(lines) <= max_lines:
            cases.append(Case(label["id"], label["status"], [strip_prefix(line) for line in lines]))
    return cases


def _write_kernel_line(message: str) -> bool:
    """Put one line into this machine's kernel log (needs root); False when not allowed."""
    try:
        with open("/dev/kmsg", "w") as kmsg:
            kmsg.write(f"<6>{message}\n")
        return True
    except OSError:
        return False


def run_demo(workdir: Path, *, rounds: int = 4, seed: int = 2026) -> int:
    from rich.console import Console

    from tasseograph.agent.run import Agent
    from tasseograph.certs import write_certificate
    from tasseograph.collector.serve import BackgroundCollector
    from tasseograph.report.assess import assess
    from tasseograph.report.render import to_html, to_markdown

    console = Console(stderr=True, soft_wrap=True)
    rng = random.Random(seed)
    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True, mode=0o700)
    cases = load_cases(find_corpus())
    by_status = {status: [c for c in cases if c.status == status] for status in STATUS_WEIGHTS}

    cert, key, _fingerprint = write_certificate(workdir / "tls", ["127.0.0.1", "localhost"], days=7)
    api_key = secrets.token_urlsafe(24)
    llm_key = os.environ.get("TASSEOGRAPH_LLM_API_KEY", "")
    collector_config = CollectorConfig(
        listen_addr="127.0.0.1:0", db_path=workdir / "results.db", tls_cert=cert,
        tls_key=key, api_key=api_key, llm_api_key=llm_key,
        llm_provider="anthropic" if llm_key else "rules", retry_backoff=1.0)
    (workdir / "collector.yaml").write_text(yaml.safe_dump(
        collector_config.model_dump(mode="json", exclude={"api_key", "llm_api_key", "prices"})))
    backend = "anthropic (TASSEOGRAPH_LLM_API_KEY is set)" if llm_key else "rules (offline, no key)"

    with BackgroundCollector(collector_config) as collector:
        console.print(f"[bold]collector[/] {collector.ingest_url}  backend: {backend}")
        connection = {"collector_url": collector.ingest_url, "ca_file": cert, "api_key": api_key,
                      "request_timeout": 120}
        logs = {host: FileKernelLog(workdir / "hosts" / host) for host in SIMULATED_HOSTS}
        agents = {host: Agent(log.agent_config(hostname=host, **connection))
                  for host, log in logs.items()}
        real = Agent(AgentConfig(hostname=os.uname().nodename.split(".")[0] or "localhost",
                                 state_file=workdir / "this-host" / "state.json",
                                 initial_delay_max=0, **connection))
        for agent in [*agents.values(), real]:
            agent.tick()  # no state yet: the cursor starts at the end of the log (the seed's rule)
        for round_number in range(1, rounds + 1):
            for host, log in logs.items():
                status = rng.choices(list(STATUS_WEIGHTS), weights=list(STATUS_WEIGHTS.values()))[0]
                case = rng.choice(by_status[status] or cases)
                log.append(case.messages)
                report = agents[host].tick()
                console.print(f"round {round_number}  {host:<14} {case.status:>8} case "
                              f"{case.id:<36} {report.sent_lines:>4} lines → HTTP {report.http_status}")
        wrote = _write_kernel_line("tasseograph demo: hello from the real agent")
        report = real.tick()
        note = "" if wrote else " (no permission to write a test line to /dev/kmsg)"
        console.print(f"this host: sent {report.sent_lines} new kernel-log lines{note}")
        for agent in [*agents.values(), real]:
            agent.close()  # no idle keep-alive connection holds up the collector's graceful stop

    result = assess(collector_config.db_path, poll_interval_s=5)
    html_path = workdir / "report.html"
    html_path.write_text(to_html(result))
    print(to_markdown(result))
    console.print(f"\n[bold]database[/]     {collector_config.db_path}")
    console.print(f"[bold]HTML report[/]  {html_path}")
    console.print(f"[bold]try[/]          sqlite3 {collector_config.db_path} "
                  "\"SELECT timestamp, hostname, status, issues FROM results WHERE status != 'ok' "
                  "ORDER BY timestamp DESC LIMIT 20;\"")
    return 0


def demo(
    workdir: Annotated[Path | None, typer.Option(
        "--workdir", help="Where the demo's database, certificate and report go "
                          "(default: $TASSEOGRAPH_HOME/demo); emptied first.")] = None,
    rounds: Annotated[int, typer.Option("--rounds", min=1, help="Replay rounds per simulated host.")] = 4,
) -> None:
    """The whole system on this machine (collector, agents, report); no API key needed."""
    from tasseograph.paths import home

    try:
        raise typer.Exit(run_demo(workdir or home() / "demo", rounds=rounds))
    except KeyboardInterrupt:
        print("demo stopped", file=sys.stderr)
        raise typer.Exit(130) from None
    except FileNotFoundError as exc:
        raise fail(str(exc), EXIT_USAGE) from None
