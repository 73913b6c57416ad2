"""One eval run from start to finish: check the suite, load corpora, run, write the outputs.

Everything that can be wrong with the inputs (a corpus, a prompt, a missing key) is found
before the first call, as a :class:`UsageError`, so a bad flag never costs a half-run.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from tasseograph.config import ENV_LLM_API_KEY
from tasseograph.evals.cache import ResponseCache
from tasseograph.evals.corpus import Corpus, CorpusError, load_corpus
from tasseograph.evals.pilot import corpus_from_db
from tasseograph.evals.provenance import git_commit
from tasseograph.evals.report import write_reports
from tasseograph.evals.runner import AnalyzerFactory, RunOptions, make_suite_analyzer, run_suite
from tasseograph.evals.schema import (
    CASES_FILE,
    SUITE_FILE,
    SUMMARY_FILE,
    CorpusInfo,
    SummaryFile,
    write_cases,
)
from tasseograph.evals.suite import Suite
from tasseograph.evals.summary import summarize
from tasseograph.llm import PromptError, load_prompt


class UsageError(Exception):
    """Inputs that cannot make a run; one line, the CLI exits 2."""


@dataclass
class RunResult:
    out: Path
    summary: SummaryFile


def load_corpora(suite: Suite) -> list[Corpus]:
    """Corpus directories and reviewed pilot databases, names made unique."""
    try:
        corpora = [load_corpus(path) for path in suite.corpora]
        corpora += [corpus_from_db(path) for path in suite.corpus_from_db]
    except CorpusError as exc:
        raise UsageError(str(exc)) from None
    if not corpora:
        raise UsageError("no corpus: give --corpus DIR, --corpus-from-db FILE or a suite")
    seen: dict[str, int] = {}
    for corpus in corpora:
        seen[corpus.name] = seen.get(corpus.name, 0) + 1
        if seen[corpus.name] > 1:  # two dirs both called dev/: keep their cases apart
            corpus.name = f"{corpus.name}-{seen[corpus.name]}"
            for case in corpus.cases:
                case.corpus = corpus.name
    return corpora


def check_combinations(suite: Suite, factory: AnalyzerFactory | None) -> None:
    """Every prompt exists and every backend can be built (model, base URL, key)."""
    for prompt in suite.prompts:
        try:
            load_prompt(prompt)
        except PromptError as exc:
            raise UsageError(str(exc)) from None
    if factory is not None:
        return
    key = os.environ.get(ENV_LLM_API_KEY)
    for spec in suite.models:
        try:
            spec.settings(suite.prompts[0], key).check()
        except ValueError as exc:
            raise UsageError(str(exc)) from None


def default_out(suite: Suite) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return Path("evals") / "runs" / f"{suite.name}-{stamp}"


def execute(suite: Suite, out: Path | None = None, *, use_cache: bool = True,
            progress: bool = True, factory: AnalyzerFactory | None = None,
            cache_path: Path | None = None, suite_path: Path | None = None) -> RunResult:
    """Run ``suite`` and write summary.json, cases.jsonl, suite.yaml and the reports."""
    check_combinations(suite, factory)
    corpora = load_corpora(suite)
    out = out or (Path(suite.out) if suite.out else default_out(suite))
    options = RunOptions(concurrency=suite.concurrency, repeats=suite.repeats,
                         max_retries=suite.max_retries, retry_backoff=suite.retry_backoff,
                         progress=progress)
    commit = git_commit()
    needs_cache = use_cache and any(spec.backend != "rules" for spec in suite.models)
    cache = ResponseCache(cache_path) if needs_cache else None
    started = _now()
    try:
        results = asyncio.run(run_suite(suite, corpora, factory or make_suite_analyzer, options,
                                        cache, commit))
    finally:
        if cache is not None:
            cache.close()
    infos = [CorpusInfo(name=c.name, path=c.path, manifest_hash=c.manifest_hash,
                        cases=len(c.cases)) for c in corpora]
    summary = SummaryFile(
        runs=[summarize(records, corpora=infos, git_commit=commit) for records in results.values()],
        suite=str(suite_path) if suite_path else None, git_commit=commit,
        started_at=started, finished_at=_now(),
    )
    out.mkdir(parents=True, exist_ok=True)
    records = [r for run_records in results.values() for r in run_records]
    write_cases(out / CASES_FILE, records)
    (out / SUMMARY_FILE).write_text(summary.to_json(), encoding="utf-8")
    (out / SUITE_FILE).write_text(suite.to_yaml(), encoding="utf-8")
    write_reports(out, summary, records)
    return RunResult(out=out, summary=summary)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
