"""Each hazard term of a stay moves outcomes the way it says, firm by firm, under common random numbers.

The chain (incubator with room for everyone -> market) has no capacity interactions, so a firm's moves
depend only on its own clock budgets, which are the same with and without a term (sim.streams). A term
that only raises (lowers) a firm's failure hazard can then only make it fail earlier (later), never the
reverse, and the sets of firms still active at the horizon are nested. Each test asserts the nesting
for every firm and that the term changed some outcomes (so the comparison is sensitive).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

import sim

SEED = 23


def chain(b_grad: float = 0.3, **inc_terms: Any) -> sim.Scenario:
    return sim.parse_scenario(
        {
            "name": "directions",
            "calendar": {"start": 2020, "horizon_years": 8},
            "firms": {"quality_on_failure": 0.4, "quality_on_graduation": b_grad},
            "stages": {
                "incubator": {
                    "failure": {"dist": "exponential", "rate": 0.2},
                    "graduation": {"dist": "exponential", "rate": 0.5},
                    "max_stay_years": 3,
                    "on_graduation": {"market": 1.0},
                    "on_timeout": {"market": 1.0},
                    "carriers": {"count": 4, "capacity": 5_000},
                    **inc_terms,
                },
                "market": {"failure": {"dist": "exponential", "rate": 0.15}},
            },
            "arrivals": [{"name": "new", "stage": "incubator", "rate_per_year": 150}],
        }
    )


def failures(sc: sim.Scenario, rep: int) -> pd.DataFrame:
    """Per firm (by arrival number): failed or not by the horizon, quality, and incubator stay (years)."""
    res = sim.run(sc, SEED, rep)
    ev = res.events
    assert not ev.event.isin(["wait", "skip", "block"]).any(), "firms competed for slots"
    f = res.firms.set_index("firm")
    inc = ev[ev.stage == "incubator"]
    admit = inc[inc.event == "admit"].groupby("firm")["time"].first()
    leave = inc[inc.event == "leave"].groupby("firm")["time"].first()
    fail_t = ev[ev.event == "fail"].groupby("firm")["time"].first()
    out = pd.DataFrame(
        {
            "failed": f["outcome"] == "failed",
            "quality": f["quality"],
            "stay": (leave - admit).reindex(f.index),
            "fail_time": fail_t.reindex(f.index),
        }
    )
    return out.set_index(f["source_index"]).sort_index()


def compare(variant: sim.Scenario, base_sc: sim.Scenario | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    base, var = failures(base_sc or chain(), 0), failures(variant, 0)
    assert base.index.equals(var.index), "common random numbers broke: different firms arrived"
    return base, var


def test_a_hard_landing_after_leaving_only_adds_failures() -> None:
    base, var = compare(chain(after_stay={"since_leaving": {"breaks": [1.0], "factors": [2.5, 1.0]}}))
    saved = base.failed & ~var.failed
    assert not saved.any(), f"a higher hazard after leaving saved {saved.sum()} firms, e.g. {saved.idxmax()}"
    earlier = (var.fail_time <= base.fail_time + 1e-12) | base.fail_time.isna()
    assert earlier[var.failed].all(), "a higher hazard after leaving delayed a failure"
    assert (var.failed & ~base.failed).sum() > 20, "the term changed (almost) nothing: not a sensitive test"
    # Failures inside the incubator are untouched: the term starts on leaving.
    assert base.stay.equals(var.stay), "the term changed the stays themselves"


def test_long_stays_protect_and_short_stays_expose() -> None:
    base, var = compare(chain(after_stay={"by_stay_years": {"breaks": [1.0], "factors": [1.6, 0.6]}}))
    short, long_ = base.stay < 1.0, base.stay >= 1.0
    assert not (base.failed & ~var.failed & short).any(), "a short stay's higher hazard saved a firm"
    assert not (~base.failed & var.failed & long_).any(), "a long stay's lower hazard failed a firm"
    assert (var.failed & ~base.failed & short).sum() > 10 and (base.failed & ~var.failed & long_).sum() > 10


def test_support_through_quality_helps_good_firms_and_not_weak_ones() -> None:
    # Without a quality effect on graduation, so that the scale moves failure only (with one, good firms
    # would also leave sooner, into the market's hazard: a second, opposite channel).
    base, var = compare(chain(0.0, support={"quality_scale": 3.0}), chain(0.0))
    good, weak = base.quality > 0, base.quality < 0
    assert not (~base.failed & var.failed & good).any(), "support through quality failed a good firm"
    assert not (base.failed & ~var.failed & weak).any(), "support through quality saved a weak firm"
    assert (base.failed & ~var.failed & good).sum() > 10 and (var.failed & ~base.failed & weak).sum() > 10


def test_fixed_support_helps_every_firm() -> None:
    # Lower failure only (graduation unchanged), so every firm's moves keep their times until it would fail.
    base, var = compare(chain(support={"failure_factor": 0.5}))
    assert not (~base.failed & var.failed).any(), "a lower failure hazard in the incubator failed a firm"
    assert (base.failed & ~var.failed).sum() > 20


def test_a_stay_that_reveals_quality_sorts_firms_by_quality() -> None:
    base, var = compare(chain(reveal_quality={"strength": 1.0, "years_after": 1.0}))
    good, weak = base.quality > 0, base.quality < 0
    assert not (base.failed & ~var.failed & weak).any(), "revealing quality saved a weak firm"
    assert not (~base.failed & var.failed & good).any(), "revealing quality failed a good firm"
    earlier = var.fail_time[weak & var.failed] <= base.fail_time[weak & var.failed].fillna(float("inf")) + 1e-12
    assert earlier.all(), "a weak firm failed later once its quality was revealed"
    # Yu (2020): earlier, more frequent closure, and better average quality among the survivors.
    assert var.failed.sum() != base.failed.sum()
    assert var.quality[~var.failed].mean() > base.quality[~base.failed].mean() + 0.02, "survivors not better"
