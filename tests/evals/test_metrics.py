"""Metrics against hand-computed examples."""

from __future__ import annotations

import pytest

from tasseograph.evals import metrics
from tasseograph.evals.metrics import Rate
from tasseograph.evals.schema import CaseRecord
from tasseograph.evals.summary import summarize

# label, predicted: 2 ok right, 1 ok → critical (FP), 1 ok → error, 1 warning right,
# 1 warning → ok, 2 critical right, 1 critical → ok, 1 critical → warning
MIXED = [
    ("ok", "ok"), ("ok", "ok"), ("ok", "critical"), ("ok", "error"),
    ("warning", "warning"), ("warning", "ok"),
    ("critical", "critical"), ("critical", "critical"), ("critical", "ok"), ("critical", "warning"),
]


def test_confusion_matrix_has_every_cell_and_an_error_column() -> None:
    assert metrics.confusion_matrix(MIXED) == {
        "ok": {"ok": 2, "warning": 0, "critical": 1, "error": 1},
        "warning": {"ok": 1, "warning": 1, "critical": 0, "error": 0},
        "critical": {"ok": 1, "warning": 1, "critical": 2, "error": 0},
    }


@pytest.mark.parametrize(
    ("metric", "expected"),
    [
        (metrics.accuracy, Rate(5, 10)),
        (metrics.false_positive_rate, Rate(1, 4)),   # the error is not an alarm
        (metrics.critical_recall, Rate(2, 4)),
        (metrics.error_rate, Rate(1, 10)),
        (lambda p: metrics.precision(p, "ok"), Rate(2, 4)),
        (lambda p: metrics.recall(p, "ok"), Rate(2, 4)),
        (lambda p: metrics.precision(p, "warning"), Rate(1, 2)),
        (lambda p: metrics.recall(p, "warning"), Rate(1, 2)),
        (lambda p: metrics.precision(p, "critical"), Rate(2, 3)),
    ],
)
def test_rates_on_a_mixed_example(metric, expected: Rate) -> None:  # type: ignore[no-untyped-def]
    assert metric(MIXED) == expected


def test_critical_called_ok_and_f1() -> None:
    assert metrics.critical_called_ok(MIXED) == 1
    assert metrics.f1(2 / 3, 2 / 4) == pytest.approx(2 * (2 / 3) * 0.5 / (2 / 3 + 0.5))
    assert metrics.f1(0.0, 0.0) == 0.0
    assert metrics.f1(None, 1.0) is None


def test_all_right() -> None:
    pairs = [("ok", "ok"), ("warning", "warning"), ("critical", "critical")]
    assert metrics.accuracy(pairs).value == 1.0
    assert metrics.false_positive_rate(pairs).value == 0.0
    assert metrics.critical_recall(pairs).value == 1.0
    assert metrics.accuracy(pairs).ci95[1] == 1.0


def test_all_wrong() -> None:
    pairs = [("ok", "warning"), ("warning", "critical"), ("critical", "ok")]
    assert metrics.accuracy(pairs).value == 0.0
    assert metrics.false_positive_rate(pairs).value == 1.0
    assert metrics.critical_recall(pairs).value == 0.0
    assert metrics.critical_called_ok(pairs) == 1


def test_empty_classes_are_none_not_zero() -> None:
    only_ok = [("ok", "ok"), ("ok", "ok")]
    assert metrics.critical_recall(only_ok).value is None
    assert metrics.critical_recall(only_ok).ci95 == [0.0, 1.0]
    assert metrics.precision(only_ok, "warning").value is None
    assert metrics.accuracy([]).value is None
    assert metrics.false_positive_rate([("critical", "critical")]).value is None


def test_rate_interval_is_wilson() -> None:
    assert Rate(1, 10).ci95 == pytest.approx([0.0179, 0.4042], abs=1e-4)


@pytest.mark.parametrize(
    ("predictions", "consensus"),
    [(["ok"], "ok"), (["ok", "warning", "warning"], "warning"), (["warning", "ok"], "warning"),
     (["error", "ok", "error"], "error")],
)
def test_consensus(predictions: list[str], consensus: str) -> None:
    assert metrics.consensus(predictions) == consensus


def test_label_flip_rate_counts_cases_not_predictions() -> None:
    by_case = [["ok", "ok", "ok"], ["ok", "warning", "ok"], ["critical", "critical", "critical"],
               ["error", "ok", "ok"]]
    assert metrics.label_flip_rate(by_case) == Rate(2, 4)
    assert metrics.label_flip_rate([["ok"], ["warning"]]) == Rate(0, 0)


def _record(cid: str, label: str, predicted: str, repeat: int = 0, **extra: object) -> CaseRecord:
    return CaseRecord(id=cid, label=label, predicted=predicted, repeat=repeat, run="r",
                      prompt="p@v1", backend="openai", model="m", timestamp=f"t{repeat}",
                      **extra)  # type: ignore[arg-type]


def test_summary_scores_the_consensus_and_counts_every_call() -> None:
    records = [
        _record("a", "ok", "ok", 0, input_tokens=10, output_tokens=2, cost_usd=0.001, latency_ms=100),
        _record("a", "ok", "warning", 1, input_tokens=10, output_tokens=2, cost_usd=0.001, latency_ms=300),
        _record("a", "ok", "ok", 2, input_tokens=10, output_tokens=2, cost_usd=0.001, latency_ms=200),
        _record("b", "critical", "ok", 0, latency_ms=400),
        _record("b", "critical", "ok", 1, latency_ms=500, cached=True),
        _record("b", "critical", "error", 2, error="invalid response", latency_ms=600),
    ]
    s = summarize(records, corpora=[], git_commit=None)
    assert (s.cases, s.repeats, s.predictions) == (2, 3, 6)
    assert s.accuracy == 0.5 and s.false_positive_rate == 0.0
    assert s.critical_called_ok == 1 and s.critical_recall == 0.0
    assert s.errors == 1 and s.error_rate == 0.0  # the consensus of b is ok, not error
    assert s.label_flip_rate == 1.0  # both cases flipped across repeats
    assert s.per_repeat_accuracy == [0.5, 0.0, 0.5]
    assert (s.input_tokens, s.output_tokens, s.cached) == (30, 6, 1)
    assert s.cost_usd == pytest.approx(0.003)
    assert s.cost_per_1000_cases == pytest.approx(0.5)
    assert s.latency_ms.p50 == pytest.approx(350.0)
    assert s.latency_ms.p95 == pytest.approx(575.0)
