"""Monotonicity under common random numbers: the same seed and replication, one parameter moved.

Replication r of two scenarios gives every firm the same arrival time and the same clock budgets
(sim.streams), so some comparisons hold on every sample path, not just on average, and are asserted
firm by firm:

* More slots never lengthen a wait. In a first-come first-served stage whose stay lengths belong to
  the firms (here: their failure and graduation budgets), each firm's wait is non-increasing in the
  number of slots (the classical sample-path monotonicity of multi-server FCFS queues).
* A lower failure hazard never turns a survivor into a failure. With no capacity interactions, a firm
  that had not failed by the horizon made the same moves at the same times (graduations use their own
  budgets), while every failure clock now runs slower; so the set of survivors can only grow. This
  needs firms not to compete for slots, which the test checks (no firm was ever turned away or made
  to wait), since with competition a policy can legitimately hurt some firms.
"""

from __future__ import annotations

import pandas as pd
import pytest

import sim
from tests.helpers import SCENARIOS
from tests.verification.twin_checks import single_stage

SEED = 77


def waits_by_firm(res: sim.RunResult) -> pd.Series:
    """Wait (years) of every firm that applied to stage s, censored at the horizon, keyed by source index."""
    ev = res.events
    s = ev[ev["stage"] == "s"]
    applied = s[s["event"] == "apply"].groupby("firm")["time"].first()
    admitted = s[s["event"] == "admit"].groupby("firm")["time"].first().reindex(applied.index)
    wait = admitted.fillna(res.summary().horizon_years) - applied
    key = res.firms.set_index("firm")["source_index"]
    return pd.Series(wait.to_numpy(), index=key.reindex(applied.index).to_numpy()).sort_index()


def test_more_slots_never_lengthen_a_wait() -> None:
    slots = (3, 4, 5, 7)  # offered load 3 Erlang: from critically loaded to nearly no queue
    for rep in range(3):
        prev: pd.Series | None = None
        for c in slots:
            res = sim.run(single_stage("queue", c, 15.0, 20.0, 0.0), SEED, rep)
            wait = waits_by_firm(res)
            if prev is not None:
                assert wait.index.equals(prev.index), "common random numbers broke: different firms applied"
                worse = wait[wait > prev + 1e-12]
                assert worse.empty, (
                    f"replication {rep}: {c} slots lengthened {len(worse)} waits, e.g. firm {worse.index[0]}: "
                    f"{prev[worse.index[0]]:.4f} -> {worse.iloc[0]:.4f} years"
                )
                assert wait.mean() <= prev.mean(), f"more slots raised the mean wait: {prev.mean()} -> {wait.mean()}"
            prev = wait
        assert prev is not None and prev.mean() < 0.01, "the largest stage should hardly ever queue"


@pytest.mark.slow
@pytest.mark.parametrize("stage", ["maker_space", "incubator", "accelerator", "industrial_park", "market"])
def test_lower_failure_hazard_never_lowers_survivors(stage: str) -> None:
    base_sc = sim.load_scenario(SCENARIOS / "textbook_exponential.toml").with_changes({"calendar.horizon_years": 10.0})
    rate = base_sc.stages[stage].failure.rate  # type: ignore[union-attr]
    safer_sc = base_sc.with_changes({f"stages.{stage}.failure.rate": 0.6 * rate})
    for rep in range(2):
        base, safer = sim.run(base_sc, SEED, rep), sim.run(safer_sc, SEED, rep)
        for res in (base, safer):
            st = res.summary()
            queueing = [m for m in st if m.endswith((".skips", ".reneges")) and st[m]]
            assert not queueing, f"firms competed for slots: {queueing}"
            assert not (res.events["event"] == "wait").any(), "firms competed for slots"

        def alive(res: sim.RunResult) -> set[tuple[str, int]]:
            f = res.firms
            ok = f[f["outcome"] != "failed"]
            return set(zip(ok["source"].astype(str), ok["source_index"].tolist(), strict=True))

        lost = alive(base) - alive(safer)
        assert not lost, f"lowering {stage} failure by 40 % made {len(lost)} survivors fail, e.g. {sorted(lost)[:3]}"
        gained = len(alive(safer)) - len(alive(base))
        assert gained > 0, f"lowering {stage} failure saved nobody: the comparison is not sensitive"
