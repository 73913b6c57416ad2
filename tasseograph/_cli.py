"""Small helpers every command uses to fail the same way: one line on stderr, typer's exit codes."""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
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


def choice(flag: str, value: str | None, allowed: Sequence[str]) -> str | None:
    """``value`` when it is one of ``allowed`` (or not given); else the one-line exit 2."""
    if value is not None and value not in allowed:
        raise fail(f"{flag} must be one of {', '.join(allowed)}, got {value!r}", EXIT_USAGE)
    return value


@contextmanager
def config_errors() -> Iterator[None]:
    """Turn a ConfigError into its one-line message and exit 2, never a traceback."""
    try:
        yield
    except ConfigError as exc:
        raise fail(str(exc), EXIT_USAGE) from None
