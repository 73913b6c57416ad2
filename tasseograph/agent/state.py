"""The agent's cursor and its pending batch, in one JSON file written atomically.

The cursor is (boot_id, next_seq): kmsg sequence numbers are exact and restart at 0 each boot,
unlike the seed's one-second ``dmesg -T`` timestamp. The pending batch is written *before* it
is sent, so a crash at any point resends the same batch_id (the collector deduplicates) and
never loses or duplicates a line.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from tasseograph.protocol import IngestPayload

log = logging.getLogger("tasseograph.agent")

STATE_VERSION = 1


class DmesgMark(BaseModel):
    """Where the dmesg fallback stopped: it has no sequence numbers, so the last record shipped."""

    ts_usec: int = Field(ge=0)
    digest: str


class PendingBatch(BaseModel):
    """A batch persisted before sending; once acknowledged the cursor moves to ``next_seq``."""

    payload: IngestPayload
    next_seq: int = Field(ge=0)
    dmesg_mark: DmesgMark | None = None


class AgentState(BaseModel):
    model_config = ConfigDict(extra="ignore")

    version: int = STATE_VERSION
    source: str
    boot_id: str
    next_seq: int = Field(ge=0)
    dmesg_mark: DmesgMark | None = None
    pending: PendingBatch | None = None


class StateStore:
    """Loads and atomically saves :class:`AgentState` at ``path`` (file 0600, new dirs 0700)."""

    def __init__(self, path: Path):
        self.path = Path(path)

    def load(self) -> AgentState | None:
        """The saved state, or None (logged) when missing or unreadable: the caller starts fresh."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            log.warning("no state file at %s: starting at the current end of the kernel log",
                        self.path)
            return None
        except (OSError, UnicodeDecodeError) as exc:
            log.warning("cannot read state file %s (%s): starting at the current end of the "
                        "kernel log", self.path, exc)
            return None
        try:
            state = AgentState.model_validate(json.loads(text))
        except (ValueError, ValidationError) as exc:
            reason = str(exc).splitlines()[0]
            log.warning("corrupt state file %s (%s): starting at the current end of the kernel log",
                        self.path, reason)
            return None
        if state.version != STATE_VERSION:
            log.warning("state file %s has version %s, expected %s: starting fresh",
                        self.path, state.version, STATE_VERSION)
            return None
        return state

    def save(self, state: AgentState) -> None:
        """Write to a temp file in the same directory, fsync, rename over, fsync the directory."""
        directory = self.path.parent
        if not directory.exists():
            directory.mkdir(parents=True, mode=0o700)
        data = state.model_dump_json().encode("utf-8")
        tmp = directory / f".{self.path.name}.{os.getpid()}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.fchmod(fd, 0o600)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, self.path)
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
