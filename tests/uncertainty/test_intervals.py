"""The intervals of values consistent with the targets, on functions whose answer is known by hand."""

from __future__ import annotations

import numpy as np
import pytest

from sim.uncertainty.intervals import consistent_intervals


def test_linear_targets_give_the_exact_projection() -> None:
    # m1 = x1 + x2 within 0.1 of 1, m2 = x1 - x2 within 0.1 of 0: x1 = (m1 + m2) / 2 and x2 = (m1 - m2) / 2
    # each range over [0.4, 0.6] (the square's corners), reached only by moving the other parameter too.
    def means(x: np.ndarray) -> np.ndarray:
        return np.array([x[0] + x[1], x[0] - x[1]])

    spans = consistent_intervals(means, np.array([0.5, 0.5]), np.array([1.0, 0.0]), np.array([0.1, 0.1]))
    for span in spans:
        assert (span.low, span.high) == pytest.approx((0.4, 0.6)), span
        assert (span.linear_low, span.linear_high) == pytest.approx((0.4, 0.6)), span


def test_ends_where_the_model_misses_are_pulled_back_by_bisection() -> None:
    # Linear up to x = 0.555, invalid beyond: the linear end (0.6) fails, and three halvings towards 0.5
    # keep 0.55 (t = 1/2 passes, 3/4 and 5/8 fail); the lower end is linear and exact.
    def means(x: np.ndarray) -> np.ndarray | None:
        return None if x[0] > 0.555 else np.array([x[0]])

    (span,) = consistent_intervals(means, np.array([0.5]), np.array([0.5]), np.array([0.1]), bisections=3)
    assert span.linear_high == pytest.approx(0.6) and span.high == pytest.approx(0.55)
    assert span.low == pytest.approx(0.4)


def test_an_optimum_that_misses_a_target_gives_no_interval() -> None:
    (span,) = consistent_intervals(lambda x: np.array([x[0]]), np.array([0.5]), np.array([0.9]), np.array([0.1]))
    assert all(np.isnan(v) for v in (span.low, span.high, span.linear_low, span.linear_high)), span
