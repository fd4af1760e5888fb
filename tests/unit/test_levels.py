"""Carriers' levels at the start are the scenario's shares of the count, by largest remainder."""

from __future__ import annotations

from collections import Counter

import pytest

import sim
from sim.engine_stages import _level_counts
from tests.helpers import tiny


@pytest.mark.parametrize(
    ("shares", "n", "expected"),
    [
        ([0.34, 0.33, 0.33], 3, [1, 1, 1]),
        ([0.5, 0.3, 0.2], 7, [4, 2, 1]),  # quotas 3.5, 2.1, 1.4: the half goes to the largest fraction
        ([0.0, 0.0, 1.0], 4, [0, 0, 4]),
        ([0.5, 0.5, 0.0], 3, [2, 1, 0]),  # a tie goes to the lower level
        ([0.2, 0.3, 0.5], 0, [0, 0, 0]),
    ],
)
def test_level_counts_by_largest_remainder(shares: list[float], n: int, expected: list[int]) -> None:
    counts = Counter(_level_counts(shares, n))
    assert [counts[j] for j in range(3)] == expected, f"{shares} of {n}"


def test_three_carriers_with_equal_shares_are_one_of_each_level() -> None:
    data = tiny(
        **{
            "stages.b.carriers": {
                "count": 3,
                "capacity": 1,
                "levels": {"municipal": 0.34, "provincial": 0.33, "national": 0.33},
            }
        }
    )
    for seed in range(5):
        res = sim.run(sim.parse_scenario(data), seed=seed)
        levels = sorted(c.level for c in res.output.carriers)
        assert levels == ["municipal", "national", "provincial"], f"seed {seed}: {levels}"


def test_which_carrier_has_which_level_is_drawn() -> None:
    data = tiny(**{"stages.b.carriers": {"count": 6, "capacity": 1, "levels": {"municipal": 0.5, "national": 0.5}}})
    orders = {tuple(c.level for c in sim.run(sim.parse_scenario(data), seed=s).output.carriers) for s in range(8)}
    assert len(orders) > 1, "every seed put the levels in the same order"
