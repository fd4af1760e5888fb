"""Milestones at graduation: shares recovered, the facts that override the draw, and the draw's key."""

from __future__ import annotations

import math

import numpy as np

from sim.streams import BLOCK, Streams

from .helpers import chain, run

ANGEL_AT_B = {
    "type": "angel_fund",
    "name": "angels",
    "threshold": -100.0,  # every firm passes
    "noise_sd": 0.0,
    "target": {"stages": ["b"]},
}


def test_milestone_shares_are_recovered() -> None:
    """6,000 graduations from each of a and b: each share within 4 binomial standard errors.

    sd = sqrt(p (1 - p) / 6000) <= 0.0065, so the tolerance is <= 0.026 and a two-sided miss by chance has
    probability ~6e-5 per share; swapping two shares of a (0.5 and 0.2) would miss by 0.3.
    """
    shares_a = {"high_tech": 0.5, "financing": 0.2, "revenue": 0.3, "acquisition_or_listing": 0.0}
    shares_b = {"revenue": 0.9, "acquisition_or_listing": 0.1}
    n = 6000
    res = run(chain(n, milestones={"a": shares_a, "b": shares_b}), seed=11)
    o = res.outcomes
    for stage, shares in (("a", shares_a), ("b", shares_b)):
        mine = o.grad_milestone[o.grad_stage == res.output.stage_names.index(stage)]
        assert len(mine) == n, f"{stage}: {len(mine)} graduations, expected {n}"
        for k, test in enumerate(("high_tech", "financing", "revenue", "acquisition_or_listing")):
            p = shares.get(test, 0.0)
            got = float(np.mean(mine == k))
            tol = 4 * math.sqrt(p * (1 - p) / n)
            assert abs(got - p) <= tol, f"{stage}.{test}: share {got:.4f}, expected {p} +- {tol:.4f}"
    # c is not a success test: its graduations carry no milestone
    c = o.grad_milestone[o.grad_stage == res.output.stage_names.index("c")]
    assert len(c) == n and (c == -1).all(), "graduations from a stage without shares got a milestone"
    s = res.summary()
    assert s["milestones.revenue"] == s["milestones.a.revenue"] + s["milestones.b.revenue"]


def test_financing_and_exit_override_the_draw() -> None:
    """Every firm is funded on entering b: its b graduation is financing; c's graduations exit: acquired or
    listed (even though shares say high-tech everywhere); a's graduations keep the drawn high-tech."""
    data = chain(40, milestones={s: {"high_tech": 1.0} for s in ("a", "b", "c")})
    data["stages"]["c"]["on_graduation"] = {"exit": 1.0}
    data["policies"] = [ANGEL_AT_B]
    res = run(data)
    o = res.outcomes
    names = res.output.stage_names
    expected = {"a": 0, "b": 1, "c": 3}  # high_tech, financing, acquisition_or_listing
    for stage, code in expected.items():
        got = o.grad_milestone[o.grad_stage == names.index(stage)]
        assert len(got) == 40 and (got == code).all(), f"{stage}: milestones {np.unique(got)}, expected {code}"
    firms = res.firms
    assert (firms["milestone"] == "high_tech").all(), "the firm's first milestone is its graduation from a"
    assert np.allclose(firms["milestone_time"], 1.0)
    assert (firms["milestone_stage"] == "a").all()
    assert (firms["n_graduations"] == 3).all()


def test_funding_in_an_earlier_stay_is_not_financing() -> None:
    """Funded in b, the firm graduates from c in a later stay: c's draw stands (revenue, not financing)."""
    data = chain(30, milestones={"c": {"revenue": 1.0}})
    data["policies"] = [ANGEL_AT_B]
    o = run(data).outcomes
    assert (o.grad_milestone[o.grad_milestone >= 0] == 2).all(), "funding in b leaked into c's graduation"


def test_kth_graduation_reads_its_own_uniform() -> None:
    """The cause of a firm's k-th graduation comes from the ``milestone`` stream keyed by (source, block, k):
    with shares 1/2 high-tech, 1/2 revenue, it is high-tech exactly when that uniform is below 1/2."""
    half = {"high_tech": 0.5, "revenue": 0.5}
    seed, rep = 5, 2
    res = run(chain(50, milestones={"a": half, "b": half}), seed=seed, replication=rep)
    o = res.outcomes
    streams = Streams(seed, rep)
    source = int(res.output.firm_source[0])
    for k, stage in enumerate(("a", "b")):  # a is each firm's graduation 0, b its graduation 1
        u = streams.generator("milestone", source, k).random(BLOCK)  # block 0: firm index < 4096
        mine = o.grad_stage == res.output.stage_names.index(stage)
        index = res.output.firm_index[o.grad_firm[mine]]
        expected = np.where(u[index] < 0.5, 0, 2)
        assert (o.grad_milestone[mine] == expected).all(), f"graduation {k} does not read its keyed uniform"
