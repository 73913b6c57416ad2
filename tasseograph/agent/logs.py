"""Log to stderr in a form journald understands: ``<N>message`` under systemd, ``level: msg`` else.

systemd sets JOURNAL_STREAM when stderr is connected to the journal; the ``<N>`` prefix is
then parsed as the syslog priority (SyslogLevelPrefix=yes, the default).
"""

from __future__ import annotations

import logging
import os
import sys

_SYSLOG_LEVEL = {logging.DEBUG: 7, logging.INFO: 6, logging.WARNING: 4, logging.ERROR: 3,
                 logging.CRITICAL: 2}


class JournalFormatter(logging.Formatter):
    def __init__(self, journald: bool):
        super().__init__()
        self.journald = journald

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage().replace("\n", " ")
        if self.journald:
            return f"<{_SYSLOG_LEVEL.get(record.levelno, 6)}>{message}"
        return f"{record.levelname.lower()}: {message}"


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at the time (test runners swap it)."""

    @property  # type: ignore[override]
    def stream(self) -> object:
        return sys.stderr

    @stream.setter
    def stream(self, _value: object) -> None:
        pass


def setup_logging(verbose: bool = False) -> None:
    """Route the agent's logger to stderr (idempotent)."""
    logger = logging.getLogger("tasseograph.agent")
    logger.setLevel(logging.DEBUG if verbose else logging.INFO)
    journald = bool(os.environ.get("JOURNAL_STREAM"))
    for handler in logger.handlers:
        if isinstance(handler, _StderrHandler):
            handler.setFormatter(JournalFormatter(journald))
            return
    handler = _StderrHandler()
    handler.setFormatter(JournalFormatter(journald))
    logger.addHandler(handler)
