"""The weekly report over a 600-host × 7-day pilot (~1.2 M rows): wall time and peak RSS.

Compared with the cheapest DuckDB read of the same table (``SELECT count(*), avg(latency_ms)
FROM results`` after loading that one column the way the report loads its data), so the ratio
says what the report's figures cost beyond touching the rows once. Both run as subprocesses
(interpreter start-up included) under a small wrapper that reads ``ru_maxrss`` of its child via
``getrusage(RUSAGE_CHILDREN)``. The database is generated once into a cache directory
(``TASSEOGRAPH_BENCH_CACHE``, default the system temp dir). No asserts: measurements only.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SEED = 1

#: runs argv[1:] and prints {"wall_s", "maxrss_mb", "returncode"} for that child alone
_WRAPPER = """
import json, resource, subprocess, sys, time
started = time.perf_counter()
code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode
wall = time.perf_counter() - started
rss_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"wall_s": wall, "maxrss_mb": rss_kb / 1024, "returncode": code}))
"""

_SCAN = """
import sys, duckdb, pandas as pd
from tasseograph.report.load import open_readonly
connection = open_readonly(sys.argv[1])
frame = pd.DataFrame.from_records(connection.execute("SELECT api_latency_ms FROM results").fetchall(),
                                  columns=["latency_ms"])
print(duckdb.execute("SELECT count(*), avg(latency_ms) FROM frame").fetchone())
"""


def _measure(argv: list[str]) -> dict:
    output = subprocess.run([sys.executable, "-c", _WRAPPER, *argv], capture_output=True, text=True,
                            check=True, cwd=ROOT).stdout
    return json.loads(output.strip().splitlines()[-1])


def _database(hosts: int, days: int) -> tuple[Path, float | None, int]:
    from tasseograph.report.synthetic import generate

    cache = Path(os.environ.get("TASSEOGRAPH_BENCH_CACHE", Path(tempfile.gettempdir()) / "tasseograph-bench"))
    cache.mkdir(parents=True, exist_ok=True)
    path = cache / f"pilot-{hosts}x{days}-seed{SEED}.db"
    marker = path.with_suffix(".json")
    if path.exists() and marker.exists():
        return path, None, json.loads(marker.read_text())["results"]
    started = time.perf_counter()
    summary = generate(path, hosts=hosts, days=days, seed=SEED)
    elapsed = time.perf_counter() - started
    marker.write_text(json.dumps(summary.__dict__))
    return path, elapsed, summary.results


def run(quick: bool) -> dict:
    hosts, days = (60, 7) if quick else (600, 7)
    path, generated_s, rows = _database(hosts, days)
    report_cmd = [sys.executable, "-m", "tasseograph", "report", "--db", str(path)]
    scan = _measure([sys.executable, "-c", _SCAN, str(path)])
    as_json = _measure([*report_cmd, "--format", "json"])
    as_html = _measure([*report_cmd, "--format", "html"])
    size = f"{hosts}×{days} d, {rows:,} rows"
    table = [
        {"measure": f"report --format json, wall s ({size})", "value": round(as_json["wall_s"], 2),
         "baseline": round(scan["wall_s"], 2), "ratio": round(as_json["wall_s"] / scan["wall_s"], 2)},
        {"measure": "report --format json, peak RSS MB", "value": round(as_json["maxrss_mb"]),
         "baseline": round(scan["maxrss_mb"]), "ratio": round(as_json["maxrss_mb"] / scan["maxrss_mb"], 2)},
        {"measure": "report --format html (5 charts), wall s", "value": round(as_html["wall_s"], 2),
         "baseline": round(scan["wall_s"], 2), "ratio": round(as_html["wall_s"] / scan["wall_s"], 2)},
    ]
    if generated_s is not None:
        table.append({"measure": f"synthetic generate, rows/s ({size})", "value": round(rows / generated_s),
                      "baseline": None, "ratio": None})
    return {"rows": table, "hosts": hosts, "days": days, "results": rows, "database": str(path),
            "generate_s": generated_s, "scan": scan, "report_json": as_json, "report_html": as_html,
            "baseline_query": "SELECT count(*), avg(latency_ms) FROM results"}
