"""The province year by year, 2019-2024 (one seed; the table over several seeds is in docs/jiangsu.md).

Checks what the file calibrates along the whole path, not only at the end of 2019:

* incubator tenants follow the target path of the incubator intake (docs/jiangsu.md, "Incubator
  arrivals"): > 34,000 at the end of 2019 (sources C), then 4.1 % a year (the 2015-2019 trend) to 2023,
  flat in 2024. Tolerance 8 %: year-end tenants vary about 0.5 % between seeds (sd over 7 seeds,
  docs/jiangsu.md), they run 2-4 % above the path with the policy set in force, and the intake was tuned
  to a few per cent;
* cumulative incubator graduates start from the file's 29,000 and grow by the year's graduations.
"""

from __future__ import annotations

import pytest

import sim
from tests.calibration.yearly_path import yearly_path

TARGET_TENANTS = {2019: 34_000, 2020: 35_400, 2021: 36_800, 2022: 38_300, 2023: 39_900, 2024: 39_900}


@pytest.mark.slow
def test_yearly_path_of_the_province() -> None:
    sc = sim.default_scenario()
    res = sim.run(sc, seed=1)
    path = yearly_path(res).set_index("year")
    for year, target in TARGET_TENANTS.items():
        got = path.loc[year, "tenants"]
        assert abs(got / target - 1) < 0.08, f"{year}: {got:,} tenants against the target path's {target:,}"
    cum = path["cumulative_graduates"].to_numpy()
    assert cum[0] > 29_000 and (cum[1:] > cum[:-1]).all(), f"cumulative graduates do not grow: {cum}"
