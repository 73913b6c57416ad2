"""The simulated fleet at pilot-target scale, and the LLM cost model per host per day.

1. 600 agents × 12 ticks against a real collector (rules backend, then a fake LLM with 200 ms
   latency): the slowest tick against the 5-minute poll interval, and the exactly-once audit.
2. Cost: 100 hosts × 12 ticks with occasional EDAC storms through the anthropic backend (fake
   server, Haiku prices), with line collapsing on and off; prompt caching priced in and out.
   One tick stands for one poll interval, so a day is 288 ticks.
"""

from __future__ import annotations

import sqlite3
import tempfile
import time
from pathlib import Path
from typing import Any

from tasseograph.collector.serve import BackgroundCollector
from tasseograph.config import DEFAULT_PRICES
from tests.support.collector import API_KEY, collector_config, fake_llm_overrides
from tests.support.fake_inference import FakeInferenceServer
from tests.support.fleet import Fleet

TICKS_PER_DAY = 24 * 60 * 60 // 300
HAIKU = "claude-3-5-haiku-20241022"
STORM = "EDAC MC0: 1 CE memory read error on CPU_SrcID#0_Ha#0_Chan#1_DIMM#0 (channel:1 slot:0 page:0x3f2a1)"


def _soak(hosts: int, ticks: int, llm_latency: float | None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp, FakeInferenceServer() as llm:
        root = Path(tmp)
        llm.latency = llm_latency or 0.0
        overrides = fake_llm_overrides(llm.base_url) if llm_latency is not None else {}
        config = collector_config(root, **overrides, llm_max_concurrency=16)
        with BackgroundCollector(config) as collector:
            fleet = Fleet(root / "fleet", collector.ingest_url, config.tls_cert, hosts, API_KEY,
                          workers=64, request_timeout=300)
            fleet.tick()
            durations = []
            for _ in range(ticks):
                fleet.write(max_lines=4)
                started = time.perf_counter()
                fleet.tick()
                durations.append(time.perf_counter() - started)
            fleet.drain()
            fleet.close()
            audit = fleet.audit(config.db_path)
    return {"hosts": hosts, "ticks": ticks, "tick_s": durations, "slowest_tick_s": max(durations),
            "audit": audit.__dict__, "exactly_once": audit.exactly_once and audit.missing == 0}


def _cost(hosts: int, ticks: int, collapse: bool) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp, FakeInferenceServer() as llm:
        root = Path(tmp)
        overrides = {**fake_llm_overrides(llm.base_url, "anthropic"), "llm_model": HAIKU}
        config = collector_config(root, **overrides, collapse_repeats=collapse)
        with BackgroundCollector(config) as collector:
            fleet = Fleet(root / "fleet", collector.ingest_url, config.tls_cert, hosts, API_KEY,
                          seed=7)
            fleet.tick()
            for tick in range(ticks):
                fleet.write(max_lines=3)
                for host in fleet.hosts[tick % 20::20]:  # 5 % of hosts per tick: an EDAC storm
                    host.write([STORM] * 200)
                fleet.tick()
            fleet.drain()
            fleet.close()
        db = sqlite3.connect(config.db_path)
        calls, inp, out, cache_read, cache_write, cost = db.execute(
            "SELECT COUNT(*), SUM(input_tokens), SUM(output_tokens), SUM(cache_read_tokens), "
            "SUM(cache_write_tokens), SUM(cost_usd) FROM results").fetchone()
        db.close()
    price = DEFAULT_PRICES[HAIKU]
    uncached = ((inp + cache_read + cache_write) * price.input_per_mtok
                + out * price.output_per_mtok) / 1e6
    scale = TICKS_PER_DAY / ticks / hosts
    return {"calls": calls * scale, "input_tokens": (inp + cache_read + cache_write) * scale,
            "output_tokens": out * scale, "cache_read_tokens": cache_read * scale,
            "usd": cost * scale, "usd_without_cache": uncached * scale}


def run(quick: bool = False) -> dict[str, Any]:
    hosts, ticks = (60, 4) if quick else (600, 12)
    rules = _soak(hosts, ticks, None)
    llm = _soak(hosts, ticks, 0.2)
    cost_hosts, cost_ticks = (20, 6) if quick else (100, 12)
    collapsed = _cost(cost_hosts, cost_ticks, collapse=True)
    raw = _cost(cost_hosts, cost_ticks, collapse=False)
    poll = "5-min poll interval (300 s)"
    rows = [
        {"measure": f"{hosts} agents: slowest tick, rules backend (s)",
         "value": rules["slowest_tick_s"], "baseline": poll, "ratio": rules["slowest_tick_s"] / 300},
        {"measure": f"{hosts} agents: slowest tick, LLM 200 ms × 16 slots (s)",
         "value": llm["slowest_tick_s"], "baseline": poll, "ratio": llm["slowest_tick_s"] / 300},
        {"measure": "exactly-once audit (both soaks): lines written / missing / duplicated",
         "value": f"{rules['audit']['written'] + llm['audit']['written']} / "
                  f"{rules['audit']['missing'] + llm['audit']['missing']} / "
                  f"{rules['audit']['duplicated'] + llm['audit']['duplicated']}",
         "baseline": None, "ratio": None},
        {"measure": "LLM calls per host per day", "value": collapsed["calls"], "baseline": None,
         "ratio": None},
        {"measure": "input tokens per host per day, collapsing on", "value": collapsed["input_tokens"],
         "baseline": raw["input_tokens"], "ratio": collapsed["input_tokens"] / raw["input_tokens"]},
        {"measure": "output tokens per host per day", "value": collapsed["output_tokens"],
         "baseline": None, "ratio": None},
        {"measure": "USD per host per day, collapsing + prompt caching (Haiku 3.5 prices)",
         "value": collapsed["usd"], "baseline": raw["usd_without_cache"],
         "ratio": collapsed["usd"] / raw["usd_without_cache"]},
        {"measure": "USD per host per day, collapsing only", "value": collapsed["usd_without_cache"],
         "baseline": raw["usd_without_cache"],
         "ratio": collapsed["usd_without_cache"] / raw["usd_without_cache"]},
        {"measure": "USD per host per day, prompt caching only", "value": raw["usd"],
         "baseline": raw["usd_without_cache"], "ratio": raw["usd"] / raw["usd_without_cache"]},
        {"measure": "USD per day for 600 hosts, collapsing + caching", "value": collapsed["usd"] * 600,
         "baseline": raw["usd_without_cache"] * 600, "ratio": None},
    ]
    return {"rows": rows, "rules_soak": rules, "llm_soak": llm, "cost_collapsed": collapsed,
            "cost_raw": raw}


if __name__ == "__main__":
    import json
    import sys

    print(json.dumps(run(quick="--quick" in sys.argv), indent=2, default=str))
