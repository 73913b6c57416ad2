"""Scorers and metrics as plain functions, in the inspect_ai spirit.

A *scorer* looks at one (label, predicted) pair; a *metric* reduces many pairs to a number.
Predictions are a status or ``"error"`` (no valid verdict). Every rate is a :class:`Rate`
(successes over n) so it carries its own 95% Wilson interval; a rate over zero cases is
``None``, never a made-up 0 or 1, and its interval is the whole of [0, 1].
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from tasseograph.protocol import Status
from tasseograph.stats import wilson_interval

ERROR = "error"
LABELS: tuple[str, ...] = tuple(s.value for s in Status)
PREDICTIONS: tuple[str, ...] = (*LABELS, ERROR)
ALARMS = frozenset({Status.warning.value, Status.critical.value})

Pair = tuple[str, str]  # (label, predicted)


@dataclass(frozen=True)
class Rate:
    successes: int
    n: int

    @property
    def value(self) -> float | None:
        return self.successes / self.n if self.n else None

    @property
    def ci95(self) -> list[float]:
        low, high = wilson_interval(self.successes, self.n)
        return [low, high]


# -- scorers --------------------------------------------------------------------------------

def correct(label: str, predicted: str) -> bool:
    return label == predicted


def false_positive(label: str, predicted: str) -> bool:
    """An ok case raised as warning or critical: what wakes someone up for nothing."""
    return label == Status.ok and predicted in ALARMS


# -- metrics --------------------------------------------------------------------------------

def count(pairs: Iterable[Pair], label: str | None = None, predicted: str | None = None) -> int:
    return sum(1 for lab, pred in pairs
               if (label is None or lab == label) and (predicted is None or pred == predicted))


def confusion_matrix(pairs: Sequence[Pair]) -> dict[str, dict[str, int]]:
    """{label: {predicted: count}} with every status and an ``error`` column, zeros included."""
    matrix = {label: dict.fromkeys(PREDICTIONS, 0) for label in LABELS}
    for label, predicted in pairs:
        matrix[label][predicted] += 1
    return matrix


def accuracy(pairs: Sequence[Pair]) -> Rate:
    """Correct over all cases; an error is a wrong answer."""
    return Rate(sum(correct(lab, pred) for lab, pred in pairs), len(pairs))


def false_positive_rate(pairs: Sequence[Pair]) -> Rate:
    """ok-labelled cases predicted warning or critical, over ok-labelled cases (DESIGN.md)."""
    ok_pairs = [(lab, pred) for lab, pred in pairs if lab == Status.ok]
    return Rate(sum(false_positive(lab, pred) for lab, pred in ok_pairs), len(ok_pairs))


def recall(pairs: Sequence[Pair], status: str) -> Rate:
    return Rate(count(pairs, status, status), count(pairs, label=status))


def precision(pairs: Sequence[Pair], status: str) -> Rate:
    return Rate(count(pairs, status, status), count(pairs, predicted=status))


def critical_recall(pairs: Sequence[Pair]) -> Rate:
    return recall(pairs, Status.critical)


def critical_called_ok(pairs: Sequence[Pair]) -> int:
    """The worst miss: a critical case the model waved through as ok."""
    return count(pairs, Status.critical, Status.ok)


def error_rate(pairs: Sequence[Pair]) -> Rate:
    return Rate(count(pairs, predicted=ERROR), len(pairs))


def f1(p: float | None, r: float | None) -> float | None:
    if p is None or r is None:
        return None
    return 0.0 if p + r == 0 else 2 * p * r / (p + r)


def consensus(predictions: Sequence[str]) -> str:
    """The most frequent prediction across repeats; a tie goes to the one seen first."""
    counts = Counter(predictions)
    best = max(counts.values())
    return next(pred for pred in predictions if counts[pred] == best)


def label_flip_rate(predictions_by_case: Iterable[Sequence[str]]) -> Rate:
    """Cases whose predicted status is not the same on every repeat, over cases repeated."""
    repeated = [preds for preds in predictions_by_case if len(preds) > 1]
    return Rate(sum(len(set(preds)) > 1 for preds in repeated), len(repeated))
