"""Small statistics shared by the weekly report and the eval harness.

Kept dependency-free (no numpy/scipy) so any component can import it cheaply, and so both
places compute a rate's interval and a latency percentile exactly the same way.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence


def proportion(successes: int, n: int) -> float | None:
    """successes / n, or None when there is nothing to divide by (never a ZeroDivisionError)."""
    _check_counts(successes, n)
    return successes / n if n else None


def wilson_interval(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion (95 % by default).

    Preferred to the normal approximation because it stays inside [0, 1] and behaves at 0 and n
    successes, which is exactly where a small pilot's false-positive counts sit. With n == 0 the
    data say nothing: the interval is the whole of [0, 1].
    """
    _check_counts(successes, n)
    if z <= 0:
        raise ValueError("z must be positive")
    if n == 0:
        return 0.0, 1.0
    p = successes / n
    z2 = z * z
    denominator = 1.0 + z2 / n
    centre = (p + z2 / (2 * n)) / denominator
    half = z * math.sqrt(p * (1.0 - p) / n + z2 / (4 * n * n)) / denominator
    lo, hi = max(0.0, centre - half), min(1.0, centre + half)
    # exact bounds where they are known, free of rounding noise
    if successes == 0:
        lo = 0.0
    if successes == n:
        hi = 1.0
    return lo, hi


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) with linear interpolation between order statistics.

    The same definition as numpy's default ("linear") and DuckDB's ``quantile_cont``, so the
    report's SQL figures and Python-side figures agree.
    """
    if not 0 <= q <= 100:
        raise ValueError("q must be within [0, 100]")
    if not values:
        raise ValueError("percentile of an empty sequence")
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100.0
    below = math.floor(position)
    above = min(below + 1, len(ordered) - 1)
    fraction = position - below
    return ordered[below] + (ordered[above] - ordered[below]) * fraction


def percentiles(values: Iterable[float], qs: Sequence[float] = (50, 95, 99)) -> dict[str, float | None]:
    """{"p50": …, "p95": …, "p99": …}; every value None for an empty input."""
    data = sorted(values)
    return {f"p{q:g}": (percentile(data, q) if data else None) for q in qs}


def _check_counts(successes: int, n: int) -> None:
    if n < 0 or successes < 0 or successes > n:
        raise ValueError(f"need 0 <= successes <= n, got {successes} of {n}")


def mcnemar_exact(b: int, c: int) -> float:
    """Two-sided exact McNemar p-value: binomial(b + c, 1/2) on the discordant pairs.

    ``b`` and ``c`` count the pairs that changed each way (A right/B wrong, A wrong/B right).
    Exact rather than chi-squared because eval corpora flip a handful of cases, where the
    approximation is poor. With no discordant pairs the data show no difference: p = 1.
    """
    if b < 0 or c < 0:
        raise ValueError(f"need non-negative counts, got b={b}, c={c}")
    n = b + c
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, i) for i in range(min(b, c) + 1)) / 2**n
    return min(1.0, 2.0 * tail)


def paired_difference_interval(both: int, only_a: int, only_b: int, neither: int,
                               z: float = 1.96) -> tuple[float, float]:
    """Interval for p_B - p_A on paired binary outcomes: Newcombe (1998b) method 10.

    ``both``/``only_a``/``only_b``/``neither`` count the cases where the event (e.g. a false
    positive) happened in both runs, in A only, in B only, in neither. Each side's Wilson
    interval is combined "square-and-add", corrected by the phi correlation of the pairs, so
    the interval is tighter than treating the two runs as independent samples and, like
    Wilson, stays sane at 0 and 100 %. No data: the whole of [-1, 1].
    """
    for value in (both, only_a, only_b, neither):
        if value < 0:
            raise ValueError("counts must be non-negative")
    n = both + only_a + only_b + neither
    if n == 0:
        return -1.0, 1.0
    events_a, events_b = both + only_a, both + only_b
    p_a, p_b = events_a / n, events_b / n
    lo_a, hi_a = wilson_interval(events_a, n, z)
    lo_b, hi_b = wilson_interval(events_b, n, z)
    margins = events_a * (n - events_a) * events_b * (n - events_b)
    phi = (both * neither - only_a * only_b) / math.sqrt(margins) if margins else 0.0
    diff = p_b - p_a
    below = math.sqrt(max(0.0, (p_b - lo_b) ** 2 - 2 * phi * (p_b - lo_b) * (hi_a - p_a)
                          + (hi_a - p_a) ** 2))
    above = math.sqrt(max(0.0, (hi_b - p_b) ** 2 - 2 * phi * (hi_b - p_b) * (p_a - lo_a)
                          + (p_a - lo_a) ** 2))
    return max(-1.0, diff - below), min(1.0, diff + above)
