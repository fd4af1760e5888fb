"""Little's law, L = lambda W, on every stage of every shipped scenario.

Over a finite window ``[w, H)`` Little's law holds exactly on every sample path once the stays cut by
the window's ends are counted (Little 1961; the finite-horizon form in Kim & Whitt 2013, "Statistical
analysis with Little's law"):

    L * T = n_done * W_done  +  (time in the window of stays still open at H)
                             +  (time in the window of stays that began before w),

with ``T = H - w``, ``L`` the run summary's ``mean_occupancy``, ``n_done`` and ``W_done`` its
``completed_stays`` and ``mean_stay_years``, and the two boundary terms measured from the event log.
Equivalently ``L = lambda * W_in + carry_in / T`` where ``lambda = entries / T`` and ``W_in`` is the
mean time in the window of the stays that began in it. With no boundary terms this is the textbook
``L = lambda W``; the gap between the two (printed on failure) is the censoring the summary's
``mean_stay_years`` leaves out, which is why the plain form would need a loose, scenario-dependent
tolerance. The exact form needs none: it is checked to 1e-9 relative (floating-point sums of a few
thousand stays), so any inconsistency between the summary's occupancy, entries and stays fails it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import sim
from tests.helpers import SCENARIOS

SHIPPED = sorted(SCENARIOS.glob("*.toml"))
FIRM_BUDGET = 40_000
"""Most firms a shipped scenario may put through one check (the law holds over any window)."""


def affordable(sc: sim.Scenario) -> sim.Scenario:
    """The scenario, with its horizon shortened if it would make more than FIRM_BUDGET firms."""
    stock = sum(s.count for s in sc.initial_stock)
    peak = 0.0
    for a in sc.arrivals:
        _, rates = a.rate_steps(sc.calendar)
        peak += max(rates)
    cal = sc.calendar
    room = max(FIRM_BUDGET - stock, 0) / peak if peak > 0 else cal.horizon_years
    horizon = min(cal.horizon_years, max(room, cal.warmup_years + 0.5))
    return sc if horizon == cal.horizon_years else sc.with_changes({"calendar.horizon_years": horizon})


def stays(res: sim.RunResult, stage: str) -> tuple[np.ndarray, np.ndarray]:
    """Admission and leaving times of every stay in ``stage`` (leaving = inf while still there)."""
    ev = res.events
    s = ev[(ev["stage"] == stage) & ev["event"].isin(["admit", "leave"])].sort_values(["firm", "time"], kind="stable")
    firm = s["firm"].to_numpy()
    time = s["time"].to_numpy()
    is_admit = (s["event"] == "admit").to_numpy()
    first = np.r_[True, firm[1:] != firm[:-1]]
    pos = np.arange(len(firm)) - np.maximum.accumulate(np.where(first, np.arange(len(firm)), 0))
    # A firm's stays in one stage do not overlap: its events alternate admit, leave, admit, ...
    assert (is_admit == (pos % 2 == 0)).all(), f"{stage}: a firm's admissions and leavings do not alternate"
    starts = np.flatnonzero(is_admit)
    nxt = starts + 1
    closed = (nxt < len(firm)) & (firm[np.minimum(nxt, len(firm) - 1)] == firm[starts])
    ends = np.where(closed, time[np.minimum(nxt, len(firm) - 1)], np.inf)
    return time[starts], ends


@pytest.mark.slow
@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_littles_law_on_every_stage(path: Path) -> None:
    sc = affordable(sim.load_scenario(path))
    res = sim.run(sc, seed=3)
    summary = res.summary()
    horizon, warmup = summary.horizon_years, summary.warmup_years
    span = horizon - warmup
    bad = []
    for stage in summary.stage_names:
        st = summary.stage(stage)
        a, lv = stays(res, stage)
        inside = a >= warmup
        done = inside & (lv <= horizon)
        assert int(done.sum()) == st["completed_stays"], f"{stage}: completed stays differ from the summary"
        assert int(inside.sum()) == st["entries"], f"{stage}: stays begun in the window differ from entries"
        open_part = float(np.sum(horizon - a[inside & (lv > horizon)]))
        carry_in = float(np.sum(np.clip(np.minimum(lv[~inside], horizon) - warmup, 0.0, None)))
        big_l = st["mean_occupancy"]
        n = st["entries"]
        w_done = st["mean_stay_years"] if st["completed_stays"] else 0.0  # NaN when no stay was completed
        w_in = (st["completed_stays"] * w_done + open_part) / n if n else 0.0
        lam = n / span
        exact = lam * w_in + carry_in / span
        plain = lam * w_done
        if abs(big_l - exact) > 1e-9 * max(1.0, big_l):
            bad.append(
                f"{stage}: L = {big_l:.10g} but lambda W_in + carry-in/T = {lam:.6g} x {w_in:.6g} + "
                f"{carry_in / span:.6g} = {exact:.10g} (plain lambda W_done = {plain:.6g})"
            )
    assert not bad, f"{path.name}: Little's law fails:\n" + "\n".join(bad)
