"""The quick parts of the run summary give exactly what the plain computations they replace give.

The summary reads the log through a few shared helpers: the log unpacked a slice at a time, each event
kind's rows and columns gathered in one pass (:func:`sim.event_log.gather_events`), completed stays
paired without sorting when nobody entered a stage twice, cumulative graduates by year from each stage's
graduations, each firm's first listing risk without ``minimum.at``. Each is compared here with the
straightforward computation, on real logs and on made-up cases that take the other branch (a firm
entering a stage twice, times out of order). The summaries as a whole are held to the tables' summary by
``test_fast_summary.py`` and to stored results by the back tests.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import sim
from sim.event_log import (
    CARRIER_SHIFT,
    INFO_SHIFT,
    STAGE_SHIFT,
    Ev,
    EventLog,
    event_rows,
    event_values,
    gather_events,
    stable_order,
)
from sim.outcomes import BLOCK, _among, _draws, _first_time
from sim.streams import Streams
from sim.tables import SUMMARY_READS, _completed_stays, _paired_stays, _three_decimals, graduates_by_year
from tests.helpers import SCENARIOS, tiny

COLUMNS = ("time", "firm", "stage", "carrier", "info")


@pytest.fixture(scope="module")
def policy_mix() -> sim.RunResult:
    # policies, queues and reneging: most event kinds occur
    return sim.run(sim.load_scenario(SCENARIOS / "policy_mix.toml"), seed=3)


def test_the_log_unpacked_in_slices_equals_the_whole_log_unpacked_at_once() -> None:
    rng = np.random.default_rng(7)
    n = 150_000  # more than two slices, the last one partial
    log = EventLog()
    event = rng.integers(0, len(Ev), n)
    stage = rng.integers(-1, 2047, n)  # every value the layout holds, the extremes included
    carrier = rng.choice([-1, 0, 1, (1 << 24) - 2], n)
    info = rng.choice([-2, -1, 0, 5, (1 << 23) - 3], n)
    for i in range(n):
        log.append(float(i), i, int(event[i]), int(stage[i]), int(carrier[i]), int(info[i]))
    cols = log.columns()
    code = np.frombuffer(log.code, dtype=np.int64)
    whole = {
        "event": (code & 0x1F).astype(np.int8),
        "stage": ((code >> STAGE_SHIFT) & 0x7FF).astype(np.int16) - 1,
        "carrier": ((code >> CARRIER_SHIFT) & 0xFFFFFF).astype(np.int32) - 1,
        "info": (code >> INFO_SHIFT).astype(np.int32) - 2,
    }
    for name, expected in whole.items():
        assert cols[name].dtype == expected.dtype and np.array_equal(cols[name], expected), name
    assert np.array_equal(cols["stage"], stage) and np.array_equal(cols["info"], info)
    empty = EventLog().columns()
    assert all(len(v) == 0 for v in empty.values()) and empty["stage"].dtype == np.int16


def test_gathering_in_one_pass_gives_each_kinds_rows_and_columns(policy_mix: sim.RunResult) -> None:
    cols = policy_mix.output.log.columns()
    wanted = {kind: ("rows", *COLUMNS) for kind in Ev}
    gather_events(cols, wanted)
    plain = policy_mix.output.log.columns()
    for kind in Ev:
        rows = np.flatnonzero(plain["event"] == kind)
        assert np.array_equal(event_rows(cols, kind), rows), f"rows of {kind.name}"
        for c in COLUMNS:
            got = event_values(cols, kind, c)
            assert got.dtype == plain[c].dtype and np.array_equal(got, plain[c][rows]), f"{c} of {kind.name}"
            assert not got.flags.writeable, "a kept column must be read-only: every table shares it"


def test_gathering_keeps_what_is_kept_and_handles_an_empty_log(policy_mix: sim.RunResult) -> None:
    cols = policy_mix.output.log.columns()
    first = event_values(cols, Ev.ADMIT, "time")
    gather_events(cols, SUMMARY_READS)
    assert event_values(cols, Ev.ADMIT, "time") is first, "a gathered column was replaced"
    empty = sim.run(sim.parse_scenario(tiny(initial_stock=[])), seed=0).output.log.columns()
    assert len(empty["event"]) == 0
    gather_events(empty, SUMMARY_READS)
    for kind, names in SUMMARY_READS.items():
        for c in names:
            got = event_rows(empty, kind) if c == "rows" else event_values(empty, kind, c)
            assert len(got) == 0 and got.dtype == (np.intp if c == "rows" else empty[c].dtype), (kind, c)


def test_completed_stays_without_sorting_equal_the_paired_ones() -> None:
    rng = np.random.default_rng(11)
    n = 5000
    firms = rng.permutation(n)[:3000]  # each firm enters once; most leave
    adm_t = np.sort(rng.uniform(0.0, 10.0, len(firms)))
    left = rng.random(len(firms)) < 0.8
    lv_f = firms[left]
    lv_t = adm_t[left] + rng.exponential(1.0, len(lv_f))
    order = np.argsort(lv_t, kind="stable")  # leaves in log (time) order
    for warmup in (0.0, 4.0):
        fast = _completed_stays(firms, adm_t, lv_f[order], lv_t[order], warmup)
        plain = _paired_stays(firms, adm_t, lv_f[order], lv_t[order], warmup)
        assert fast.tobytes() == plain.tobytes(), f"warm-up {warmup}: the stays or their order differ"
        assert math.isclose(float(np.mean(fast)), float(np.mean(plain)), rel_tol=0.0, abs_tol=0.0)


def test_stays_that_do_not_pair_one_to_one_take_the_paired_way() -> None:
    # a firm leaving twice after one admission, and a firm leaving that was never admitted: the lookup by
    # firm cannot pair these, so they must come out as the binary search pairs them
    adm_f, adm_t = np.array([1, 2, 4]), np.array([0.0, 1.0, 1.5])
    for lv_f, lv_t in (
        (np.array([1, 1, 2]), np.array([2.0, 3.0, 4.0])),
        (np.array([0, 2, 4]), np.array([2.0, 3.0, 3.5])),
    ):
        for warmup in (0.0, 0.5):
            got = _completed_stays(adm_f, adm_t, lv_f, lv_t, warmup)
            assert got.tobytes() == _paired_stays(adm_f, adm_t, lv_f, lv_t, warmup).tobytes(), (lv_f, warmup)


def test_draws_for_firms_in_order_equal_those_in_any_order() -> None:
    # firms in the order of their indices skip the sort; each firm still reads its own row of its block
    streams = Streams(3, 1)
    n = 3 * BLOCK + 17
    source = np.zeros(n, dtype=np.int64)
    index = np.arange(n, dtype=np.int64)
    perm = np.random.default_rng(2).permutation(n)
    for draw in (lambda g: g.standard_normal(BLOCK), lambda g: np.stack([g.random(BLOCK), g.random(BLOCK)])):
        in_order = _draws(streams, "jobs", source, index, draw)
        shuffled = _draws(streams, "jobs", source[perm], index[perm], draw)
        assert in_order[..., perm].tobytes() == shuffled.tobytes()
    two = np.r_[np.zeros(5, dtype=np.int64), np.ones(5, dtype=np.int64)]
    idx = np.r_[np.arange(5), np.arange(5)]
    normal = lambda g: g.standard_normal(BLOCK)  # noqa: E731
    mixed = _draws(streams, "jobs", two, idx, normal)  # two sources, in order
    assert mixed[:5].tobytes() == _draws(streams, "jobs", two[:5], idx[:5], normal).tobytes()
    assert mixed[5:].tobytes() == _draws(streams, "jobs", two[5:], idx[5:], normal).tobytes()


def test_a_firm_entering_a_stage_twice_is_paired_visit_by_visit() -> None:
    # firm 7 enters twice; firm 2 once; log order
    adm_f, adm_t = np.array([7, 2, 7]), np.array([0.0, 1.0, 5.0])
    lv_f, lv_t = np.array([7, 2, 7]), np.array([2.0, 4.0, 5.5])
    stays = _completed_stays(adm_f, adm_t, lv_f, lv_t, 0.0)
    # leaves sorted by firm, then time: firm 2 (3.0), firm 7 first visit (2.0), second visit (0.5)
    assert stays.tolist() == [3.0, 2.0, 0.5]
    assert _completed_stays(adm_f, adm_t, lv_f, lv_t, 1.0).tolist() == [3.0, 0.5]


def test_first_listing_risk_is_each_firms_earliest_graduation() -> None:
    rng = np.random.default_rng(5)
    firm = rng.integers(0, 50, 400)
    for times in (np.sort(rng.uniform(0, 9, 400)), rng.uniform(0, 9, 400)):  # in log order, and not
        expected = np.full(60, math.inf)
        np.minimum.at(expected, firm, times)
        got = np.full(60, math.inf)
        _first_time(got, firm, times)
        assert np.array_equal(got, expected)


def test_stage_membership_by_lookup_equals_isin() -> None:
    stage = np.array([-1, 0, 1, 2, 3, 3, -1, 1])
    for members in ((), (1,), (0, 3), (0, 1, 2, 3)):
        assert np.array_equal(_among(stage, members, 4), np.isin(stage, members)), members


def _graduates_by_year_plainly(res: sim.RunResult, before: dict[str, int], start_year: float) -> dict[str, int]:
    """Cumulative graduates by calendar year, year by year in Python (what the summary must give)."""
    cols = res.output.log.columns()
    t, ev, stage = cols["time"], cols["event"], cols["stage"]
    first = int(math.floor(start_year + 1e-9))
    out: dict[str, int] = {}
    for j, name in enumerate(res.output.stage_names):
        if name not in before:
            continue
        grads = t[(ev == Ev.GRADUATE) & (stage == j)]
        for y in range(first, first + int(res.output.horizon) + 2):
            if y + 1 - start_year <= res.output.horizon + 1e-9:
                out[f"graduates_cumulative.{name}.{y}"] = (
                    int(np.count_nonzero(grads <= y + 1 - start_year)) + before[name]
                )
    return out


@pytest.mark.parametrize("start", ["2020-01-01", "2019-07-01"])
def test_cumulative_graduates_by_year_equal_a_year_by_year_count(start: str) -> None:
    sc = sim.load_scenario(SCENARIOS / "tutorial.toml").with_changes({"calendar.start": start})
    res = sim.run(sc, seed=2)
    before = {name: 10 * (j + 1) for j, name in enumerate(res.output.stage_names)}
    got = graduates_by_year(res.output, before, sc.calendar.start_year, res.output.log.columns())
    expected = _graduates_by_year_plainly(res, before, sc.calendar.start_year)
    assert list(got) == list(expected), "names or their order differ"
    assert got == expected
    assert graduates_by_year(res.output, {}, sc.calendar.start_year) == {}


@pytest.mark.parametrize(
    ("n", "high", "dtype"),
    [
        (0, 5, np.int64),
        (7, 5, np.int64),
        (20_000, 300, np.int32),
        (50_000, 400_000, np.int64),
        (5_000, 2**33, np.int64),
    ],
)
def test_stable_order_is_argsorts_stable_order(n: int, high: int, dtype: type) -> None:
    # two radix passes on 16-bit digits for keys below 2**32 (firm ids), argsort itself otherwise
    keys = np.random.default_rng(n).integers(0, high, n).astype(dtype)
    assert np.array_equal(stable_order(keys), np.argsort(keys, kind="stable"))
    negative = keys - high // 2
    assert np.array_equal(stable_order(negative), np.argsort(negative, kind="stable"))


def test_the_firm_tables_paths_and_stays_match_the_plain_computations(policy_mix: sim.RunResult) -> None:
    # visit paths as Python formats them, stays summed per (firm, stage) cell in the log's order
    res = policy_mix
    cols, firms = res.columns, res.firms
    adm = event_rows(cols, Ev.ADMIT)
    names = res.output.stage_names
    labels: dict[int, list[str]] = {}
    for j in adm.tolist():
        labels.setdefault(int(cols["firm"][j]), []).append(f"{names[cols['stage'][j]]}@{float(cols['time'][j]):.3f}")
    want = [">".join(labels.get(i, [])) for i in range(len(firms))]
    assert firms["stages_visited"].tolist() == want
    years = np.zeros((len(firms), len(names)))
    open_ = np.zeros((len(firms), len(names)), dtype=np.int64)
    for kind, sign in ((Ev.LEAVE, 1.0), (Ev.ADMIT, -1.0)):
        for j in event_rows(cols, kind).tolist():
            years[cols["firm"][j], cols["stage"][j]] += sign * cols["time"][j]
            open_[cols["firm"][j], cols["stage"][j]] -= int(sign)
    years += open_ * res.output.horizon
    for s, name in enumerate(names):
        assert np.array_equal(firms[f"years_in_{name}"].to_numpy(), years[:, s]), name


def test_times_with_three_decimals_are_pythons_own() -> None:
    # digits looked up, and the few times within a hair of a half formatted by Python in their places
    rng = np.random.default_rng(5)
    halves = (np.arange(5_000) + 0.5) / 1000
    t = np.concatenate([rng.random(20_000) * 60, halves, [0.0, 0.0005, 1.0005, 2.0015, 49.9995, 12345.6785]])
    assert _three_decimals(t).to_pylist() == [f"{x:.3f}" for x in t.tolist()]
    assert _three_decimals(np.empty(0)).to_pylist() == []
