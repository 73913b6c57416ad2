"""A simulated fleet: N real agents, each with its own file-backed kernel log and state file.

Used by the reliability tests (bounded sizes) and ``make bench`` (600 hosts). Time is
compressed: a "tick" is every agent's :meth:`Agent.tick` once, run on a thread pool, with no
poll interval in between. :meth:`Fleet.audit` then checks exactly-once delivery against the
collector's database: every sequence number written is in exactly one stored batch, or counted
as lost by design.
"""

from __future__ import annotations

import random
import sqlite3
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from tasseograph.agent.run import Agent, TickReport
from tasseograph.agent.state import StateStore
from tasseograph.simulate import FileKernelLog

BENIGN = [
    "e1000e 0000:00:1f.6 eth0: NIC Link is Up 1000 Mbps Full Duplex, Flow Control: Rx/Tx",
    "usb 1-1: new high-speed USB device number {n} using xhci_hcd",
    "EXT4-fs (sda1): mounted filesystem with ordered data mode. Quota mode: none.",
    "audit: type=1400 audit({n}.123:42): apparmor=\"STATUS\" operation=\"profile_load\"",
    "systemd[1]: Started Session {n} of User root.",
]
FAULTS = [
    "EDAC MC0: 1 CE memory read error on CPU_SrcID#0_Ha#0_Chan#1_DIMM#0 (page:0x{n:x})",
    "blk_update_request: I/O error, dev sdb, sector {n} op 0x0:(READ) flags 0x0 phys_seg 1 prio class 0",
    "INFO: task kworker/u16:2:{n} blocked for more than 120 seconds.",
    "Out of memory: Killed process {n} (java) total-vm:8123456kB, anon-rss:7654321kB",
]


@dataclass
class SimulatedHost:
    name: str
    log: FileKernelLog
    agent: Agent
    #: boot_id -> sequence numbers written after the agent's fresh start
    written: dict[str, set[int]] = field(default_factory=dict)

    def write(self, messages: list[str]) -> None:
        first = self.log.next_seq
        self.log.append(messages)
        self.written.setdefault(self.log.boot_id, set()).update(range(first, self.log.next_seq))


@dataclass
class Audit:
    written: int = 0
    stored: int = 0  # distinct sequence numbers in stored batches
    duplicated: int = 0  # sequence numbers in more than one stored batch
    missing: int = 0  # written, in no batch
    lost_reported: int = 0  # sum of lost_lines the agents reported
    unexpected: int = 0  # stored, never written
    batches: int = 0
    error_rows: int = 0
    by_status: dict[str, int] = field(default_factory=dict)

    @property
    def exactly_once(self) -> bool:
        return (self.duplicated == 0 and self.unexpected == 0
                and self.missing == self.lost_reported)


class Fleet:
    def __init__(self, root: Path, ingest_url: str, ca_file: Path, size: int, api_key: str,
                 *, seed: int = 0, workers: int = 32, request_timeout: float = 60.0) -> None:
        self.rng = random.Random(seed)
        self.hosts: list[SimulatedHost] = []
        self._pool = ThreadPoolExecutor(max_workers=min(workers, size))
        self._counter = 0
        for index in range(size):
            name = f"host-{index:04d}"
            log = FileKernelLog(root / name)
            config = log.agent_config(hostname=name, collector_url=ingest_url, ca_file=ca_file,
                                      api_key=api_key, request_timeout=request_timeout)
            # one connection per agent, as on real hosts (not a shared pool)
            self.hosts.append(SimulatedHost(name, log, Agent(config, boot_time=1_770_000_000.0)))

    def point_at(self, ingest_url: str) -> None:
        """After a collector restart on a new port: same agents, same state, new URL."""
        for host in self.hosts:
            config = host.agent.config.model_copy(update={"collector_url": ingest_url})
            host.agent.close()
            host.agent = Agent(config, boot_time=1_770_000_000.0)

    def message(self, fault_share: float = 0.1) -> str:
        self._counter += 1
        pool = FAULTS if self.rng.random() < fault_share else BENIGN
        return self.rng.choice(pool).format(n=self._counter)

    def write(self, max_lines: int = 5, fault_share: float = 0.1) -> int:
        """Append 0..max_lines new kernel-log lines to every host; returns how many."""
        total = 0
        for host in self.hosts:
            count = self.rng.randint(0, max_lines)
            host.write([self.message(fault_share) for _ in range(count)])
            total += count
        return total

    def tick(self) -> list[TickReport]:
        return list(self._pool.map(lambda host: host.agent.tick(), self.hosts))

    def pending(self) -> int:
        """Hosts holding an unacknowledged batch (read from their state files, as a restart would)."""
        states = (StateStore(host.agent.config.state_file).load() for host in self.hosts)
        return sum(1 for state in states if state is not None and state.pending is not None)

    def drain(self, max_ticks: int = 20, pause: float = 0.0) -> int:
        """Tick until a tick sends nothing and no host holds a pending batch; returns the ticks.

        ``pause`` lets real time pass between ticks (agents wait out a 503's Retry-After).
        """
        for number in range(1, max_ticks + 1):
            reports = self.tick()
            if not any(r.batch_id or r.skipped for r in reports) and self.pending() == 0:
                return number
            time.sleep(pause)
        return max_ticks

    def audit(self, db_path: Path) -> Audit:
        db = sqlite3.connect(db_path)
        try:
            batches = db.execute("SELECT hostname, boot_id, first_seq, last_seq, lost_lines "
                                 "FROM results WHERE batch_id IS NOT NULL").fetchall()
            by_status = dict(db.execute("SELECT status, COUNT(*) FROM results GROUP BY status"))
        finally:
            db.close()
        audit = Audit(batches=len(batches), by_status=by_status, error_rows=by_status.get("error", 0))
        covered: dict[tuple[str, str], Counter[int]] = {}
        for hostname, boot_id, first_seq, last_seq, lost_lines in batches:
            covered.setdefault((hostname, boot_id), Counter()).update(range(first_seq, last_seq + 1))
            audit.lost_reported += lost_lines or 0
        for host in self.hosts:
            for boot_id, seqs in host.written.items():
                counts = covered.pop((host.name, boot_id), Counter())
                audit.written += len(seqs)
                audit.stored += len(counts)
                audit.duplicated += sum(1 for n in counts.values() if n > 1)
                audit.missing += len(seqs - counts.keys())
                audit.unexpected += len(counts.keys() - seqs)
        audit.unexpected += sum(len(c) for c in covered.values())
        return audit

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        for host in self.hosts:
            host.agent.close()

