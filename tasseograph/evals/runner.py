"""Replays corpora against prompt × model combinations: bounded concurrency, retries, cache.

Each call goes through the shared retry policy (``analyze_with_retries``: 5xx/529/timeouts back
off 1 s, 2 s, 4 s …); a 429 waits the provider's ``retry_after`` and tries again. An answer
that never became a valid verdict is recorded as ``predicted: error`` with the reason, and is
never cached. The rules backend is never cached: it is local and instant, and a cached answer
would outlive a change to the rules.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

from tasseograph.config import DEFAULT_PRICES, ENV_LLM_API_KEY
from tasseograph.evals.cache import ResponseCache, cache_key
from tasseograph.evals.corpus import Case, Corpus
from tasseograph.evals.metrics import ERROR
from tasseograph.evals.provenance import prompt_hash
from tasseograph.evals.schema import CaseRecord
from tasseograph.evals.suite import ModelSpec, Suite
from tasseograph.llm import (
    Analysis,
    Analyzer,
    InvalidLLMResponse,
    LLMError,
    LLMRateLimited,
    analyze_with_retries,
    make_analyzer,
)
from tasseograph.llm.cost import estimate_cost

AnalyzerFactory = Callable[[str, ModelSpec], Analyzer]
Sleep = Callable[[float], Awaitable[None]]

MAX_RATE_LIMIT_SLEEP = 60.0


@dataclass
class RunOptions:
    concurrency: int = 8
    repeats: int = 1
    max_retries: int = 3
    retry_backoff: float = 1.0
    max_rate_limit_waits: int = 8
    progress: bool = True
    sleep: Sleep = asyncio.sleep


@dataclass
class Combination:
    """One prompt × backend/model of a suite, and the provenance every record of it carries."""

    prompt: str
    spec: ModelSpec
    git_commit: str | None
    corpus_hashes: dict[str, str] = field(default_factory=dict)
    suffix: str = ""  # tells apart two specs with the same backend:model (other params)

    @cached_property
    def model(self) -> str:
        return self.spec.resolved_model()

    @cached_property
    def parameters(self) -> dict[str, Any]:
        return self.spec.parameters()

    @property
    def label(self) -> str:
        """The run's name in summary.json, cases.jsonl and compare: prompt backend:model."""
        return f"{self.prompt} {self.spec.backend}:{self.model}{self.suffix}"


def make_suite_analyzer(prompt: str, spec: ModelSpec) -> Analyzer:
    """The production analyzer for one combination; the key comes from TASSEOGRAPH_LLM_API_KEY."""
    return make_analyzer(spec.settings(prompt, os.environ.get(ENV_LLM_API_KEY) or None))


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def request_material(analyzer: Analyzer, lines: Sequence[str]) -> list[str]:
    """What the backend will be sent for ``lines``: the rendered prompt when it has one."""
    prepare = getattr(analyzer, "prepare", None)
    if prepare is None:
        return list(lines)
    rendered, _ = prepare([line.rstrip("\r\n") for line in lines])
    return [rendered.system, rendered.user]


async def _analyze(analyzer: Analyzer, lines: Sequence[str], options: RunOptions) -> Analysis:
    """The shared retry policy, plus waiting out 429s as the provider asks."""
    waits = 0
    while True:
        try:
            return await analyze_with_retries(analyzer, lines, max_retries=options.max_retries,
                                              backoff=options.retry_backoff, sleep=options.sleep)
        except LLMRateLimited as exc:
            waits += 1
            if waits > options.max_rate_limit_waits:
                raise
            await options.sleep(min(max(exc.retry_after, 0.0), MAX_RATE_LIMIT_SLEEP))


def _record(case: Case, repeat: int, combo: Combination, **fields: Any) -> CaseRecord:
    version = fields.pop("prompt_version", "") or ""
    return CaseRecord(
        id=case.id, label=case.label.value, corpus=case.corpus, categories=case.categories,
        corpus_hash=combo.corpus_hashes.get(case.corpus, ""), repeat=repeat, run=combo.label,
        prompt=combo.prompt, prompt_version=version, prompt_hash=prompt_hash(version),
        backend=combo.spec.backend, model=combo.model, base_url=combo.spec.base_url,
        git_commit=combo.git_commit, timestamp=_now(), **fields,
    )


def _from_analysis(case: Case, repeat: int, combo: Combination, analysis: Analysis,
                   cached: bool) -> CaseRecord:
    return _record(
        case, repeat, combo, predicted=analysis.verdict.status.value,
        issues=[issue.model_dump(mode="json") for issue in analysis.verdict.issues],
        latency_ms=analysis.latency_ms, input_tokens=analysis.usage.input_tokens,
        output_tokens=analysis.usage.output_tokens, cached=cached, cost_usd=analysis.cost_usd,
        prompt_version=analysis.prompt_version,
    )


async def evaluate_case(analyzer: Analyzer, case: Case, repeat: int, combo: Combination,
                        options: RunOptions, cache: ResponseCache | None) -> CaseRecord:
    """One case, one repeat: from the cache when possible, else the backend (never raises)."""
    key = ""
    if cache is not None:
        key = cache_key(backend=combo.spec.backend, model=combo.model,
                        prompt_version=analyzer.prompt_version,
                        request=request_material(analyzer, case.lines),
                        parameters=combo.parameters, repeat=repeat)
        if (hit := cache.get(key)) is not None:
            return _from_analysis(case, repeat, combo, hit, cached=True)
    started = time.monotonic()
    try:
        analysis = await _analyze(analyzer, case.lines, options)
    except InvalidLLMResponse as exc:
        return _record(case, repeat, combo, predicted=ERROR, error=f"invalid response: {exc}",
                       latency_ms=round((time.monotonic() - started) * 1000),
                       input_tokens=exc.usage.input_tokens, output_tokens=exc.usage.output_tokens,
                       cost_usd=estimate_cost(exc.usage, combo.model, DEFAULT_PRICES),
                       prompt_version=exc.prompt_version or analyzer.prompt_version)
    except LLMError as exc:
        return _record(case, repeat, combo, predicted=ERROR,
                       error=f"{type(exc).__name__}: {exc}",
                       latency_ms=round((time.monotonic() - started) * 1000),
                       prompt_version=analyzer.prompt_version)
    if cache is not None:
        cache.put(key, analysis)
    return _from_analysis(case, repeat, combo, analysis, cached=False)


def _progress(enabled: bool) -> Any:
    """A rich progress bar on stderr; silent when stderr is not a terminal."""
    if not enabled:
        return nullcontext(None)
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    console = Console(stderr=True)
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), TimeRemainingColumn(), console=console,
                    disable=not console.is_terminal, transient=False)


async def run_combination(analyzer: Analyzer, cases: Sequence[Case], combo: Combination,
                          options: RunOptions, cache: ResponseCache | None,
                          progress: Any = None) -> list[CaseRecord]:
    """Every case × repeat through one analyzer, at most ``options.concurrency`` at a time."""
    semaphore = asyncio.Semaphore(options.concurrency)
    task = progress.add_task(combo.label, total=len(cases) * options.repeats) if progress else None
    use_cache = cache if combo.spec.backend != "rules" else None

    async def one(case: Case, repeat: int) -> CaseRecord:
        async with semaphore:
            record = await evaluate_case(analyzer, case, repeat, combo, options, use_cache)
        if progress is not None:
            progress.advance(task)
        return record

    records = await asyncio.gather(*(one(c, k) for k in range(options.repeats) for c in cases))
    return sorted(records, key=lambda r: (r.corpus, r.id, r.repeat))


def all_cases(corpora: Sequence[Corpus]) -> list[Case]:
    return [case for corpus in corpora for case in corpus.cases]


async def run_suite(suite: Suite, corpora: Sequence[Corpus], factory: AnalyzerFactory,
                    options: RunOptions, cache: ResponseCache | None,
                    git_commit: str | None) -> dict[str, list[CaseRecord]]:
    """{run label: records} for every combination of the suite, one combination at a time."""
    cases = all_cases(corpora)
    hashes = {corpus.name: corpus.manifest_hash for corpus in corpora}
    results: dict[str, list[CaseRecord]] = {}
    with _progress(options.progress) as progress:
        for prompt, spec in suite.combinations():
            combo = Combination(prompt=prompt, spec=spec, git_commit=git_commit,
                                corpus_hashes=hashes)
            number = 2
            while combo.label in results:
                combo.suffix, number = f" #{number}", number + 1
            analyzer = factory(prompt, spec)
            try:
                results[combo.label] = await run_combination(analyzer, cases, combo, options,
                                                             cache, progress)
            finally:
                await analyzer.aclose()
    return results
