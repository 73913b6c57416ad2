"""Paired comparison of two eval runs: did B really beat A on the same cases?

Cases are paired by (corpus, id) and scored on their consensus prediction (see summary.py).
Correctness is compared with the exact McNemar test on the discordant pairs; the change in
false-positive rate and in critical recall gets a 95% interval by Newcombe's paired method
(method 10 of Newcombe 1998, "Improved confidence intervals for the difference between
binomial proportions based on paired data": Wilson intervals combined square-and-add,
corrected for the correlation of the pairs).

The CI gate (``--fail-if-worse``) fails B when any of these holds:

* correctness is significantly worse: McNemar p < ``alpha`` (0.05) with more cases turned
  wrong than turned right;
* the false-positive rate rose by more than ``fpr_tolerance`` (default 0.02, two percentage
  points) — on the point estimate, because a pager-noise regression should block a merge
  before it is statistically proven;
* critical recall fell by more than ``recall_tolerance`` (default 0: any critical case
  that A caught and B misses blocks, which is the worst miss there is).
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from tasseograph.evals.metrics import false_positive
from tasseograph.evals.schema import RunDir
from tasseograph.evals.summary import consensus_pairs
from tasseograph.protocol import Status
from tasseograph.stats import mcnemar_exact, paired_difference_interval


class CompareError(Exception):
    """Runs that cannot be paired; one line, exit 2."""


class Gate(BaseModel):
    alpha: float = Field(default=0.05, gt=0, lt=1)
    fpr_tolerance: float = Field(default=0.02, ge=0, le=1)
    recall_tolerance: float = Field(default=0.0, ge=0, le=1)


class Flip(BaseModel):
    corpus: str
    id: str
    label: str
    a: str
    b: str


class PairedRate(BaseModel):
    """A rate on the same cases in both runs, and B − A with its paired 95% interval."""

    n: int
    a: float | None
    b: float | None
    delta: float | None
    delta_ci95: list[float]


class Comparison(BaseModel):
    a_dir: str
    b_dir: str
    a_run: str
    b_run: str
    shared_cases: int
    only_in_a: int
    only_in_b: int
    worse: list[Flip]      # right in A, wrong in B
    better: list[Flip]     # wrong in A, right in B
    changed: list[Flip]    # wrong in both, but a different wrong answer
    mcnemar_p: float
    accuracy: PairedRate
    false_positive_rate: PairedRate
    critical_recall: PairedRate
    gate_failures: list[str] = Field(default_factory=list)


def paired_rate(events: list[tuple[bool, bool]]) -> PairedRate:
    """``events``: per case, whether the event happened in A and in B."""
    both = sum(a and b for a, b in events)
    only_a = sum(a and not b for a, b in events)
    only_b = sum(b and not a for a, b in events)
    neither = len(events) - both - only_a - only_b
    n = len(events)
    rate_a = (both + only_a) / n if n else None
    rate_b = (both + only_b) / n if n else None
    low, high = paired_difference_interval(both, only_a, only_b, neither)
    return PairedRate(n=n, a=rate_a, b=rate_b,
                      delta=None if rate_a is None or rate_b is None else rate_b - rate_a,
                      delta_ci95=[low, high])


def select_runs(a: RunDir, b: RunDir, a_run: str | None = None,
                b_run: str | None = None) -> list[tuple[str, str]]:
    """Which combination of A to pair with which of B.

    Explicit choices win; two single-combination runs pair with each other; otherwise the
    combinations with the same name (prompt backend:model) in both runs pair up.
    """
    names_a = [r.run for r in a.summary.runs]
    names_b = [r.run for r in b.summary.runs]
    if a_run or b_run:
        return [(_pick(names_a, a_run, a.path), _pick(names_b, b_run, b.path))]
    if len(names_a) == 1 and len(names_b) == 1:
        return [(names_a[0], names_b[0])]
    shared = [name for name in names_a if name in names_b]
    if not shared:
        raise CompareError(f"no combination is in both runs ({names_a} vs {names_b}); "
                           "choose with --a-run/--b-run")
    return [(name, name) for name in shared]


def _pick(names: list[str], wanted: str | None, path: str) -> str:
    if wanted is None:
        if len(names) == 1:
            return names[0]
        raise CompareError(f"{path} holds several combinations {names}; choose one")
    if wanted in names:
        return wanted
    matches = [name for name in names if wanted in name]
    if len(matches) != 1:
        raise CompareError(f"{path}: {wanted!r} matches {len(matches)} of {names}")
    return matches[0]


def compare(a: RunDir, a_run: str, b: RunDir, b_run: str, gate: Gate | None = None) -> Comparison:
    pairs_a = consensus_pairs(a.records_of(a_run))
    pairs_b = consensus_pairs(b.records_of(b_run))
    shared = sorted(pairs_a.keys() & pairs_b.keys())
    if not shared:
        raise CompareError(f"{a.path} and {b.path} share no case ids ({a_run} vs {b_run})")
    worse, better, changed = [], [], []
    for key in shared:
        label, pred_a = pairs_a[key]
        pred_b = pairs_b[key][1]
        flip = Flip(corpus=key[0], id=key[1], label=label, a=pred_a, b=pred_b)
        right_a, right_b = pred_a == label, pred_b == label
        if right_a and not right_b:
            worse.append(flip)
        elif right_b and not right_a:
            better.append(flip)
        elif pred_a != pred_b:
            changed.append(flip)
    labels = {key: pairs_a[key][0] for key in shared}
    ok_keys = [k for k in shared if labels[k] == Status.ok]
    critical_keys = [k for k in shared if labels[k] == Status.critical]
    result = Comparison(
        a_dir=a.path, b_dir=b.path, a_run=a_run, b_run=b_run, shared_cases=len(shared),
        only_in_a=len(pairs_a.keys() - pairs_b.keys()), only_in_b=len(pairs_b.keys() - pairs_a.keys()),
        worse=worse, better=better, changed=changed,
        mcnemar_p=mcnemar_exact(len(worse), len(better)),
        accuracy=paired_rate([(pairs_a[k][1] == labels[k], pairs_b[k][1] == labels[k])
                              for k in shared]),
        false_positive_rate=paired_rate([(false_positive(labels[k], pairs_a[k][1]),
                                          false_positive(labels[k], pairs_b[k][1]))
                                         for k in ok_keys]),
        critical_recall=paired_rate([(pairs_a[k][1] == Status.critical,
                                      pairs_b[k][1] == Status.critical) for k in critical_keys]),
    )
    result.gate_failures = gate_failures(result, gate or Gate())
    return result


# a float difference of exactly the tolerance must not fail on rounding noise
_EPSILON = 1e-9


def gate_failures(result: Comparison, gate: Gate) -> list[str]:
    """Why B must not ship, per the rules in the module docstring; empty when it may."""
    failures = []
    if result.mcnemar_p < gate.alpha and len(result.worse) > len(result.better):
        failures.append(f"correctness significantly worse: {len(result.worse)} cases turned "
                        f"wrong, {len(result.better)} turned right, McNemar p = "
                        f"{result.mcnemar_p:.4g} < {gate.alpha:g}")
    fpr = result.false_positive_rate.delta
    if fpr is not None and fpr > gate.fpr_tolerance + _EPSILON:
        failures.append(f"false-positive rate up {fpr * 100:+.1f} pp "
                        f"(tolerance {gate.fpr_tolerance * 100:.1f} pp)")
    recall = result.critical_recall.delta
    if recall is not None and -recall > gate.recall_tolerance + _EPSILON:
        failures.append(f"critical recall down {recall * 100:+.1f} pp "
                        f"(tolerance {gate.recall_tolerance * 100:.1f} pp)")
    return failures


def _rate_line(name: str, rate: PairedRate) -> str:
    def pct(value: float | None) -> str:
        return "n/a" if value is None else f"{value * 100:.1f}%"

    if rate.delta is None:
        return f"{name}: no cases"
    low, high = rate.delta_ci95
    return (f"{name}: {pct(rate.a)} -> {pct(rate.b)}  (Δ {rate.delta * 100:+.1f} pp, "
            f"95% CI {low * 100:+.1f} to {high * 100:+.1f} pp, n={rate.n})")


def render_text(result: Comparison) -> str:
    lines = [
        f"A: {result.a_dir} [{result.a_run}]",
        f"B: {result.b_dir} [{result.b_run}]",
        f"shared cases: {result.shared_cases} (only in A: {result.only_in_a}, "
        f"only in B: {result.only_in_b})",
        _rate_line("accuracy", result.accuracy),
        _rate_line("false-positive rate", result.false_positive_rate),
        _rate_line("critical recall", result.critical_recall),
        f"McNemar exact (two-sided): {len(result.worse)} turned wrong, {len(result.better)} "
        f"turned right, p = {result.mcnemar_p:.4g}",
    ]
    for title, flips in (("turned wrong in B", result.worse), ("turned right in B", result.better),
                         ("changed but wrong in both", result.changed)):
        lines.append(f"{title} ({len(flips)}):")
        lines += [f"  {f.corpus}/{f.id}  label {f.label}: A {f.a} -> B {f.b}" for f in flips]
    if result.gate_failures:
        lines += ["gate: FAIL", *(f"  - {reason}" for reason in result.gate_failures)]
    else:
        lines.append("gate: pass")
    return "\n".join(lines)
