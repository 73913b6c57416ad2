"""Realistic synthetic pilot databases: N hosts × D days of 5-minute checks, with the pilot's warts.

Used by the report tests, the notebook and the benchmark. The mix is what a first pilot sees:
~97 % ok, a few noisy hosts that keep flagging the same benign thing, hosts that go dark for
hours (and one that is still dark at the end), an LLM outage, error rows of several kinds,
two prompt versions and human reviews on a share of the flagged results (some false positives).

    python -m tasseograph.report.synthetic --out pilot.db --hosts 20 --days 7 --seed 1
"""

from __future__ import annotations

import argparse
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from tasseograph import db as results_db

CADENCE_S = 300
DEFAULT_START = date(2026, 2, 2)  # a Monday: the data fill ISO week 2026-W06
PROMPTS = ("dmesg_triage@v1#1a2b3c4d", "dmesg_triage@v2#5e6f7a8b")
MODEL = "claude-haiku-4-5"
ROLES = ("web", "db", "gpu", "stor", "k8s")

#: category → (summary, a dmesg line it would be based on)
EVENTS: dict[str, tuple[str, str]] = {
    "memory_ecc": (
        "Corrected ECC errors on a DIMM",
        "EDAC MC0: 1 CE memory read error on CPU_SrcID#0_Ha#0_Chan#1_DIMM#0",
    ),
    "network_link": ("NIC link flapped", "ixgbe 0000:03:00.0 eth0: NIC Link is Down"),
    "usb": ("USB device disconnect storm", "usb 1-1.2: USB disconnect, device number 7"),
    "pcie_aer": (
        "Corrected PCIe AER errors",
        "pcieport 0000:00:1c.0: AER: Corrected error received: 0000:00:1c.0",
    ),
    "thermal": (
        "CPU throttled on temperature",
        "CPU3: Core temperature above threshold, cpu clock throttled",
    ),
    "oom": ("OOM killer ran", "Out of memory: Killed process 4242 (java) total-vm:8123456kB"),
    "segfault": (
        "A process segfaulted",
        "python3[9911]: segfault at 0 ip 00007f error 4 in libc.so.6",
    ),
    "hung_task": (
        "Task blocked for more than 120 s",
        "INFO: task kworker/2:1:123 blocked for more than 120 seconds.",
    ),
    "disk_io": (
        "I/O errors on a disk",
        "blk_update_request: I/O error, dev sdb, sector 123456 op 0x0:(READ)",
    ),
    "filesystem": (
        "Filesystem remounted read-only",
        "EXT4-fs error (device sda1): ext4_journal_check_start: Detected aborted journal",
    ),
    "mce": (
        "Uncorrected machine check",
        "mce: [Hardware Error]: CPU 4: Machine Check Exception: 5 Bank 7",
    ),
    "kernel_oops": (
        "Kernel oops with call trace",
        "BUG: unable to handle page fault for address: ffff8881",
    ),
    "nvme": ("NVMe controller reset", "nvme nvme0: I/O 12 QID 3 timeout, reset controller"),
    "raid": ("RAID array degraded", "md/raid1:md0: Disk failure on sdb1, disabling device."),
    "gpu": ("GPU fell off the bus", "NVRM: Xid (PCI:0000:3b:00): 79, GPU has fallen off the bus."),
}
WARNING_MIX = (
    "memory_ecc",
    "network_link",
    "usb",
    "pcie_aer",
    "thermal",
    "oom",
    "segfault",
    "hung_task",
    "disk_io",
)
CRITICAL_MIX = ("mce", "filesystem", "kernel_oops", "nvme", "raid", "gpu", "disk_io", "memory_ecc")
NOISY_MIX = ("memory_ecc", "network_link", "usb", "pcie_aer")
#: (weight, error text, latency_ms or None, has a raw response)
ERROR_KINDS = (
    (4, "HTTP 529: overloaded_error: Overloaded", 900, False),
    (3, "timed out after 30 s", 30000, False),
    (2, "rate limited (HTTP 429): too many requests", 150, False),
    (2, "reply is not a valid verdict: issues.0.category: unknown category 'kernel'", 1800, True),
    (1, "ConnectError: [Errno 111] Connection refused", None, False),
)


@dataclass
class Host:
    name: str
    phase_s: int
    noisy_category: str | None = None
    outages: list[tuple[float, float]] = field(default_factory=list)  # epoch [from, to)
    boot_id: str = ""
    seq: int = 0


@dataclass
class Summary:
    path: str
    hosts: int
    days: int
    results: int
    reviews: int
    start: str
    end: str
    noisy_hosts: list[str]
    silent_host: str | None


def _hosts(count: int, days: int, t0: float, rng: random.Random) -> list[Host]:
    span = days * 86400
    hosts = [
        Host(
            name=f"{ROLES[i % len(ROLES)]}-prod-{i + 1:03d}",
            phase_s=rng.randrange(CADENCE_S),
            boot_id=f"{rng.getrandbits(64):016x}",
            seq=rng.randrange(10_000),
        )
        for i in range(count)
    ]
    for index in rng.sample(range(count), max(1, count // 25)) if count >= 2 else []:
        hosts[index].noisy_category = rng.choice(NOISY_MIX)
    for host in rng.sample(hosts[:-1], max(1, count // 10)) if count >= 3 else []:
        begin = t0 + rng.uniform(0.1, 0.8) * span
        host.outages.append((begin, begin + rng.uniform(2, 12) * 3600))
    if count >= 2:  # the last host goes dark six hours before the end and stays dark
        hosts[-1].outages.append((t0 + span - 6 * 3600, t0 + span + 1))
    return hosts


def _issues(categories: list[str], severity: str) -> tuple[str, str]:
    issues = [
        {"severity": severity, "category": c, "summary": EVENTS[c][0], "evidence": [EVENTS[c][1]]}
        for c in categories
    ]
    return json.dumps(issues), "\n".join(EVENTS[c][1] for c in categories)


def _results(
    fleet: list[Host],
    days: int,
    t0: float,
    rng: random.Random,
    flagged: list[tuple[int, str, bool, float, int]],
    counter: list[int],
) -> Iterator[tuple]:
    """Result rows in time order, streamed to executemany; notes flagged rows for the reviews."""
    steps = days * 86400 // CADENCE_S
    llm_outages = [
        (t0 + s, t0 + s + 1800)
        for s in (rng.uniform(0.05, 0.95) * days * 86400 for _ in range(max(1, days // 3)))
    ]
    error_weights = [k[0] for k in ERROR_KINDS]
    for step in range(steps):
        prompt = 0 if step < steps // 2 else 1
        for host in fleet:
            epoch = t0 + step * CADENCE_S + host.phase_s
            if any(a <= epoch < b for a, b in host.outages):
                continue
            host.seq += 1 + (step % 3)
            lines = 1 + (step % 3)
            stamp = datetime.fromtimestamp(epoch, UTC)
            timestamp = results_db.iso_utc(stamp)
            created = (stamp + timedelta(seconds=2)).strftime("%Y-%m-%d %H:%M:%S")
            issues = raw = raw_response = error = None
            latency: int | None = int(rng.lognormvariate(7.0, 0.35))
            input_tokens, output_tokens = 900 + 40 * lines, 30
            noisy = False
            roll = rng.random()
            in_llm_outage = any(a <= epoch < b for a, b in llm_outages)
            if in_llm_outage or roll < 0.003:
                status = "error"
                kind = (
                    ERROR_KINDS[0] if in_llm_outage else rng.choices(ERROR_KINDS, error_weights)[0]
                )
                _, error, latency, has_raw = kind
                raw_response = (
                    '{"status": "warning", "issues": [{"category": "kernel"}]}' if has_raw else None
                )
                output_tokens = 40 if has_raw else 0
            elif roll < 0.005:
                status = "critical"
                issues, raw = _issues([rng.choice(CRITICAL_MIX)], "critical")
            elif host.noisy_category and rng.random() < (0.25 if prompt == 0 else 0.12):
                status, noisy = "warning", True
                issues, raw = _issues([host.noisy_category], "warning")
            elif roll < 0.02:
                status = "warning"
                issues, raw = _issues(rng.sample(WARNING_MIX, 1 + (rng.random() < 0.15)), "warning")
            else:
                status = "ok"
            if status in ("warning", "critical"):
                latency = int((latency or 1000) * 1.6)
                output_tokens = 180
                flagged.append((counter[0], status, noisy, epoch, prompt))
            cost = round(input_tokens * 1e-6 + output_tokens * 5e-6, 6)
            counter[0] += 1
            yield (
                timestamp,
                host.name,
                status,
                issues,
                raw,
                latency,
                created,
                f"{host.name}:{host.boot_id}:{host.seq - lines + 1}-{host.seq}",
                host.boot_id,
                host.seq - lines + 1,
                host.seq,
                lines,
                "anthropic",
                MODEL,
                PROMPTS[prompt],
                input_tokens,
                output_tokens,
                cost,
                raw_response,
                error,
            )


def _reviews(
    flagged: list[tuple[int, str, bool, float, int]], rng: random.Random
) -> Iterator[tuple]:
    """Reviews of ~30 % of flagged results: noisy hosts' flags are mostly false positives."""
    for index, status, noisy, epoch, prompt in flagged:
        if rng.random() >= 0.3:
            continue
        p_fp = (
            (0.75 if prompt == 0 else 0.55) if noisy else (0.05 if status == "critical" else 0.25)
        )
        roll = rng.random()
        verdict = "unsure" if roll < 0.08 else ("fp" if roll < 0.08 + p_fp * 0.92 else "tp")
        note = "benign on this hardware" if verdict == "fp" and noisy else None
        when = datetime.fromtimestamp(epoch + rng.uniform(600, 3 * 86400), UTC)
        yield index + 1, verdict, note, results_db.iso_utc(when)


def generate(
    path: str | Path,
    hosts: int = 20,
    days: int = 7,
    seed: int = 0,
    start: date | datetime | None = None,
) -> Summary:
    """Write a fresh pilot database at ``path`` (replacing any file there) and summarize it."""
    if hosts < 1 or days < 1:
        raise ValueError("need at least one host and one day")
    path = Path(path)
    for stale in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        stale.unlink(missing_ok=True)
    rng = random.Random(seed)
    begin = start or DEFAULT_START
    if not isinstance(begin, datetime):
        begin = datetime(begin.year, begin.month, begin.day, tzinfo=UTC)
    t0 = begin.replace(tzinfo=begin.tzinfo or UTC).timestamp()
    fleet = _hosts(hosts, days, t0, rng)
    flagged: list[
        tuple[int, str, bool, float, int]
    ] = []  # (row index, status, noisy, epoch, prompt)
    counter = [0]
    connection = results_db.connect(path)
    try:
        connection.execute("BEGIN")
        connection.executemany(
            "INSERT INTO results (timestamp, hostname, status, issues, raw_dmesg, api_latency_ms,"
            " created_at, batch_id, boot_id, first_seq, last_seq, line_count, backend, model,"
            " prompt_version, input_tokens, output_tokens, cost_usd, raw_response, error)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            _results(fleet, days, t0, rng, flagged, counter),
        )
        reviews = list(_reviews(flagged, rng))
        connection.executemany(
            "INSERT INTO reviews (result_id, verdict, note, created_at) VALUES (?,?,?,?)", reviews
        )
        connection.execute("COMMIT")
    finally:
        connection.close()
    end = datetime.fromtimestamp(t0 + days * 86400, UTC)
    return Summary(
        path=str(path),
        hosts=hosts,
        days=days,
        results=counter[0],
        reviews=len(reviews),
        start=datetime.fromtimestamp(t0, UTC).isoformat(),
        end=end.isoformat(),
        noisy_hosts=[h.name for h in fleet if h.noisy_category],
        silent_host=fleet[-1].name if hosts >= 2 else None,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tasseograph.report.synthetic",
        description="Write a synthetic pilot results database.",
    )
    parser.add_argument("--out", required=True, type=Path, help="database file (replaced)")
    parser.add_argument("--hosts", type=int, default=20)
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--start",
        type=date.fromisoformat,
        default=DEFAULT_START,
        help="first day, UTC (default %(default)s, a Monday)",
    )
    args = parser.parse_args(argv)
    summary = generate(args.out, args.hosts, args.days, args.seed, args.start)
    print(json.dumps(summary.__dict__))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
