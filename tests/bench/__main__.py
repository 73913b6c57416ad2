"""``make bench``: run every benchmark, write ``tests/bench/results.json``, refresh the README table.

Each benchmark module exposes ``run(quick: bool) -> dict`` returning at least ``rows``: a list
of ``{"measure", "value", "baseline", "ratio"}`` dicts (the README table), plus any details.
Figures are never asserted on: they are measurements, quoted with the machine they came from.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import os
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

BENCHMARKS = ["agent_bench", "collector_bench", "fleet_bench", "eval_bench", "report_bench"]
HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results.json"
README = HERE.parents[1] / "README.md"
START, END = "<!-- bench:start -->", "<!-- bench:end -->"


def _machine() -> dict[str, object]:
    return {"python": platform.python_version(), "machine": platform.machine(),
            "cpus": os.cpu_count(), "platform": platform.platform()}


def _format(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return "" if value is None else str(value)


def markdown_table(results: dict[str, dict]) -> str:
    lines = ["| benchmark | measure | value | baseline (same run) | ratio |", "|---|---|---|---|---|"]
    for name, result in results.items():
        for row in result.get("rows", []):
            ratio = row.get("ratio")
            lines.append(f"| {name.removesuffix('_bench')} | {row['measure']} | {_format(row['value'])}"
                         f" | {_format(row.get('baseline'))} | {_format(ratio) + '×' if ratio else ''} |")
    return "\n".join(lines)


def update_readme(table: str, header: str) -> None:
    text = README.read_text()
    if START not in text or END not in text:
        return
    before, rest = text.split(START, 1)
    after = rest.split(END, 1)[1]
    README.write_text(f"{before}{START}\n{header}\n\n{table}\n{END}{after}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes (a smoke run)")
    parser.add_argument("--only", action="append", choices=BENCHMARKS, help="run just these")
    args = parser.parse_args(argv)
    # thousands of simulated agents would log their fresh starts and retries: keep the figures readable
    logging.getLogger("tasseograph").setLevel(logging.ERROR)
    results: dict[str, dict] = {}
    for name in args.only or BENCHMARKS:
        started = time.perf_counter()
        print(f"== {name} ...", file=sys.stderr, flush=True)
        module = importlib.import_module(f"tests.bench.{name}")
        results[name] = module.run(quick=args.quick)
        results[name]["wall_s"] = round(time.perf_counter() - started, 2)
        print(f"   done in {results[name]['wall_s']} s", file=sys.stderr, flush=True)
    document = {"date": datetime.now(UTC).isoformat(timespec="seconds"), "quick": args.quick,
                "machine": _machine(), "results": results}
    if not args.only:
        RESULTS.write_text(json.dumps(document, indent=2) + "\n")
        machine = document["machine"]
        header = (f"Measured {document['date'][:10]} on {machine['cpus']} CPUs, "
                  f"{machine['machine']}, Python {machine['python']}"
                  f"{' (quick sizes)' if args.quick else ''}; raw figures in `tests/bench/results.json`.")
        update_readme(markdown_table(results), header)
    print(markdown_table(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
