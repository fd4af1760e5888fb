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
# # Survival after sponsorship, with competing risks
#
# **Studies.** Rothaermel & Thursby (2005; 79 ventures at Georgia Tech's ATDC, 1998-2003; read in a
# secondary source): a link to the university lowers a tenant's outright failure but delays its
# graduation. Amezcua et al. (2013, AMJ 56(6): 1628-1654; 2020, JBV) and Ferguson & Olofsson (2004, JTT
# 29(1): 5-17) find sponsorship changing survival; Clayton (2024, Research Policy 53(4): 104975) finds no
# survival difference. A tenant's stay ends in one of competing ways -- failure, graduation, or the stay
# limit -- so a linkage that lowers both hazards shows in *both* cumulative-incidence curves: fewer
# failures and fewer (later) graduations, which a plain survival curve of "still a tenant" hides.
#
# **Simulated world.** Start-ups enter an incubator (four-year stay limit). Two in five have a university
# link (drawn at random, so the comparison is a fair one): while tenants, their failure hazard is x0.6 and
# their graduation hazard x0.5 (assumptions, chosen to show the pattern). Cumulative incidence of each way
# out with statsmodels' `CumIncidenceRight` (Aalen-Johansen), with its standard errors.

# %%
# %matplotlib inline
import warnings

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from statsmodels.duration.survfunc import CumIncidenceRight

import sim

# statsmodels divides by zero at the last time point of each curve (where no firm is left at risk)
warnings.filterwarnings("ignore", category=RuntimeWarning, module="statsmodels")

world = sim.parse_scenario(
    {
        "name": "university_link",
        "calendar": {"start": 1998, "horizon_years": 6},
        "firms": {"sectors": {"linked": 0.4, "unlinked": 0.6}, "quality_on_failure": 0.3, "quality_on_graduation": 0.3},
        "stages": {
            "incubator": {
                "failure": {"dist": "exponential", "rate": 0.25},
                "graduation": {"dist": "weibull", "shape": 2.0, "scale": 3.0},
                "max_stay_years": 4,
                "on_graduation": {"exit": 1.0},
                "on_timeout": {"exit": 1.0},
            },
        },
        "arrivals": [{"name": "tenants", "stage": "incubator", "rate_per_year": 600}],
        "policies": [
            {"type": "hazard_multiplier", "name": "link_failure", "hazard": "failure", "factor": 0.6,
             "target": {"stages": ["incubator"], "sectors": ["linked"]}},
            {"type": "hazard_multiplier", "name": "link_graduation", "hazard": "graduation", "factor": 0.5,
             "target": {"stages": ["incubator"], "sectors": ["linked"]}},
        ],
    }
)
res = sim.run(world, seed=1998)
ev = res.events
ends = ev[ev["event"].isin(["fail", "graduate", "time_out"]) & (ev["stage"] == "incubator")]
stays = res.firms[["firm", "sector", "arrival_time"]].merge(
    ends[["firm", "time", "event"]].astype({"event": str}), on="firm", how="left"
)
stays["years"] = np.where(stays["time"].notna(), stays["time"] - stays["arrival_time"], world.calendar.horizon_years - stays["arrival_time"])
stays["status"] = stays["event"].map({"fail": 1, "graduate": 2, "time_out": 3}).fillna(0).astype(int)
stays.groupby("sector")["status"].value_counts(normalize=True).unstack().round(3)

# %%
AT = 3.0  # years in the incubator
curves = {}
for sector, group in stays.groupby("sector"):
    ci = CumIncidenceRight(group["years"].to_numpy(), group["status"].to_numpy())
    curves[sector] = ci
fig, axes = plt.subplots(1, 2, figsize=(9, 3.5), sharey=True)
summary = {}
for k, (ax, name) in enumerate(zip(axes, ["failure", "graduation"], strict=True)):
    for sector, ci in curves.items():
        ax.step(ci.times, ci.cinc[k], where="post", label=sector)
        i = np.searchsorted(ci.times, AT, side="right") - 1
        summary[(name, sector)] = (ci.cinc[k][i], ci.cinc_se[k][i])
    ax.set_title(f"cumulative incidence of {name}", loc="left", fontsize=10)
    ax.set_xlabel("years in the incubator")
axes[0].legend()
fig.tight_layout()
plt.show()
table = pd.DataFrame(summary, index=["cumulative incidence", "se"]).T
print(f"at {AT:g} years in the incubator:")
print(table.to_string(float_format="%.3f"))

# %% [markdown]
# ## Verdict
#
# Linked tenants must show both lower cumulative incidence of failure and lower cumulative incidence of
# graduation at three years, each by more than three standard errors of the difference (the sign pattern
# of Rothaermel & Thursby).

# %%
def gap(name: str) -> tuple[float, float]:
    (a, sa), (b, sb) = summary[(name, "linked")], summary[(name, "unlinked")]
    return a - b, float(np.hypot(sa, sb))


d_fail, se_fail = gap("failure")
d_grad, se_grad = gap("graduation")
assert d_fail < -3 * se_fail, f"the link should lower failure: {d_fail:+.3f} (se {se_fail:.3f})"
assert d_grad < -3 * se_grad, f"the link should delay graduation: {d_grad:+.3f} (se {se_grad:.3f})"
print(
    f"Verdict: reproduced - at {AT:g} years linked tenants have failed {100 * -d_fail:.1f} pp less and graduated "
    f"{100 * -d_grad:.1f} pp less (Rothaermel & Thursby: less outright failure, later graduation)."
)
