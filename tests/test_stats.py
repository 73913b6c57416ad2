"""The shared statistics against published values and independent definitions."""

from __future__ import annotations

import random
import statistics

import pytest

from tasseograph.stats import (
    mcnemar_exact,
    paired_difference_interval,
    percentile,
    percentiles,
    proportion,
    wilson_interval,
)


@pytest.mark.parametrize(
    ("successes", "n", "expected"),
    [
        # Wilson 95 % intervals as tabulated (e.g. Newcombe 1998; any Wilson calculator)
        (0, 10, (0.0, 0.2775)),
        (5, 10, (0.2366, 0.7634)),
        (10, 10, (0.7225, 1.0)),
        (1, 10, (0.0179, 0.4042)),
        (81, 263, (0.2553, 0.3662)),
    ],
)
def test_wilson_matches_published_values(successes: int, n: int, expected: tuple[float, float]) -> None:
    lo, hi = wilson_interval(successes, n)
    assert lo == pytest.approx(expected[0], abs=1e-4)
    assert hi == pytest.approx(expected[1], abs=1e-4)


def test_wilson_without_data_is_the_whole_unit_interval() -> None:
    assert wilson_interval(0, 0) == (0.0, 1.0)


def test_wilson_wider_for_higher_confidence() -> None:
    lo95, hi95 = wilson_interval(3, 20)
    lo99, hi99 = wilson_interval(3, 20, z=2.5758)
    assert lo99 < lo95 < 3 / 20 < hi95 < hi99


@pytest.mark.parametrize(("successes", "n"), [(-1, 5), (6, 5), (0, -1)])
def test_wilson_rejects_impossible_counts(successes: int, n: int) -> None:
    with pytest.raises(ValueError):
        wilson_interval(successes, n)


def test_proportion() -> None:
    assert proportion(1, 4) == 0.25
    assert proportion(0, 0) is None


def test_percentile_known_values() -> None:
    assert percentile([1, 2, 3, 4], 50) == 2.5
    assert percentile([10], 99) == 10
    assert percentile([1, 2, 3, 4, 5], 0) == 1
    assert percentile([1, 2, 3, 4, 5], 100) == 5
    assert percentile([0, 10], 95) == pytest.approx(9.5)


def test_percentile_agrees_with_statistics_inclusive_quantiles() -> None:
    rng = random.Random(7)
    data = [rng.lognormvariate(6.8, 0.4) for _ in range(501)]
    cuts = statistics.quantiles(data, n=100, method="inclusive")
    assert percentile(data, 95) == pytest.approx(cuts[94])
    assert percentile(data, 50) == pytest.approx(statistics.median(data))


def test_percentiles_empty_and_bad_q() -> None:
    assert percentiles([]) == {"p50": None, "p95": None, "p99": None}
    assert percentiles([3.0, 1.0])["p50"] == 2.0
    with pytest.raises(ValueError):
        percentile([1.0], 101)
    with pytest.raises(ValueError):
        percentile([], 50)


@pytest.mark.parametrize(
    ("b", "c", "p"),
    [
        (1, 9, 0.021484375),       # 2 * (1 + 10) / 1024
        (9, 1, 0.021484375),       # symmetric
        (0, 0, 1.0),               # no discordant pairs, no evidence
        (0, 5, 0.0625),            # 2 / 32
        (3, 3, 1.0),
        (2, 8, 0.109375),          # 2 * (1 + 10 + 45) / 1024
        (0, 1, 1.0),
    ],
)
def test_mcnemar_exact_known_p_values(b: int, c: int, p: float) -> None:
    assert mcnemar_exact(b, c) == pytest.approx(p)


def test_mcnemar_rejects_negative_counts() -> None:
    with pytest.raises(ValueError):
        mcnemar_exact(-1, 2)


def test_paired_difference_matches_newcombe_1998b() -> None:
    # Newcombe (1998b) Table II example: 36 both, 12 in one arm only, 2 in the other, 0 neither
    # (p = 0.96 vs 0.76); method 10 gives 0.0569 to 0.3404 for the difference of 0.20.
    lo, hi = paired_difference_interval(36, 2, 12, 0)
    assert (lo, hi) == pytest.approx((0.0569, 0.3404), abs=1e-4)
    # swapping the runs mirrors the interval
    assert paired_difference_interval(36, 12, 2, 0) == pytest.approx((-hi, -lo))


def test_paired_difference_edges() -> None:
    assert paired_difference_interval(0, 0, 0, 0) == (-1.0, 1.0)
    lo, hi = paired_difference_interval(0, 0, 0, 20)   # never happens in either run
    assert lo < 0 < hi and hi == pytest.approx(wilson_interval(0, 20)[1])
    lo, hi = paired_difference_interval(0, 0, 10, 0)   # always in B, never in A
    assert lo > 0.5 and hi == 1.0
