"""Simulated hosts for the demo and the fleet soak: a kernel log the real agent reads like /dev/kmsg.

The agent's kmsg reader accepts a regular file of records (one per line, continuation lines
indented), so a simulated host runs the agent's real code path: parsing, cursor, batching,
exactly-once resends. Only the device is replaced.
"""

from __future__ import annotations

import uuid
from pathlib import Path

from tasseograph.agent.kmsg import escape
from tasseograph.config import AgentConfig


class FileKernelLog:
    """A host's kernel log as a file of /dev/kmsg records, which the agent reads like the device."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / "kmsg"
        self.boot_id_path = directory / "boot_id"
        self.reboot()

    def agent_config(self, *, hostname: str, collector_url: str, ca_file: Path, api_key: str,
                     **overrides: object) -> AgentConfig:
        """An agent reading this log, its state beside it, starting at once (no random delay)."""
        values: dict[str, object] = {
            "collector_url": collector_url, "hostname": hostname, "ca_file": ca_file,
            "api_key": api_key, "source": "kmsg", "kmsg_path": self.path,
            "boot_id_path": self.boot_id_path, "state_file": self.path.parent / "state.json",
            "initial_delay_max": 0, **overrides}
        return AgentConfig(**values)

    @property
    def boot_id(self) -> str:
        return self.boot_id_path.read_text().strip()

    def reboot(self) -> None:
        """A new boot: new boot_id, an empty log, sequence numbers from 0 again."""
        self.boot_id_path.write_text(f"{uuid.uuid4()}\n")
        self.path.write_bytes(b"")
        self.next_seq = 0

    def append(self, messages: list[str], level: int = 6) -> None:
        with self.path.open("ab") as handle:
            for message in messages:
                usec = 1_000_000 + self.next_seq * 1000
                handle.write(b"%d,%d,%d,-;%s\n" % (level, self.next_seq, usec, escape(message.encode())))
                self.next_seq += 1

    def overwrite_oldest(self, count: int) -> None:
        """What a full ring buffer does: the oldest ``count`` records are gone before anyone read them."""
        records = self.path.read_bytes().splitlines(keepends=True)
        self.path.write_bytes(b"".join(records[count:]))
