"""Small helpers every command uses to fail the same way: one line on stderr, typer's exit codes."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

import typer

from tasseograph.config import ConfigError

EXIT_RUNTIME = 1
EXIT_USAGE = 2


def fail(message: str, code: int = EXIT_RUNTIME) -> typer.Exit:
    """Print ``message`` as one line on stderr and return the Exit to raise.

    Server and parser errors may span lines; whitespace is folded so the contract holds.
    """
    print(f"tasseograph: {' '.join(message.split())}", file=sys.stderr)
    return typer.Exit(code)


@contextmanager
def config_errors() -> Iterator[None]:
    """Turn a ConfigError into its one-line message and exit 2, never a traceback."""
    try:
        yield
    except ConfigError as exc:
        raise fail(str(exc), EXIT_USAGE) from None
