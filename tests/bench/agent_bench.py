"""Agent benchmark: kmsg parse throughput, and one tick over a full 16 MiB kernel-log buffer.

The tick runs in a child process (CPU time and peak RSS from getrusage) against an in-process
httpx MockTransport collector, and is compared with ``dmesg -F`` reading the same records
(as a syslog-format file) in the same run. No asserts: these are measurements.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tasseograph.agent.kmsg import parse_records

ROOT = Path(__file__).resolve().parents[2]

_TICK = r"""
import json, resource, sys, time
from pathlib import Path
import httpx
from tasseograph.agent.run import Agent
from tasseograph.agent.state import AgentState, StateStore
from tasseograph.config import AgentConfig

directory = Path(sys.argv[1])
config = AgentConfig(collector_url="https://collector.invalid/ingest", api_key="k",
                     state_file=directory / "state.json", kmsg_path=directory / "kmsg",
                     boot_id_path=directory / "boot_id", source="kmsg", hostname="bench")
StateStore(config.state_file).save(AgentState(source="kmsg", boot_id="b", next_seq=0))
client = httpx.Client(transport=httpx.MockTransport(
    lambda request: httpx.Response(200, json={"id": 1, "status": "ok", "issues": []})))
started = time.process_time()
with Agent(config, boot_time=1.77e9, client=client) as agent:
    report = agent.tick()
cpu = time.process_time() - started
print(json.dumps({"cpu_s": cpu, "sent": report.sent_lines, "truncated": report.truncated_lines}))
"""


def _synthetic(directory: Path, target_bytes: int) -> tuple[int, int]:
    """Write the same records as kmsg (agent input) and syslog format (dmesg -F input)."""
    kmsg, syslog = [], []
    size, seq = 0, 0
    while size < target_bytes:
        ts = 1_000_000 + seq * 137
        text = (f"EXT4-fs (sda{seq % 8}): error count since last fsck: {seq}"
                if seq % 3 else f"nvme nvme0: I/O {seq} QID 3 timeout, aborting")
        record = f"{3 + seq % 4},{seq},{ts},-;{text}\n"
        kmsg.append(record)
        syslog.append(f"<{3 + seq % 4}>[{ts // 1_000_000:5d}.{ts % 1_000_000:06d}] {text}\n")
        size += len(record)
        seq += 1
    (directory / "kmsg").write_text("".join(kmsg))
    (directory / "syslog").write_text("".join(syslog))
    (directory / "boot_id").write_text("b\n")
    return seq, size


def _child(args: list[str]) -> tuple[float, int, str]:
    """CPU seconds and peak RSS (KiB) of one child process.

    Linux charges a forked child with its parent's peak RSS until exec, so the child is started
    by GNU time (a small process) when available; otherwise wait4's figure is an upper bound.
    """
    gnu_time = shutil.which("time") or ("/usr/bin/time" if Path("/usr/bin/time").exists() else None)
    with tempfile.TemporaryFile() as out, tempfile.NamedTemporaryFile("r") as stats:
        prefix = [gnu_time, "-o", stats.name, "-f", "%U %S %M"] if gnu_time else []
        process = subprocess.Popen(prefix + args, stdout=out, stderr=subprocess.DEVNULL, cwd=ROOT)
        _, _, usage = os.wait4(process.pid, 0)
        process.returncode = 0  # reaped by wait4
        out.seek(0)
        text = out.read().decode("utf-8", "replace")
        measured = stats.read().split() if gnu_time else []
    if len(measured) == 3:
        return float(measured[0]) + float(measured[1]), int(measured[2]), text
    return usage.ru_utime + usage.ru_stime, usage.ru_maxrss, text


def run(quick: bool) -> dict:
    target = (1 if quick else 16) * 1024 * 1024
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        records, size = _synthetic(directory, target)
        data = (directory / "kmsg").read_bytes()

        started = time.perf_counter()
        parsed, _ = parse_records(data)
        parse_s = time.perf_counter() - started
        started = time.perf_counter()
        baseline_lines = [line.split(";", 1) for line in data.decode().split("\n")]
        split_s = time.perf_counter() - started

        rows = [{"measure": "kmsg parse (records/s) vs str.split", "value": len(parsed) / parse_s,
                 "baseline": len(baseline_lines) / split_s,
                 "ratio": round(split_s / parse_s, 3)}]
        details: dict[str, object] = {"records": records, "bytes": size}
        dmesg = shutil.which("dmesg")
        dmesg_cpu = dmesg_rss = None
        if dmesg:
            dmesg_cpu, dmesg_rss, _ = _child([dmesg, "-F", str(directory / "syslog"), "-T"])
        tick_cpu, tick_rss, out = _child([sys.executable, "-c", _TICK, str(directory)])
        details["tick"] = json.loads(out.strip().splitlines()[-1]) if out.strip() else None
        rows.append({"measure": f"one tick over {size >> 20 or 1} MiB: CPU s vs dmesg -F",
                     "value": tick_cpu, "baseline": dmesg_cpu,
                     "ratio": round(tick_cpu / dmesg_cpu, 1) if dmesg_cpu else None})
        rows.append({"measure": "one tick: peak RSS (MiB) vs dmesg -F", "value": tick_rss / 1024,
                     "baseline": dmesg_rss / 1024 if dmesg_rss else None,
                     "ratio": round(tick_rss / dmesg_rss, 1) if dmesg_rss else None})
    return {"rows": rows, **details}
