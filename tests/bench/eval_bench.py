"""Eval-harness benchmark: how fast a suite runs, how well concurrency hides LLM latency, and
what the response cache saves. Figures only, no asserts (``make bench``).

* rules throughput: cases/s through the whole harness (load, run, score, write reports);
* fake LLM with 50 ms latency: wall time at concurrency 1 vs 8 (ideal ratio 8);
* 1,000 cases at 0.5 s and concurrency 16 against the ideal 1000 × 0.5 / 16 s (full run only);
* a fully cached re-run against the first run.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from tasseograph.evals.corpus import LabelEntry, load_corpus, write_corpus
from tasseograph.evals.execute import execute
from tasseograph.evals.suite import ModelSpec, Suite
from tests.support.fake_inference import FakeInferenceServer

MINI = Path(__file__).resolve().parents[1] / "evals" / "data" / "mini"


def _corpus(root: Path, n: int) -> Path:
    """``n`` cases cycling through the mini corpus, each made unique (so none share a cache key)."""
    source = load_corpus(MINI).cases
    entries = []
    for i in range(n):
        case = source[i % len(source)]
        entries.append((LabelEntry(id=f"c{i:05d}", status=case.label),
                        [*case.lines, f"[99999.{i:06d}] bench filler line {i}"]))
    write_corpus(root, entries)
    return root


def _timed(suite: Suite, out: Path, cache: Path, use_cache: bool = True) -> tuple[float, int]:
    started = time.perf_counter()
    result = execute(suite, out, use_cache=use_cache, progress=False, cache_path=cache)
    return time.perf_counter() - started, result.summary.runs[0].predictions


def run(quick: bool) -> dict:
    rows: list[dict] = []
    details: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as tmp_name, FakeInferenceServer() as server:
        # The fake server writes headers and body separately; on a kept-alive connection Nagle
        # plus delayed ACK then add ~40 ms to every reply, which would measure the fake, not the
        # harness. Real inference servers set TCP_NODELAY.
        server._httpd.RequestHandlerClass.disable_nagle_algorithm = True  # type: ignore[attr-defined]
        tmp = Path(tmp_name)
        n_rules = 200 if quick else 2000
        rules_corpus = _corpus(tmp / "rules", n_rules)
        seconds, calls = _timed(Suite(corpora=[str(rules_corpus)]), tmp / "out-rules",
                                tmp / "cache.db")
        rows.append({"measure": f"rules backend, {calls} cases (cases/s)",
                     "value": calls / seconds, "baseline": None, "ratio": None})

        def llm(corpus: Path, concurrency: int) -> Suite:
            return Suite(corpora=[str(corpus)], concurrency=concurrency, retry_backoff=0.0,
                         models=[ModelSpec(backend="openai", model="bench",
                                           base_url=server.base_url)])

        n_llm = 32 if quick else 96
        llm_corpus = _corpus(tmp / "llm", n_llm)
        server.latency = 0.05
        serial, _ = _timed(llm(llm_corpus, 1), tmp / "o1", tmp / "cache.db", use_cache=False)
        parallel, _ = _timed(llm(llm_corpus, 8), tmp / "o8", tmp / "cache.db", use_cache=False)
        rows.append({"measure": f"fake LLM 50 ms, {n_llm} cases: concurrency 8 vs 1 (s)",
                     "value": parallel, "baseline": serial, "ratio": serial / parallel})

        first, _ = _timed(llm(llm_corpus, 8), tmp / "oc1", tmp / "cache2.db")
        cached, _ = _timed(llm(llm_corpus, 8), tmp / "oc2", tmp / "cache2.db")
        rows.append({"measure": f"fully cached re-run, {n_llm} cases (s)", "value": cached,
                     "baseline": first, "ratio": first / cached})
        details["requests"] = len(server.requests)

        if not quick:
            n_big, latency, concurrency = 1000, 0.5, 16
            big = _corpus(tmp / "big", n_big)
            server.latency = latency
            seconds, _ = _timed(llm(big, concurrency), tmp / "obig", tmp / "cache3.db")
            ideal = n_big * latency / concurrency
            rows.append({"measure": f"{n_big} cases, 0.5 s LLM, concurrency {concurrency} (s)",
                         "value": seconds, "baseline": ideal, "ratio": seconds / ideal})
            server.latency = 0.0
            seconds, _ = _timed(llm(big, concurrency), tmp / "obig2", tmp / "cache3.db")
            rows.append({"measure": f"{n_big} cases fully cached (cases/s)",
                         "value": n_big / seconds, "baseline": None, "ratio": None})
    return {"rows": rows, **details}
