"""The run summary is one flat, typed record whose metric names are the experiment tables' columns."""

from __future__ import annotations

import json
import math
import pickle
from typing import Any

import pytest

import sim
from sim.experiment import flatten_summary
from sim.summary import RunSummary, ordered_metrics
from tests.helpers import SCENARIOS


@pytest.fixture(scope="module")
def tutorial() -> sim.Scenario:
    # a warm-up, milestones and a horizon shorter than the 10-year survival: NaN values and every kind of key
    return sim.load_scenario(SCENARIOS / "policy_mix.toml").with_changes(
        {"calendar.warmup_years": 1.0, "outcomes.milestones": {"incubator": {"high_tech": 0.5, "revenue": 0.5}}}
    )


@pytest.fixture(scope="module")
def record(tutorial: sim.Scenario) -> RunSummary:
    return sim.run(tutorial, seed=4, replication=1).summary()


def _nested(r: RunSummary) -> dict[str, Any]:
    """The record written the older way: ``stages`` and ``survival`` nested, ``None`` for missing values."""
    plain = {k: None if isinstance(v, float) and math.isnan(v) else v for k, v in r.items()}
    data: dict[str, Any] = {k: getattr(r, k) for k in ("scenario", "seed", "replication", "horizon_years")}
    data["warmup_years"] = r.warmup_years
    data.update({k: v for k, v in plain.items() if not k.startswith(("stages.", "survival."))})
    data["stages"] = {s: {m: plain[f"stages.{s}.{m}"] for m in r.stage(s)} for s in r.stage_names}
    years = list(r.survival("all"))
    data["survival"] = {"years": years}
    for group in ("all", "never_in_carrier", "ever_in_carrier"):
        data["survival"][group] = [plain[f"survival.{group}.{y:g}y"] for y in years]
    return data


def test_the_metrics_are_the_summary_table_columns_in_order(tutorial: sim.Scenario, record: RunSummary) -> None:
    exp = sim.run_experiment(tutorial, reps=2, seed=4)
    columns = [c for c in exp.summary.columns if c not in ("scenario", "seed", "replication")]
    assert columns == list(record), "the record and summary.csv name or order the metrics differently"
    row = exp.summary[exp.summary["replication"] == 1].iloc[0]
    moved = [m for m in record if not (row[m] == record[m] or (math.isnan(row[m]) and math.isnan(record[m])))]
    assert not moved, f"summary.csv holds other values than the record: {moved[:5]}"


def test_descriptive_fields_are_typed_attributes_not_metrics(record: RunSummary) -> None:
    assert (record.scenario, record.seed, record.replication) == ("policy_mix", 4, 1)
    assert record.warmup_years == 1.0 and record.horizon_years == 8.0
    assert not {"scenario", "seed", "replication", "horizon_years", "warmup_years"} & set(record)
    assert all(isinstance(v, int | float) and not isinstance(v, bool) for v in record.values())
    assert isinstance(record["stages.incubator.entries"], int), "counts stay ints"


def test_accessors_read_a_stage_and_a_survival_curve(record: RunSummary) -> None:
    assert record.stage_names[:2] == ("maker_space", "incubator"), "stages in chain order"
    inc = record.stage("incubator")
    assert inc["entries"] == record["stages.incubator.entries"] and "found_full" in inc
    curve = record.survival("all")
    assert list(curve) == [1.0, 3.0, 5.0, 10.0]
    assert math.isnan(curve[10.0]), "10 years after arrival is past a 7-year window: NaN"
    assert 0.0 < curve[5.0] < curve[1.0] <= 1.0
    with pytest.raises(KeyError, match="no stage 'incubatr'"):
        record.stage("incubatr")


def test_json_round_trip_keeps_the_record(record: RunSummary) -> None:
    data = json.loads(json.dumps(record.to_json(), allow_nan=False))  # NaN travels as null
    assert data["metrics"]["survival.all.10y"] is None
    back = RunSummary.from_json(data)
    assert back == record and list(back) == list(record)
    assert pickle.loads(pickle.dumps(record)) == record, "records travel to and from worker processes"


def test_flatten_summary_reads_every_form_alike_and_is_idempotent(record: RunSummary) -> None:
    flat = flatten_summary(record)
    assert list(flat) == list(record)
    assert list(flatten_summary(flat)) == list(flat), "flattening a flat record changes it"
    assert json.dumps(flatten_summary(flat)) == json.dumps(flat)
    assert json.dumps(flatten_summary(record.to_json())) == json.dumps(flat)
    older = _nested(record)
    assert json.dumps(flatten_summary(older)) == json.dumps(flat), "an older nested summary reads differently"
    assert RunSummary.from_json(older) == record


def test_a_record_differs_when_a_value_or_field_does(record: RunSummary) -> None:
    changed = dict(record.metrics)
    changed["failed"] += 1
    assert RunSummary.from_json({**record.to_json(), "metrics": changed}) != record
    assert RunSummary.from_json({**record.to_json(), "seed": 5}) != record


def test_further_flat_keys_are_placed_as_a_full_ordering_places_them(record: RunSummary) -> None:
    """``ordered_metrics(body, more)``: the record ``ordered_metrics({**body, **more})`` gives, also when
    a key of ``more`` is already in ``body`` (it keeps its place there, with the new value)."""
    body = dict(reversed(list(record.metrics.items())))  # every part out of order
    more = {"graduates_cumulative.x.2020": 1, "carriers.y.open": 2.5, "budget.total_yuan": 3.0}
    assert list(ordered_metrics(body, more).items()) == list(ordered_metrics({**body, **more}).items())
    clash = {"failed": -1, "z.extra": 4}
    assert list(ordered_metrics(body, clash).items()) == list(ordered_metrics({**body, **clash}).items())
