"""The simulator agrees with its closed-form twin (sim.analytic) wherever the twin applies.

Each case builds a small scenario, runs the DES for a fixed seed over several replications and asserts
that every exact value lies in the DES's confidence interval (see tests/verification/twin_checks.py for
the rule and why the tolerance is what it is). The cases differ in chain shape, rates, entry stages and
capacity: a forward chain with three arrival streams and stock, a loop with an age clock, firms of mixed
quality with arrival rates that change, an Erlang B loss stage (steady state and transient from empty)
and an Erlang C queue.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

import sim
from sim.analytic import AnalyticResult, solve
from sim.markov import erlang_b
from tests.verification.twin_checks import loop_chain, misses, mixed_quality, replicate, single_stage, textbook

SEED = 20240611


def occupancy_and_entries(res: sim.RunResult) -> dict[str, float]:
    out: dict[str, float] = {}
    summary = res.summary()
    for name in summary.stage_names:
        st = summary.stage(name)
        out[f"{name}.mean_occupancy"] = st["mean_occupancy"]
        out[f"{name}.entries"] = st["entries"]
    return out


def twin_occupancy_and_entries(tw: AnalyticResult) -> dict[str, float]:
    out: dict[str, float] = {}
    for name, w in tw.window.items():
        out[f"{name}.mean_occupancy"] = w.mean_occupancy
        out[f"{name}.entries"] = w.entries
    return out


# ------------------------------------------------------------------------------------------ case A
@pytest.fixture(scope="module")
def textbook_runs() -> list[sim.RunResult]:
    # 12 replications of the shipped 20-year scenario (~7,000 firms each): the intervals on mean
    # occupancy are ~1-2 % of the value, small enough to catch a 10 % error in one rate (checked below).
    sc = textbook()
    return [sim.run(sc, SEED, r) for r in range(12)]


@pytest.mark.slow
def test_textbook_chain_occupancy_and_entries(textbook_runs: list[sim.RunResult]) -> None:
    sc = textbook()
    tw = solve(sc)
    rows = [occupancy_and_entries(r) for r in textbook_runs]
    samples = {k: np.array([row[k] for row in rows]) for k in rows[0]}
    bad = misses(twin_occupancy_and_entries(tw), samples)
    assert not bad, "DES disagrees with the twin on the textbook chain:\n" + "\n".join(bad)
    # The same intervals reject a twin whose incubator graduation rate is 10 % too high.
    wrong = solve(sc.with_changes({"stages.incubator.graduation.rate": 0.55}))
    assert misses(twin_occupancy_and_entries(wrong), samples), "the intervals are too wide to see a 10 % rate error"


def test_textbook_kaplan_meier_matches_twin_survival(textbook_runs: list[sim.RunResult]) -> None:
    """Kaplan-Meier from simulated new firms against the twin's S(t), both ways of treating exits.

    New firms only (the initial stock is followed from time 0 while late arrivals are censored early,
    so mixing them would tilt the risk set). All streams have constant rates, so censoring by the
    horizon is independent of the entry stage and Kaplan-Meier is consistent for the arrival mix.
    Firms never compete for slots here (no capacity binds), so firms pooled over replications are
    independent and Greenwood's pointwise interval applies; it has level 1 - 0.01 / k over k times.
    """
    sc = textbook()
    tw = solve(sc)
    firms = [r.firms for r in textbook_runs]
    new = [f[~f["source"].astype(str).str.startswith("stock:")] for f in firms]
    dur = np.concatenate([f["survival_years"].to_numpy() for f in new])
    failed = np.concatenate([(f["outcome"] == "failed").to_numpy() for f in new])
    exited = np.concatenate([(f["outcome"] == "exited").to_numpy() for f in new])
    to_horizon = np.concatenate([(sc.calendar.horizon_years - f["arrival_time"]).to_numpy() for f in new])
    years = (1.0, 2.0, 5.0, 10.0, 15.0)
    level = 1.0 - 0.01 / (2 * len(years))
    bad = []
    for km, durations in ((True, dur), (False, np.where(exited, to_horizon, dur))):
        # km=True: exits censored where they happen (the run summary's estimate);
        # km=False: an exited firm never fails, so it is followed to the horizon: estimates P(no failure by t).
        sf = stats.ecdf(stats.CensoredData(uncensored=durations[failed], right=durations[~failed])).sf
        ci = sf.confidence_interval(level)
        for y in years:
            curve = "survival_km" if km else "survival"
            want = tw.survival_at(y, km=km)  # the cohort: the three streams mixed by their rates
            lo, hi = float(ci.low.evaluate(y)), float(ci.high.evaluate(y))
            if not lo <= want <= hi:
                est = float(sf.evaluate(y))
                bad.append(f"{curve} at {y:g} y: twin {want:.4f} outside KM [{lo:.4f}, {hi:.4f}] (KM {est:.4f})")
    assert not bad, "Kaplan-Meier disagrees with the twin:\n" + "\n".join(bad)


# ------------------------------------------------------------------------------------------ case B
def per_firm(res: sim.RunResult) -> dict[str, float]:
    f = res.firms
    ev = res.events
    admits = ev[(ev["event"] == "admit") & (ev["stage"] == "incubator")]
    return {
        "p_failed": float((f["outcome"] == "failed").mean()),
        "p_exited": float((f["outcome"] == "exited").mean()),
        "p_ends_in_park": float((f["outcome_stage"] == "industrial_park").mean()),
        "visits_incubator": len(admits) / len(f),
        "years_accelerator": float(f["years_in_accelerator"].mean()),
    }


def test_loop_chain_per_firm_outcomes_visits_and_times() -> None:
    # 10 replications x 500 independent firms: intervals of ~+-0.02 on probabilities, ~2 % on visits.
    sc = loop_chain()
    tw = solve(sc)
    e = tw.entries["incubator"]
    # Eventual quantities are compared with what happened by the horizon: the twin shows that fewer
    # than 1e-5 of the firms are still active then, far below the sampling error.
    active = sum(e.at_horizon[s] for s in tw.stages)
    assert active < 1e-5, f"horizon too short for eventual quantities: {active:.2g} still active"
    twin = {
        "p_failed": e.p_failed,
        "p_exited": e.p_exited,
        "p_ends_in_park": e.p_ends_in["industrial_park"],
        "visits_incubator": e.expected_visits["incubator"],
        "years_accelerator": e.expected_years["accelerator"],
    }
    samples = replicate(sc, 10, SEED, per_firm)
    bad = misses(twin, samples)
    assert not bad, "DES disagrees with the twin on the loop chain:\n" + "\n".join(bad)
    wrong = solve(sc.with_changes({"stages.accelerator.graduation.rate": 1.1}))
    w = wrong.entries["incubator"]
    wrong_twin = {
        "p_failed": w.p_failed,
        "p_exited": w.p_exited,
        "p_ends_in_park": w.p_ends_in["industrial_park"],
        "visits_incubator": w.expected_visits["incubator"],
        "years_accelerator": w.expected_years["accelerator"],
    }
    assert misses(wrong_twin, samples), "the intervals are too wide to see a 10 % rate error"


# ------------------------------------------------------------------------------------------ case C
def levels(res: sim.RunResult) -> dict[str, float]:
    out: dict[str, float] = {}
    summary = res.summary()
    for name in summary.stage_names:
        st = summary.stage(name)
        out[f"{name}.mean_occupancy"] = st["mean_occupancy"]
        out[f"{name}.at_horizon"] = st["occupancy_at_horizon"]
        out[f"{name}.failures"] = st["failures"]
    return out


@pytest.mark.slow
def test_mixed_quality_and_changing_arrivals() -> None:
    # 10 replications; quality (standard normal) multiplies failure by exp(-0.8 q) and graduation by
    # exp(0.5 q), so the population is a mixture of chains that the twin integrates by quadrature.
    sc = mixed_quality()
    tw = solve(sc)
    twin: dict[str, float] = {}
    for name, w in tw.window.items():
        twin[f"{name}.mean_occupancy"] = w.mean_occupancy
        twin[f"{name}.at_horizon"] = w.occupancy_end
        twin[f"{name}.failures"] = w.failures
    samples = replicate(sc, 10, SEED, levels)
    bad = misses(twin, samples)
    assert not bad, "DES disagrees with the twin with mixed quality:\n" + "\n".join(bad)
    # Ignoring quality (one kind of firm) is visibly wrong: the mixture matters and is measured.
    plain = solve(sc.with_changes({"firms.quality_on_failure": 0.0, "firms.quality_on_graduation": 0.0}))
    plain_twin = dict(twin)
    for name, w in plain.window.items():
        plain_twin[f"{name}.mean_occupancy"] = w.mean_occupancy
        plain_twin[f"{name}.at_horizon"] = w.occupancy_end
        plain_twin[f"{name}.failures"] = w.failures
    assert misses(plain_twin, samples), "the test cannot tell a mixture from a single kind of firm"


# ------------------------------------------------------------------------------------ cases D and E
@pytest.mark.slow
def test_erlang_b_loss_fraction() -> None:
    # c = 10 slots, offered load a = 40 / 5 = 8 Erlang: B = 0.1217. 20 replications of 60 years after a
    # 2-year warm-up (the stage relaxes in weeks): ~2,300 arrivals each, interval ~+-5 % of B.
    sc = single_stage("skip", 10, 40.0, 62.0, 2.0)
    tw = solve(sc)
    q = tw.queues["s"]
    assert q.kind == "loss"

    def measure(res: sim.RunResult) -> dict[str, float]:
        st = res.summary()
        tried = st["stages.s.entries"] + st["stages.s.skips"]
        return {
            "p_loss": st["stages.s.skips"] / tried,
            "busy_slots": st["stages.s.mean_occupancy"],
            "market": st["stages.m.mean_occupancy"],
        }

    samples = replicate(sc, 20, SEED, measure)
    twin = {"p_loss": q.p_loss, "busy_slots": tw.window["s"].mean_occupancy, "market": tw.window["m"].mean_occupancy}
    assert abs(q.mean_in_service - q.offered_load * (1 - q.p_loss)) < 1e-12
    bad = misses(twin, samples)
    assert not bad, "DES disagrees with Erlang B:\n" + "\n".join(bad)
    assert misses({"p_loss": erlang_b(9, 8.0)}, samples), "the interval cannot tell 9 slots from 10"


def test_loss_stage_transient_from_empty() -> None:
    # The first three years from an empty start, where the loss probability still climbs: the twin's
    # birth-death block gives the expected counts exactly. 40 short replications.
    sc = single_stage("skip", 10, 40.0, 3.0, 0.0)
    tw = solve(sc)

    def measure(res: sim.RunResult) -> dict[str, float]:
        st = res.summary()
        return {
            "skips": st["stages.s.skips"],
            "market_entries": st["stages.m.entries"],
            "market_at_horizon": st["stages.m.occupancy_at_horizon"],
            "busy_slots": st["stages.s.mean_occupancy"],
        }

    samples = replicate(sc, 40, SEED, measure)
    twin = {
        "skips": tw.window["s"].skips,
        "market_entries": tw.window["m"].entries,
        "market_at_horizon": tw.window["m"].occupancy_end,
        "busy_slots": tw.window["s"].mean_occupancy,
    }
    bad = misses(twin, samples)
    assert not bad, "DES disagrees with the transient loss model:\n" + "\n".join(bad)


def waits_in_window(res: sim.RunResult, start: float, end: float) -> tuple[np.ndarray, np.ndarray]:
    """Per firm applying to stage s in [start, end): whether it waited and how long (years)."""
    ev = res.events
    s = ev[ev["stage"] == "s"]
    apply = s[s["event"] == "apply"].groupby("firm")["time"].first()
    admit = s[s["event"] == "admit"].groupby("firm")["time"].first()
    waited = s[s["event"] == "wait"].groupby("firm").size()
    firms = apply[(apply >= start) & (apply < end)]
    wait_years = admit.reindex(firms.index).to_numpy() - firms.to_numpy()
    did_wait = waited.reindex(firms.index, fill_value=0).to_numpy() > 0
    return did_wait, wait_years


@pytest.mark.slow
def test_erlang_c_probability_and_mean_wait() -> None:
    # c = 5 slots, a = 20 / 5 = 4 Erlang (utilisation 0.8): C = 0.554, Wq = C / (c mu - lambda) = 0.111 y.
    # Firms applying in [2, 59) years: waits are done long before the horizon (P(wait > 3 y) ~ e^-15).
    # 20 replications of ~1,100 firms; waits are autocorrelated, which the replication interval absorbs.
    sc = single_stage("queue", 5, 20.0, 62.0, 2.0)
    tw = solve(sc)
    q = tw.queues["s"]
    assert q.kind == "queue"

    def measure(res: sim.RunResult) -> dict[str, float]:
        did_wait, wait = waits_in_window(res, 2.0, 59.0)
        assert not np.isnan(wait).any(), "a firm applied in the window and was never admitted"
        return {
            "p_wait": float(did_wait.mean()),
            "mean_wait": float(wait.mean()),
            "busy_slots": res.summary()["stages.s.mean_occupancy"],
        }

    samples = replicate(sc, 20, SEED, measure)
    twin = {"p_wait": q.p_wait, "mean_wait": q.mean_wait_years, "busy_slots": q.mean_in_service}
    bad = misses(twin, samples)
    assert not bad, "DES disagrees with Erlang C:\n" + "\n".join(bad)
    six = solve(single_stage("queue", 6, 20.0, 62.0, 2.0)).queues["s"]
    assert misses({"p_wait": six.p_wait, "mean_wait": six.mean_wait_years}, samples), (
        "the interval cannot tell 5 slots from 6"
    )
