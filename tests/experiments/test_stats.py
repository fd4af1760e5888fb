"""Unit: means, t intervals, paired and independent differences, and their edge cases."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps

from sim.stats import NO_VALUES, NO_VARIATION, ONE_VALUE, ci_ratio, mean_ci, paired_difference, welch_difference


def test_mean_ci_matches_the_textbook_t_interval() -> None:
    x = [1.0, 2.0, 4.0, 7.0]
    est = mean_ci(x)
    sd = float(np.std(x, ddof=1))
    half = sps.t.ppf(0.975, 3) * sd / 2.0  # se = sd / sqrt(4)
    assert est.n == 4
    assert est.mean == pytest.approx(3.5, abs=1e-12)
    assert est.sd == pytest.approx(sd, rel=1e-12)
    assert (est.ci_low, est.ci_high) == pytest.approx((3.5 - half, 3.5 + half), rel=1e-12)
    assert est.note == ""


def test_wider_level_gives_a_wider_interval() -> None:
    x = [1.0, 2.0, 4.0, 7.0]
    assert mean_ci(x, 0.99).half_width > mean_ci(x, 0.95).half_width > mean_ci(x, 0.5).half_width


def test_no_values_gives_nan_with_a_reason() -> None:
    for values in ([], [None, None], [math.nan]):
        est = mean_ci(values)
        assert est.n == 0 and math.isnan(est.mean) and math.isnan(est.ci_low), values
        assert est.note == NO_VALUES


def test_one_value_gives_the_mean_only() -> None:
    est = mean_ci([None, 3.25, math.nan])
    assert (est.n, est.mean) == (1, 3.25)
    assert math.isnan(est.sd) and math.isnan(est.ci_low) and math.isnan(est.ci_high)
    assert est.note == ONE_VALUE


def test_zero_variance_gives_a_zero_width_interval_at_the_value() -> None:
    # 0.1 three times: a naive variance is a rounding error, not 0; the estimate must say 0 exactly.
    est = mean_ci([0.1, 0.1, 0.1])
    assert (est.mean, est.sd, est.ci_low, est.ci_high) == (0.1, 0.0, 0.1, 0.1)
    assert est.note == NO_VARIATION


def test_missing_values_are_dropped_not_counted() -> None:
    assert mean_ci([1.0, None, 3.0, math.nan]).n == 2


def test_paired_difference_is_the_interval_of_the_differences() -> None:
    b = [10.0, 20.0, 30.0, 40.0]
    v = [11.0, 22.0, 29.0, 44.0]
    est = paired_difference(b, v)
    ref = mean_ci([1.0, 2.0, -1.0, 4.0])
    assert (est.mean, est.ci_low, est.ci_high) == (ref.mean, ref.ci_low, ref.ci_high)


def test_identical_pairs_give_exactly_zero() -> None:
    est = paired_difference([1.5, 2.5, 9.0], [1.5, 2.5, 9.0])
    assert (est.mean, est.ci_low, est.ci_high, est.n) == (0.0, 0.0, 0.0, 3)


def test_pairs_with_a_missing_side_drop_out() -> None:
    est = paired_difference([1.0, None, 3.0], [2.0, 5.0, None])
    assert (est.n, est.mean) == (1, 1.0)


def test_paired_needs_equal_lengths() -> None:
    with pytest.raises(ValueError, match="equal lengths"):
        paired_difference([1.0, 2.0], [1.0])


def test_welch_matches_scipy() -> None:
    rng = np.random.default_rng(3)
    b, v = rng.normal(0, 1, 12), rng.normal(0.5, 2, 9)
    est = welch_difference(b, v)
    res = sps.ttest_ind(v, b, equal_var=False)
    low, high = res.confidence_interval(0.95)
    assert (est.ci_low, est.ci_high) == pytest.approx((low, high), rel=1e-10)
    assert est.df == pytest.approx(res.df, rel=1e-10)


def test_welch_edge_cases() -> None:
    assert welch_difference([], [1.0, 2.0]).note == NO_VALUES
    assert welch_difference([1.0], [1.0, 2.0]).note == ONE_VALUE
    flat = welch_difference([2.0, 2.0], [3.0, 3.0])
    assert (flat.mean, flat.ci_low, flat.ci_high, flat.note) == (1.0, 1.0, 1.0, NO_VARIATION)


def test_ci_ratio() -> None:
    wide, narrow = mean_ci([0.0, 4.0, 8.0]), mean_ci([3.0, 4.0, 5.0])
    assert ci_ratio(wide, narrow) == pytest.approx(4.0)
    zero = mean_ci([1.0, 1.0])
    assert ci_ratio(wide, zero) == math.inf, "a zero-width paired interval against a real one"
    assert math.isnan(ci_ratio(zero, zero)), "no interval either way: no ratio"
    assert math.isnan(ci_ratio(mean_ci([1.0]), narrow))


def test_level_is_checked() -> None:
    with pytest.raises(ValueError, match="level"):
        mean_ci([1.0, 2.0], level=95)
