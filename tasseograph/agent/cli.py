"""``tasseograph agent --config FILE [--once]``."""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from typing import Annotated

import typer

from tasseograph._cli import EXIT_RUNTIME, config_errors


def agent(
    config: Annotated[Path, typer.Option("--config", help="Agent YAML config (see deploy/config).")],
    once: Annotated[bool, typer.Option("--once", help="Run one tick now and exit: 0 when it "
                                                      "sent or had nothing to send, 1 when it failed.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Debug logging.")] = False,
) -> None:
    """Ship each new kernel-log line to the collector exactly once (runs until SIGTERM)."""
    from tasseograph.agent.logs import setup_logging
    from tasseograph.agent.run import Agent
    from tasseograph.config import load_agent_config

    with config_errors():
        settings = load_agent_config(config)
    setup_logging(verbose)
    with Agent(settings) as host_agent:
        if once:
            report = host_agent.tick()
            if not report.ok:
                raise typer.Exit(EXIT_RUNTIME)
            return
        stop = threading.Event()

        def _stop(signum: int, _frame: object) -> None:
            stop.set()  # the loop ends after the current tick: state is never half-written

        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)
        host_agent.run_forever(stop)
