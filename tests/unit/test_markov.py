"""Unit tests for sim.markov: closed-form Markov chain and queueing results.

Every expected value is worked out by hand in the test (exponential stages,
geometric series, Erlang tables), so a failure points at the module, not at a
second implementation of the same formula. Tolerances are tight (1e-9 relative
unless stated) because everything here is deterministic linear algebra.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from sim.markov import AbsorbingChain, erlang_b, erlang_c, mmc_mean_queue, mmc_mean_wait

RTOL = 1e-9
ATOL = 1e-12


def one_stage(fail: float, graduate: float) -> AbsorbingChain:
    """One exponential stage, leaving to 'failed' at `fail`/yr or 'graduated' at `graduate`/yr."""
    return AbsorbingChain(
        ("incubator",),
        ("failed", "graduated"),
        np.zeros((1, 1)),
        np.array([[fail, graduate]]),
    )


def two_stage(a: float, b: float, c: float, g: float) -> AbsorbingChain:
    """Stage 1 fails at a, moves to stage 2 at b; stage 2 fails at c, graduates at g (per year)."""
    return AbsorbingChain.from_rates(
        ["incubator", "accelerator"],
        ["failed", "graduated"],
        {
            ("incubator", "failed"): a,
            ("incubator", "accelerator"): b,
            ("accelerator", "failed"): c,
            ("accelerator", "graduated"): g,
        },
    )


def loop_chain(a: float, b: float, r: float, g: float) -> AbsorbingChain:
    """Stage 1 fails at a, goes to 2 at b; stage 2 returns to 1 at r, graduates at g."""
    return AbsorbingChain.from_rates(
        ["s1", "s2"],
        ["failed", "graduated"],
        {("s1", "failed"): a, ("s1", "s2"): b, ("s2", "s1"): r, ("s2", "graduated"): g},
    )


def settling_chain(a: float, b: float, c: float) -> AbsorbingChain:
    """'incubator' fails at a or moves to 'park' at b; 'park' never leaves; 'market' fails at c."""
    return AbsorbingChain.from_rates(
        ["incubator", "park", "market"],
        ["failed"],
        {("incubator", "failed"): a, ("incubator", "park"): b, ("market", "failed"): c},
    )


# --------------------------------------------------------------- construction
def test_diagonal_is_ignored_and_recomputed() -> None:
    q = np.array([[99.0, 0.7], [0.0, np.nan]])
    r = np.array([[0.4, 0.0], [0.25, 0.15]])
    chain = AbsorbingChain(("s1", "s2"), ("failed", "graduated"), q, r)
    t_gen = chain.generator()
    expected_diag = [-(0.7 + 0.4), -(0.25 + 0.15)]
    assert np.allclose(np.diag(t_gen), expected_diag, rtol=RTOL, atol=ATOL), (
        f"generator diagonal {np.diag(t_gen)} should be minus total outflow {expected_diag}"
    )
    assert t_gen[1, 0] == 0.0, f"NaN on the input diagonal leaked off-diagonal: {t_gen}"
    row_sums = chain.full_generator().sum(axis=1)
    assert np.allclose(row_sums, 0.0, atol=ATOL), f"full generator rows must sum to 0: {row_sums}"
    assert np.allclose(chain.outflow_rates(), [1.1, 0.4], rtol=RTOL), (
        f"outflow rates {chain.outflow_rates()} != [1.1, 0.4]"
    )


def test_chain_is_immutable() -> None:
    chain = one_stage(0.3, 0.2)
    with pytest.raises(dataclasses.FrozenInstanceError):
        chain.stages = ("other",)  # type: ignore[misc]
    with pytest.raises(ValueError):
        chain.R[0, 0] = 5.0
    copy = chain.generator()
    copy[0, 0] = 123.0
    assert chain.Q[0, 0] == -0.5, f"generator() must return a copy, Q changed to {chain.Q}"


def test_input_arrays_are_copied() -> None:
    r = np.array([[0.3, 0.2]])
    chain = AbsorbingChain(("incubator",), ("failed", "graduated"), np.zeros((1, 1)), r)
    r[0, 0] = 10.0
    assert chain.R[0, 0] == 0.3, f"chain shares memory with the caller's R: {chain.R}"


@pytest.mark.parametrize(
    ("stages", "outcomes", "q", "r", "match"),
    [
        (("s",), ("f",), [[0.0, 1.0]], [[1.0]], "Q: expected shape"),
        (("s",), ("f",), [[0.0]], [[1.0, 2.0]], "R: expected shape"),
        (
            ("a", "b"),
            ("f",),
            [[0.0, -1.0], [0.0, 0.0]],
            [[1.0], [1.0]],
            "rates must be finite",
        ),
        (
            ("a", "b"),
            ("f",),
            [[0.0, np.inf], [0.0, 0.0]],
            [[1.0], [1.0]],
            "rates must be finite",
        ),
        (("s",), ("f",), [[0.0]], [[-0.1]], r"R\['s', 'f'\]"),
        (("s",), ("f",), [[0.0]], [[np.nan]], "rates must be finite"),
        (("s", "s"), ("f",), np.zeros((2, 2)), [[1.0], [1.0]], "unique"),
        (("s",), ("s",), [[0.0]], [[1.0]], "unique"),
        ((), ("f",), np.zeros((0, 0)), np.zeros((0, 1)), "at least one"),
        (("",), ("f",), [[0.0]], [[1.0]], "non-empty strings"),
    ],
)
def test_invalid_construction_raises(
    stages: tuple[str, ...], outcomes: tuple[str, ...], q: object, r: object, match: str
) -> None:
    with pytest.raises(ValueError, match=match):
        AbsorbingChain(stages, outcomes, np.asarray(q, dtype=float), np.asarray(r, dtype=float))


@pytest.mark.parametrize(
    ("rates", "match"),
    [
        ({("nowhere", "failed"): 1.0}, "source must be a stage"),
        ({("s1", "nowhere"): 1.0}, "unknown target"),
        ({("s1", "s1"): 1.0}, "self-transitions"),
        ({("failed", "s1"): 1.0}, "source must be a stage"),
        ({("s1", "failed"): -1.0}, "rates must be finite"),
    ],
)
def test_from_rates_rejects_bad_transitions(rates: dict[tuple[str, str], float], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        AbsorbingChain.from_rates(["s1"], ["failed"], rates)


# ------------------------------------------------------------------ one stage
def test_single_stage_closed_forms() -> None:
    a, b = 0.3, 0.2
    chain = one_stage(a, b)
    probs = chain.absorption_probabilities(0)
    expected = [a / (a + b), b / (a + b)]
    assert np.allclose(probs, expected, rtol=RTOL), f"absorption {probs} != {expected}"
    time = chain.expected_time_in_stage("incubator")
    assert np.allclose(time, [1.0 / (a + b)], rtol=RTOL), f"time in stage {time} != 1/(a+b)"
    total = chain.expected_time_to_absorption(0)
    assert math.isclose(total, 1.0 / (a + b), rel_tol=RTOL), f"time to absorption {total} != 2.0"
    visits = chain.expected_visits(0)
    assert np.allclose(visits, [1.0], rtol=RTOL), f"a single stage is entered once, got {visits}"


def test_single_stage_state_probabilities_and_survival() -> None:
    a, b = 0.3, 0.2
    s = a + b
    chain = one_stage(a, b)
    t = np.array([0.0, 0.5, 1.0, 3.0, 10.0])
    probs = chain.state_probabilities(0, t)
    assert probs.shape == (5, 3), f"expected shape (len(t), n+m) = (5, 3), got {probs.shape}"
    stay = np.exp(-s * t)
    expected = np.column_stack([stay, a / s * (1 - stay), b / s * (1 - stay)])
    assert np.allclose(probs, expected, rtol=1e-8, atol=1e-12), f"P(t) {probs} != {expected}"
    surv = chain.survival(0, t, ["failed"])
    expected_surv = 1.0 - a / s * (1.0 - stay)
    assert np.allclose(surv, expected_surv, rtol=1e-8), f"S(t) {surv} != {expected_surv}"
    scalar = chain.state_probabilities(0, 2.0)
    assert scalar.shape == (3,), f"scalar t should give shape (n+m,), got {scalar.shape}"
    assert np.allclose(scalar[0], math.exp(-s * 2.0), rtol=1e-8), f"P(stay to t=2) {scalar[0]} != exp(-{s}*2)"
    both = chain.survival(0, t, ["failed", "graduated"])
    assert np.allclose(both, stay, rtol=1e-8), f"survival to any outcome {both} != exp(-s t) {stay}"
    single_name = chain.survival(0, t, "failed")
    assert np.allclose(single_name, surv, rtol=RTOL), (
        f"a bare string should mean one outcome name: {single_name} vs {surv}"
    )


# ------------------------------------------------------------------ two stages
@pytest.mark.parametrize("g", [0.0, 0.15])
def test_two_stage_survival_matches_hand_solution(g: float) -> None:
    a, b, c = 0.4, 0.7, 0.25
    s, d = a + b, c + g  # outflow rates of stage 1 and stage 2
    assert not math.isclose(s, d), "test parameters must avoid the a+b == c+g degenerate case"
    chain = two_stage(a, b, c, g)
    t = np.linspace(0.0, 15.0, 31)
    # P1(t) = e^{-st}; P2(t) = b/(s-d) (e^{-dt} - e^{-st});
    # failed by t = a/s (1-e^{-st}) + c * int_0^t P2.
    p1 = np.exp(-s * t)
    p2 = b / (s - d) * (np.exp(-d * t) - np.exp(-s * t))
    int_p2 = b / (s - d) * ((1 - np.exp(-d * t)) / d - (1 - np.exp(-s * t)) / s)
    failed = a / s * (1 - np.exp(-s * t)) + c * int_p2
    surv = chain.survival("incubator", t, ["failed"])
    assert np.allclose(surv, 1.0 - failed, rtol=1e-8, atol=1e-12), f"S(t) {surv} != hand solution {1.0 - failed}"
    probs = chain.state_probabilities("incubator", t)
    assert np.allclose(probs[:, 0], p1, rtol=1e-8, atol=1e-12), f"P1(t) {probs[:, 0]} != {p1}"
    assert np.allclose(probs[:, 1], p2, rtol=1e-8, atol=1e-12), f"P2(t) {probs[:, 1]} != {p2}"
    if g == 0.0:
        assert np.allclose(surv, p1 + p2, rtol=1e-8, atol=1e-12), (
            f"with no graduation, survival {surv} must equal P1+P2 {p1 + p2}"
        )
    absorb = chain.absorption_probabilities(0)
    expected = [a / s + b / s * c / d, b / s * g / d]
    assert np.allclose(absorb, expected, rtol=RTOL), f"absorption {absorb} != {expected}"
    time = chain.expected_time_in_stage(0)
    assert np.allclose(time, [1 / s, b / s / d], rtol=RTOL), f"time in stages {time}"


def test_probabilities_sum_to_one_at_every_time() -> None:
    chains = [
        two_stage(0.4, 0.7, 0.25, 0.15),
        loop_chain(0.5, 1.5, 2.0, 1.0),
        settling_chain(0.3, 0.2, 1.0),
    ]
    t = np.concatenate([[0.0], np.logspace(-3, 2.5, 40)])
    for chain in chains:
        start = np.full(chain.n_stages, 1.0 / chain.n_stages)
        probs = chain.state_probabilities(start, t)
        totals = probs.sum(axis=1)
        assert np.allclose(totals, 1.0, atol=1e-10), f"{chain.stages}: row sums {totals} != 1"
        assert np.all(probs >= 0.0), f"{chain.stages}: negative probabilities {probs.min()}"
        initial = np.concatenate([start, np.zeros(chain.n_outcomes)])
        assert np.allclose(probs[0], initial, atol=ATOL), f"P(0) {probs[0]} != start {initial}"


def test_absorption_is_linear_in_start_distribution() -> None:
    chain = two_stage(0.4, 0.7, 0.25, 0.15)
    mixed = chain.absorption_probabilities(np.array([0.3, 0.7]))
    expected = 0.3 * chain.absorption_probabilities(0) + 0.7 * chain.absorption_probabilities(1)
    assert np.allclose(mixed, expected, rtol=RTOL), f"mixed start {mixed} != mixture {expected}"
    assert math.isclose(mixed.sum(), 1.0, rel_tol=RTOL), f"absorbing chain: sum {mixed.sum()} != 1"


# ------------------------------------------------------------------ loop chain
def test_expected_visits_in_a_loop_match_geometric_series() -> None:
    a, b, r, g = 0.5, 1.5, 2.0, 1.0
    chain = loop_chain(a, b, r, g)
    p = b / (a + b)  # P(s1 -> s2) in the jump chain
    q = r / (r + g)  # P(s2 -> s1) in the jump chain
    rounds = sum((p * q) ** k for k in range(400))  # 1 + pq + (pq)^2 + ... = 1/(1 - pq)
    expected_visits = np.array([rounds, p * rounds])
    visits = chain.expected_visits("s1")
    assert np.allclose(visits, expected_visits, rtol=1e-9), f"visits {visits} != geometric series {expected_visits}"
    time = chain.expected_time_in_stage("s1")
    expected_time = expected_visits / np.array([a + b, r + g])
    assert np.allclose(time, expected_time, rtol=1e-9), f"time {time} != visits/outflow {expected_time}"
    absorb = chain.absorption_probabilities("s1")
    expected_absorb = [rounds * a / (a + b), p * rounds * g / (r + g)]
    assert np.allclose(absorb, expected_absorb, rtol=1e-9), f"absorption {absorb} != {expected_absorb}"
    from_s2 = chain.expected_visits("s2")
    expected_from_s2 = np.array([q * rounds, 1.0 + q * p * rounds])
    assert np.allclose(from_s2, expected_from_s2, rtol=1e-9), f"visits from s2 {from_s2} != {expected_from_s2}"


# ------------------------------------------------------------------- occupancy
def test_single_stage_occupancy_closed_form() -> None:
    a, b, lam = 0.3, 0.2, 12.0
    mu = a + b
    chain = one_stage(a, b)
    t = np.array([0.0, 0.25, 1.0, 4.0, 20.0])
    occ = chain.occupancy([lam], t)
    expected = lam * (1 - np.exp(-mu * t)) / mu
    assert occ.shape == (5, 1), f"occupancy shape {occ.shape} != (len(t), n)"
    assert np.allclose(occ[:, 0], expected, rtol=1e-8, atol=1e-12), f"E[N(t)] {occ[:, 0]} != {expected}"
    full = chain.occupancy([lam], t, include_outcomes=True)
    grads = b * lam / mu * (t - (1 - np.exp(-mu * t)) / mu)
    assert np.allclose(full[:, 2], grads, rtol=1e-8, atol=1e-12), f"cumulative graduates {full[:, 2]} != {grads}"
    assert np.allclose(full.sum(axis=1), lam * t, rtol=1e-8, atol=1e-10), (
        f"every arrival is somewhere: totals {full.sum(axis=1)} != lambda t {lam * t}"
    )
    scalar = chain.occupancy([lam], 4.0)
    assert scalar.shape == (1,), f"scalar t should give shape (n,), got {scalar.shape}"


def test_occupancy_converges_to_steady_state() -> None:
    chain = loop_chain(0.5, 1.5, 2.0, 1.0)
    lam = np.array([30.0, 5.0])
    steady = chain.steady_state_occupancy(lam)
    late = chain.occupancy(lam, 200.0)
    assert np.allclose(late, steady, rtol=1e-9), f"occupancy at 200 y {late} != steady state {steady}"
    time_1 = chain.expected_time_in_stage("s1")
    time_2 = chain.expected_time_in_stage("s2")
    little = lam[0] * time_1 + lam[1] * time_2
    assert np.allclose(steady, little, rtol=1e-9), f"steady state {steady} != Little's law {little}"
    early = chain.occupancy(lam, [0.0, 0.1, 1.0, 5.0])
    assert np.all(np.diff(early, axis=0) >= -1e-12), f"occupancy from empty must not fall: {early}"


def test_flows_balance_in_steady_state() -> None:
    chain = loop_chain(0.5, 1.5, 2.0, 1.0)
    lam = np.array([30.0, 5.0])
    flows = chain.flows(lam)
    n = chain.n_stages
    assert flows.shape == (n, n + chain.n_outcomes), f"flows shape {flows.shape}"
    inflow = lam + flows[:, :n].sum(axis=0)
    outflow = flows.sum(axis=1)
    assert np.allclose(inflow, outflow, rtol=1e-9), f"stage inflow {inflow} != outflow {outflow}"
    to_outcomes = flows[:, n:].sum()
    assert math.isclose(to_outcomes, lam.sum(), rel_tol=1e-9), (
        f"steady-state exits {to_outcomes} != arrivals {lam.sum()}"
    )
    steady = chain.steady_state_occupancy(lam)
    assert math.isclose(flows[0, 1], steady[0] * 1.5, rel_tol=1e-12), (
        f"flow s1->s2 {flows[0, 1]} != L1 * rate {steady[0] * 1.5}"
    )
    t = np.array([0.5, 2.0])
    timed = chain.flows(lam, t)
    assert timed.shape == (2, n, n + chain.n_outcomes), f"timed flows shape {timed.shape}"
    occ = chain.occupancy(lam, t)
    assert np.allclose(timed[:, 1, 3], occ[:, 1] * 1.0, rtol=1e-12), (
        f"flow s2->graduated at t {timed[:, 1, 3]} != L2(t) * g {occ[:, 1]}"
    )


# ------------------------------------------------------------- settling stage
def test_settling_stage_occupancy_grows_linearly() -> None:
    lam = 7.0
    park_only = AbsorbingChain(("park",), ("failed",), np.zeros((1, 1)), np.zeros((1, 1)))
    t = np.array([0.0, 1.0, 10.0, 100.0])
    occ = park_only.occupancy([lam], t)[:, 0]
    assert np.allclose(occ, lam * t, rtol=1e-9, atol=1e-12), f"no exits: E[N(t)] {occ} != lambda t"

    a, b = 0.3, 0.2
    s = a + b
    chain = settling_chain(a, b, 1.0)
    arrivals = np.array([lam, 0.0, 0.0])
    park = chain.occupancy(arrivals, t)[:, 1]
    expected = lam * b / s * (t - (1 - np.exp(-s * t)) / s)
    assert np.allclose(park, expected, rtol=1e-8, atol=1e-12), f"park occupancy {park} != {expected}"
    late = chain.occupancy(arrivals, [100.0, 200.0])[:, 1]  # transient e^{-50} long gone
    slope = (late[1] - late[0]) / 100.0
    assert math.isclose(slope, lam * b / s, rel_tol=1e-8), (
        f"park grows at {slope}/yr, expected lambda * b/(a+b) = {lam * b / s}"
    )
    with pytest.raises(ValueError, match=r"'park'.*settling"):
        chain.steady_state_occupancy(arrivals)
    with pytest.raises(ValueError, match="'park'"):
        chain.flows(arrivals)
    timed = chain.flows(arrivals, 10.0)
    assert np.all(np.isfinite(timed)), f"flows at a finite time must be finite: {timed}"


def test_settling_stage_absorption_quantities() -> None:
    a, b, c = 0.3, 0.2, 1.0
    chain = settling_chain(a, b, c)
    assert chain.trapped_stages() == ("park",), f"trapped stages {chain.trapped_stages()}"
    for method in (
        chain.absorption_probabilities,
        chain.expected_time_in_stage,
        chain.expected_visits,
    ):
        with pytest.raises(ValueError, match="'park'"):
            method("incubator")
    partial = chain.absorption_probabilities("incubator", allow_settling=True)
    assert np.allclose(partial, [a / (a + b)], rtol=RTOL), (
        f"eventual failure {partial} != a/(a+b); the rest settles in the park"
    )
    # 'market' cannot reach the park, so its quantities are finite and exact.
    market = chain.absorption_probabilities("market")
    assert np.allclose(market, [1.0], rtol=RTOL), f"market absorption {market} != [1]"
    time = chain.expected_time_in_stage("market")
    assert np.allclose(time, [0.0, 0.0, 1.0 / c], rtol=RTOL), f"market time {time}"
    steady = chain.steady_state_occupancy([0.0, 0.0, 4.0])
    assert np.allclose(steady, [0.0, 0.0, 4.0 / c], rtol=RTOL), f"market-only steady state {steady}"
    probs = chain.state_probabilities("incubator", 3.0)
    expected_park = b / (a + b) * (1 - math.exp(-(a + b) * 3.0))
    assert math.isclose(probs[1], expected_park, rel_tol=1e-8), f"P(park at 3y) {probs[1]} != {expected_park}"


def test_closed_loop_without_exit_is_trapped() -> None:
    chain = AbsorbingChain.from_rates(
        ["a", "b", "c"],
        ["failed"],
        {("a", "b"): 1.0, ("b", "a"): 1.0, ("c", "failed"): 1.0},
    )
    assert chain.trapped_stages() == ("a", "b"), f"loop a<->b has no exit: {chain.trapped_stages()}"
    with pytest.raises(ValueError, match="no path to any outcome"):
        chain.expected_time_in_stage("a")


# ------------------------------------------------------------ invalid inputs
@pytest.mark.parametrize(
    ("start", "match"),
    [
        (2, "index must be in"),
        (-1, "index must be in"),
        ("nowhere", "unknown stage"),
        (True, "expected a stage index"),
        ([0.5, 0.4], "sum to 1"),
        ([1.2, -0.2], ">= 0"),
        ([1.0], "shape"),
        ([np.nan, 1.0], "finite"),
    ],
)
def test_invalid_start_raises(start: object, match: str) -> None:
    chain = two_stage(0.4, 0.7, 0.25, 0.15)
    with pytest.raises(ValueError, match=match):
        chain.absorption_probabilities(start)  # type: ignore[arg-type]


@pytest.mark.parametrize("t", [-1.0, np.nan, np.inf, [0.0, -0.1], "soon"])
def test_invalid_times_raise(t: object) -> None:
    chain = two_stage(0.4, 0.7, 0.25, 0.15)
    with pytest.raises(ValueError, match="t:"):
        chain.state_probabilities(0, t)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="t:"):
        chain.occupancy([1.0, 0.0], t)  # type: ignore[arg-type]


def test_invalid_arrivals_and_outcomes_raise() -> None:
    chain = two_stage(0.4, 0.7, 0.25, 0.15)
    with pytest.raises(ValueError, match="arrival_rates"):
        chain.occupancy([1.0], 1.0)
    with pytest.raises(ValueError, match="arrival_rates"):
        chain.steady_state_occupancy([1.0, -1.0])
    with pytest.raises(ValueError, match="unknown outcome"):
        chain.survival(0, 1.0, ["exploded"])
    with pytest.raises(ValueError, match="at least one"):
        chain.survival(0, 1.0, [])


# -------------------------------------------------------------------- queues
def erlang_b_direct(c: int, a: float) -> float:
    """Textbook form (a^c/c!) / sum_k a^k/k!, fine for small c."""
    terms = [a**k / math.factorial(k) for k in range(c + 1)]
    return terms[-1] / sum(terms)


def erlang_c_direct(c: int, a: float) -> float:
    """Textbook form of the Erlang C probability of waiting."""
    top = a**c / math.factorial(c) * c / (c - a)
    return top / (sum(a**k / math.factorial(k) for k in range(c)) + top)


@pytest.mark.parametrize(
    ("servers", "load", "expected", "rel"),
    [
        (1, 1.0, 0.5, 1e-12),
        (2, 1.0, 0.2, 1e-12),
        (10, 5.0, 0.018385, 1e-4),
        (0, 3.0, 1.0, 0.0),
    ],
)
def test_erlang_b_table_values(servers: int, load: float, expected: float, rel: float) -> None:
    value = erlang_b(servers, load)
    assert math.isclose(value, expected, rel_tol=rel), f"B({servers}, {load}) = {value}, table {expected}"


def test_erlang_b_matches_direct_formula_and_is_stable() -> None:
    for c in range(1, 15):
        for a in (0.0, 0.5, 3.0, 12.0):
            value, direct = erlang_b(c, a), erlang_b_direct(c, a)
            assert math.isclose(value, direct, rel_tol=1e-10, abs_tol=1e-300), (
                f"B({c}, {a}) recursion {value} != direct {direct}"
            )
    big = erlang_b(2000, 1900.0)
    assert 0.0 < big < 1.0 and math.isfinite(big), f"B(2000, 1900) should be a probability, got {big}"
    more = erlang_b(2001, 1900.0)
    assert more < big, f"an extra server must lower the loss: {big} -> {more}"


def test_erlang_c_known_values() -> None:
    value = erlang_c(2, 1.0)
    assert math.isclose(value, 1.0 / 3.0, rel_tol=1e-12), f"C(2, 1) = {value}, expected 1/3"
    for rho in (0.0, 0.1, 0.5, 0.9, 0.999):
        single = erlang_c(1, rho)
        assert math.isclose(single, rho, rel_tol=1e-12, abs_tol=1e-15), f"M/M/1: C(1, {rho}) = {single}"
    for c in range(1, 10):
        for frac in (0.2, 0.7, 0.95):
            a = frac * c
            assert math.isclose(erlang_c(c, a), erlang_c_direct(c, a), rel_tol=1e-10), (
                f"C({c}, {a}) {erlang_c(c, a)} != direct {erlang_c_direct(c, a)}"
            )


def test_mmc_reduces_to_mm1() -> None:
    lam, mu = 3.0, 5.0
    rho = lam / mu
    wait = mmc_mean_wait(1, lam, mu)
    assert math.isclose(wait, rho / (mu - lam), rel_tol=1e-12), f"M/M/1 Wq {wait} != rho/(mu-lam)"
    queue = mmc_mean_queue(1, lam, mu)
    assert math.isclose(queue, rho**2 / (1 - rho), rel_tol=1e-12), f"M/M/1 Lq {queue} != rho^2/(1-rho)"


def test_mmc_littles_law_and_monotonicity() -> None:
    lam, mu = 20.0, 2.5  # 8 Erlangs of load, per year
    previous = math.inf
    for c in range(9, 20):
        wait, queue = mmc_mean_wait(c, lam, mu), mmc_mean_queue(c, lam, mu)
        assert math.isclose(queue, lam * wait, rel_tol=1e-12), f"c={c}: Lq {queue} != lambda Wq {lam * wait}"
        assert wait < previous, f"more servers raised the wait at c={c}: {previous} -> {wait}"
        previous = wait
    assert mmc_mean_wait(3, 0.0, 1.0) == 0.0, "no arrivals means no waiting"


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: erlang_b(-1, 1.0), "servers"),
        (lambda: erlang_b(2.5, 1.0), "servers"),  # type: ignore[arg-type]
        (lambda: erlang_b(True, 1.0), "servers"),
        (lambda: erlang_b(3, -0.1), "offered_load"),
        (lambda: erlang_b(3, math.nan), "offered_load"),
        (lambda: erlang_c(0, 0.5), "servers"),
        (lambda: erlang_c(2, 2.0), "offered_load"),
        (lambda: erlang_c(2, 3.0), "offered_load"),
        (lambda: mmc_mean_wait(1, 5.0, 5.0), "arrival_rate"),
        (lambda: mmc_mean_wait(2, 1.0, 0.0), "service_rate"),
        (lambda: mmc_mean_queue(2, -1.0, 1.0), "arrival_rate"),
        (lambda: mmc_mean_queue(2, 1.0, math.inf), "service_rate"),
    ],
)
def test_invalid_queue_inputs_raise(call: object, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        call()  # type: ignore[operator]
