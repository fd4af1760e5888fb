# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Market survival in the default scenario against the BLS curve
#
# The default (Jiangsu) scenario gives firms outside any carrier an age-dependent failure hazard
# (piecewise constant by age) taken from the US BLS survival of establishments born in March 1994
# (shared figures: TARGETS.md section A). This notebook checks, through the public API only, that
#
# 1. the hazard in the scenario file reproduces the published curve exactly, and
# 2. simulated firms founded into the market survive like it (Kaplan-Meier with censoring).
#
# Open it as a notebook (see notebooks/README.md), or run it as a script.

# %%
# %matplotlib inline
import numpy as np
import pandas as pd

import sim
from sim.tables import km_survival

BLS = {1: 79.6, 2: 68.1, 3: 60.6, 4: 54.3, 5: 49.6, 6: 45.2, 7: 41.5, 8: 38.3, 9: 35.7, 10: 33.6, 15: 25.5, 20: 20.3}

sc = sim.default_scenario()
market = sc.stages["market"]
print(market.failure_clock, type(market.failure).__name__)

# %% [markdown]
# ## 1. The hazard reproduces the curve

# %%
assert market.failure is not None
table = pd.DataFrame(
    {
        "age_years": list(BLS),
        "bls_percent": list(BLS.values()),
        "scenario_percent": [100 * np.exp(-market.failure.cum_hazard(float(a))) for a in BLS],
    }
)
table["difference_pp"] = table["scenario_percent"] - table["bls_percent"]
print(table.to_string(index=False, float_format="%.4f"))
assert table["difference_pp"].abs().max() < 1e-4

# %% [markdown]
# ## 2. Simulated market entrants
#
# Only the market stream matters here, and the market has no capacity, so the other streams can be
# switched off without changing these firms (their random draws are their own). Firms arrive at
# age 0 in this stream, so survival since arrival is survival by age. The policies (a competition brings
# firms of its own) and the 2020 shock (which raises the hazard by design) are switched off too: this
# is the baseline hazard against BLS.

# %%
names = [a.name for a in sc.arrivals]
solo = sc.with_changes(
    {
        "calendar.horizon_years": 10,
        "initial_stock": [],
        "policies": [],
        "shocks": [],
        "arrivals": [a.model_dump(mode="json", by_alias=True, exclude_none=True) for a in sc.arrivals if a.stage == "market"],
    }
)
res = sim.run(solo, seed=1)
firms = res.firms
young = firms[firms["age_at_arrival"] < 1e-9]
print(f"{len(young):,} market entrants founded on arrival")
years = (1.0, 3.0, 5.0)
km = km_survival(young["survival_years"].to_numpy(), (young["outcome"] == "failed").to_numpy(), years)
check = pd.DataFrame({"age_years": years, "simulated_percent": [100 * v for v in km], "bls_percent": [BLS[int(y)] for y in years]})
print(check.to_string(index=False, float_format="%.1f"))
# Quality heterogeneity (a multiplier with mean above one on the hazard) and sampling noise move the
# simulated curve slightly; two percentage points is several standard errors at this sample size.
assert (check["simulated_percent"] - check["bls_percent"]).abs().max() < 2.0

# %%
fig = res.plot.survival()
fig
