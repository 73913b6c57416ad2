"""The ``tasseograph`` command.

Each component keeps its commands in its own ``cli`` module, which imports nothing heavy at
module level: fastapi, uvicorn, anthropic, duckdb and pandas load inside the command that
needs them, so ``tasseograph --help`` and the agent stay light.
"""

from __future__ import annotations

from importlib import import_module
from pathlib import Path
from typing import Annotated

import typer

from tasseograph import __version__
from tasseograph._cli import config_errors

app = typer.Typer(
    name="tasseograph",
    help="Reads the fleet's kernel logs with an LLM, and measures whether to trust it.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

#: (command name, "module:function") for single commands; sub-apps are listed in SUB_APPS.
COMMANDS: list[tuple[str, str]] = [  # in the order of the data's journey, as --help lists them
    ("agent", "tasseograph.agent.cli:agent"),
    ("collector", "tasseograph.collector.cli:collector"),
    ("certs", "tasseograph.collector.cli:certs"),
    ("analyze", "tasseograph.llm.cli:analyze"),
    ("review", "tasseograph.report.review:review"),
    ("report", "tasseograph.report.cli:report"),
    ("demo", "tasseograph.demo:demo"),
]
SUB_APPS: list[tuple[str, str]] = [
    ("eval", "tasseograph.evals.cli:app"),
]


def _version(value: bool) -> None:
    if value:
        print(f"tasseograph {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    """Reads the fleet's kernel logs with an LLM, and measures whether to trust it."""


@app.command("check-config")
def check_config(
    agent: Annotated[Path | None, typer.Option("--agent", help="An agent config to validate.")] = None,
    collector: Annotated[
        Path | None, typer.Option("--collector", help="A collector config to validate.")
    ] = None,
) -> None:
    """Validate agent and/or collector config files (secrets from the environment), as the services would."""
    from tasseograph.config import load_agent_config, load_collector_config

    if agent is None and collector is None:
        raise typer.BadParameter("give --agent FILE and/or --collector FILE")
    with config_errors():
        if agent is not None:
            load_agent_config(agent)
            print(f"{agent}: ok (agent)")
        if collector is not None:
            load_collector_config(collector)
            print(f"{collector}: ok (collector)")


def _resolve(target: str) -> object:
    module_name, _, attribute = target.partition(":")
    return getattr(import_module(module_name), attribute)


for _name, _target in COMMANDS:
    app.command(_name)(_resolve(_target))
for _name, _target in SUB_APPS:
    app.add_typer(_resolve(_target), name=_name)


def main() -> None:
    app()
