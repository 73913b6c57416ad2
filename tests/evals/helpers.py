"""Builders for the eval-harness tests: small corpora, constructed runs, suites."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from tasseograph.evals.corpus import LabelEntry, write_corpus
from tasseograph.evals.execute import RunResult, execute
from tasseograph.evals.schema import (
    CASES_FILE,
    SUMMARY_FILE,
    CaseRecord,
    CorpusInfo,
    SummaryFile,
    write_cases,
)
from tasseograph.evals.suite import ModelSpec, Suite
from tasseograph.evals.summary import summarize

DATA = Path(__file__).resolve().parent / "data"
MINI = DATA / "mini"


def make_corpus(root: Path, cases: Sequence[tuple[str, str, list[str]]]) -> Path:
    """Write (id, status, lines) cases as a corpus directory."""
    write_corpus(root, [(LabelEntry(id=cid, status=status), lines) for cid, status, lines in cases])
    return root


def write_run(root: Path, cases: Sequence[tuple[str, str, str]], run: str = "p@v1 rules:rules",
              repeat_predictions: Sequence[Sequence[str]] | None = None) -> Path:
    """A run directory from (id, label, predicted) triples, through the real summary code."""
    records = [CaseRecord(id=cid, label=label, predicted=predicted, corpus="c", run=run,
                          prompt="p@v1", backend="rules", model="rules", timestamp="t")
               for cid, label, predicted in cases]
    root.mkdir(parents=True, exist_ok=True)
    write_cases(root / CASES_FILE, records)
    info = CorpusInfo(name="c", path=None, manifest_hash="0" * 64, cases=len(cases))
    summary = SummaryFile(runs=[summarize(records, corpora=[info], git_commit=None)],
                          started_at="t", finished_at="t")
    (root / SUMMARY_FILE).write_text(summary.to_json())
    return root


def openai_suite(corpus: Path, base_url: str, **fields: object) -> Suite:
    """A suite against the fake server's OpenAI endpoint, no backoff waits."""
    values: dict[str, object] = {
        "corpora": [str(corpus)], "retry_backoff": 0.0, "concurrency": 4,
        "models": [ModelSpec(backend="openai", model="fake-model", base_url=base_url)],
    }
    values.update(fields)
    return Suite(**values)  # type: ignore[arg-type]


def run_quietly(suite: Suite, out: Path, **kwargs: object) -> RunResult:
    return execute(suite, out, progress=False, **kwargs)  # type: ignore[arg-type]
