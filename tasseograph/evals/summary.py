"""From the case records of one combination to its summary.json object.

Repeats: every metric is computed on one prediction per case, the consensus (most frequent
prediction across repeats), so n is the number of cases and the Wilson intervals are honest
(repeats of one case are not independent samples). Tokens, cost and latency count every call,
so ``cost_per_1000_cases`` is the cost of 1,000 calls. Cache hits carry the tokens, cost and
latency of the call that paid for them, so a cached re-run reports what the prompt costs and
how fast the model is, not the cache; ``cached`` says how many answers were free this time.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from tasseograph.evals import metrics
from tasseograph.evals.schema import CaseRecord, CorpusInfo, Latency, RunSummary, StatusScores
from tasseograph.stats import percentiles


def predictions_by_case(records: Sequence[CaseRecord]) -> dict[tuple[str, str], list[CaseRecord]]:
    """Records grouped by case key, repeats in order."""
    grouped: dict[tuple[str, str], list[CaseRecord]] = defaultdict(list)
    for record in sorted(records, key=lambda r: r.repeat):
        grouped[record.key].append(record)
    return dict(grouped)


def consensus_pairs(records: Sequence[CaseRecord]) -> dict[tuple[str, str], metrics.Pair]:
    """{case key: (label, consensus prediction)}: what compare and the metrics score."""
    return {
        key: (group[0].label, metrics.consensus([r.predicted for r in group]))
        for key, group in predictions_by_case(records).items()
    }


def per_status(pairs: Sequence[metrics.Pair]) -> dict[str, StatusScores]:
    scores: dict[str, StatusScores] = {}
    for status in metrics.LABELS:
        p, r = metrics.precision(pairs, status), metrics.recall(pairs, status)
        scores[status] = StatusScores(
            precision=p.value, precision_ci95=p.ci95, recall=r.value, recall_ci95=r.ci95,
            f1=metrics.f1(p.value, r.value), support=r.n,
        )
    return scores


def _rate_fields(name: str, rate: metrics.Rate) -> dict[str, object]:
    return {name: rate.value, f"{name}_ci95": rate.ci95}


def summarize(records: Sequence[CaseRecord], *, corpora: list[CorpusInfo],
              git_commit: str | None) -> RunSummary:
    """The metrics of one combination (all its records share run/prompt/backend/model)."""
    if not records:
        raise ValueError("no case records to summarize")
    first = records[0]
    grouped = predictions_by_case(records)
    pairs = list(consensus_pairs(records).values())
    repeats = max(r.repeat for r in records) + 1
    per_repeat = [
        metrics.accuracy([(r.label, r.predicted) for r in records if r.repeat == k]).value
        for k in range(repeats)
    ]
    cost = sum(r.cost_usd for r in records)
    latencies = [r.latency_ms for r in records]
    return RunSummary(
        run=first.run, prompt=first.prompt,
        prompt_version=next((r.prompt_version for r in records if r.prompt_version), first.prompt),
        backend=first.backend, model=first.model,
        cases=len(pairs), repeats=repeats, predictions=len(records),
        **_rate_fields("accuracy", metrics.accuracy(pairs)),
        **_rate_fields("false_positive_rate", metrics.false_positive_rate(pairs)),
        **_rate_fields("critical_recall", metrics.critical_recall(pairs)),
        critical_called_ok=metrics.critical_called_ok(pairs),
        **_rate_fields("error_rate", metrics.error_rate(pairs)),
        errors=sum(r.predicted == metrics.ERROR for r in records),
        per_status=per_status(pairs),
        confusion=metrics.confusion_matrix(pairs),
        **_rate_fields("label_flip_rate",
                       metrics.label_flip_rate([[r.predicted for r in g] for g in grouped.values()])),
        per_repeat_accuracy=per_repeat,
        cached=sum(r.cached for r in records),
        input_tokens=sum(r.input_tokens for r in records),
        output_tokens=sum(r.output_tokens for r in records),
        cost_usd=round(cost, 6),
        cost_per_1000_cases=round(cost / len(records) * 1000, 6),
        latency_ms=Latency(**percentiles(latencies, (50, 95))),
        corpora=corpora,
        git_commit=git_commit,
        started_at=min(r.timestamp for r in records),
        finished_at=max(r.timestamp for r in records),
    )
