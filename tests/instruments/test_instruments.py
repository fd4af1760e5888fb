"""Per-instrument arms of ``compare``: each added policy alone on the baseline, at the same replications.

A small tutorial chain (3 years) and a variant with two instruments: incubator mentoring (a graduation
hazard multiplier with a yearly cost) and a policy with no effect and no cost. Common random numbers
make the second exactly neutral, replication by replication, which the tests assert with ``==``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import sim
from sim.cli import main as cli
from sim.errors import ScenarioError
from sim.experiment.cost_effectiveness import OUTCOMES
from sim.experiment.instruments import INSTRUMENT_COLUMNS, added_policies, instrument_arms
from sim.experiment.store import MANIFEST
from sim.report import write_comparison_report
from tests.experiments.helpers import assert_same_tree, tree_bytes
from tests.helpers import SCENARIOS

REPS, SEED = 3, 5
MENTORING = "mentoring: incubator"  # a name that is not file-safe as it stands
MENTORING_ARM = "only-mentoring_incubator"
NOOP = "no-op"
NOOP_ARM = "only-no-op"
POLICIES: list[dict[str, Any]] = [
    {
        "type": "hazard_multiplier",
        "name": MENTORING,
        "hazard": "graduation",
        "factor": 1.25,
        "target": {"stages": ["incubator"]},
        "cost_per_year_yuan": 1_500_000,
    },
    {"type": "hazard_multiplier", "name": NOOP, "hazard": "failure", "factor": 1.0},
]


@pytest.fixture(scope="module")
def base(tutorial: sim.Scenario) -> sim.Scenario:
    return tutorial.with_changes({"calendar.horizon_years": 3})


@pytest.fixture(scope="module")
def variant(base: sim.Scenario) -> sim.Scenario:
    return base.with_changes({"name": "two_instruments", "policies": POLICIES})


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("instruments") / "cmp"


@pytest.fixture(scope="module")
def cmp(base: sim.Scenario, variant: sim.Scenario, folder: Path) -> sim.Comparison:
    return sim.compare(base, variant, reps=REPS, seed=SEED, out=folder)


def test_one_arm_per_added_instrument_with_file_safe_labels(cmp: sim.Comparison, folder: Path) -> None:
    labels = [a.label for a in cmp.experiment.arms]
    assert labels == ["baseline", "variant", MENTORING_ARM, NOOP_ARM]
    assert dict(cmp.instrument_arms) == {MENTORING: MENTORING_ARM, NOOP: NOOP_ARM}
    for label in labels:
        assert len(list((folder / "replications" / label).glob("rep-*.sha256"))) == REPS, f"arm {label}"
    # each arm is the baseline plus its policy, under the policy's own name, on the baseline's replications
    arms = {a.label: a for a in cmp.experiment.arms}
    alone = arms[MENTORING_ARM]
    assert [p.name for p in alone.scenario.policies] == [MENTORING]
    assert alone.scenario.with_changes({"name": "x", "policies": []}) == arms["baseline"].scenario.with_changes(
        {"name": "x"}
    ), "an instrument arm must differ from the baseline only by its policy"
    assert alone.replication_offset == 0
    table = pd.read_csv(folder / "instruments.csv", keep_default_na=False, na_values=[""])
    assert list(table.columns) == list(INSTRUMENT_COLUMNS)
    assert table["instrument"].drop_duplicates().tolist() == [MENTORING, NOOP, "all"]
    assert len(table) == 3 * len(OUTCOMES), "one row per instrument (and all) and priced outcome"


def test_instrument_without_effect_or_cost_changes_nothing(cmp: sim.Comparison) -> None:
    eff = cmp.instrument_effects(NOOP)
    budget = eff["metric"].str.startswith("budget.")
    has_value = (eff["n"] > 0) & ~budget
    assert has_value.sum() > 40, "expected every flattened summary metric"
    moved = eff.loc[has_value & (eff["diff_mean"] != 0.0), "metric"].tolist()
    assert not moved, f"a policy without effect moved {moved} (common random numbers lost?)"
    spread = has_value & (eff["n"] >= 2)
    assert (eff.loc[spread, "ci_low"] == 0.0).all() and (eff.loc[spread, "ci_high"] == 0.0).all()
    # the baseline has no budget; the instrument's own is zero in every replication
    exp = cmp.experiment
    assert (exp.values(NOOP_ARM, "budget.total_yuan") == 0.0).all()
    assert (exp.values(NOOP_ARM, f"budget.policy.{NOOP}") == 0.0).all()
    assert cmp.instruments is not None
    rows = cmp.instruments[(cmp.instruments["instrument"] == NOOP) & (cmp.instruments["n"] > 0)]
    assert len(rows) == len(OUTCOMES) - 1, "all outcomes but survival 5 years after arrival (past the horizon)"
    assert (rows["effect_mean"] == 0.0).all() and (rows["effect_ci_low"] == 0.0).all()
    assert (rows["spend_yuan"] == 0.0).all() and (rows["spend_diff_yuan"] == 0.0).all()
    assert rows["cost_per_unit"].isna().all(), "no additional outcome: no cost per unit"
    assert rows["note"].str.contains("no additional outcome").all()


def test_spend_per_instrument_is_its_ledger_alone(cmp: sim.Comparison, base: sim.Scenario) -> None:
    alone = base.with_changes({"policies": [POLICIES[0]]})
    ledgers = [sim.run(alone, seed=SEED, replication=r).ledger for r in range(REPS)]
    totals = [float(led.loc[led["policy"] == MENTORING, "amount_yuan"].sum()) for led in ledgers]
    assert totals[0] > 0, "the mentoring policy should pay its yearly cost"
    got = cmp.experiment.values(MENTORING_ARM, f"budget.policy.{MENTORING}").tolist()
    assert got == totals, f"instrument arm spend {got} differs from its ledger run alone {totals}"
    assert cmp.instruments is not None
    rows = cmp.instruments[cmp.instruments["instrument"] == MENTORING]
    assert rows["spend_yuan"].tolist() == pytest.approx([np.mean(totals)] * len(OUTCOMES), rel=1e-12)
    in_variant = cmp.experiment.values("variant", f"budget.policy.{MENTORING}").mean()
    assert rows["spend_in_variant_yuan"].tolist() == pytest.approx([in_variant] * len(OUTCOMES), rel=1e-12)
    # the baseline pays nothing, so the spend difference behind the cost ratio is the same ledger
    # (an outcome past the horizon has no replications, and so no spend difference either)
    priced = rows[rows["n"] > 0]
    assert priced["spend_diff_yuan"].tolist() == pytest.approx([np.mean(totals)] * len(priced), rel=1e-12)
    # the effect of the instrument alone is the paired difference of the two arms
    grads = rows.set_index("outcome").loc["graduations"]
    summary = cmp.experiment.summary
    cols = [c for c in summary.columns if c.startswith("stages.") and c.endswith(".graduations")]
    per_arm = {a: summary.loc[summary["arm"] == a, cols].sum(axis=1).to_numpy() for a in ("baseline", MENTORING_ARM)}
    assert grads["effect_mean"] == pytest.approx(float(np.mean(per_arm[MENTORING_ARM] - per_arm["baseline"])))
    assert not math.isnan(grads["effect_ci_low"]), "three paired replications give an interval"


def test_resume_recomputes_only_the_missing_instrument_replications(
    cmp: sim.Comparison, base: sim.Scenario, variant: sim.Scenario, folder: Path, tmp_path: Path
) -> None:
    reference = tree_bytes(folder)
    copy = tmp_path / "cmp"
    for name, data in reference.items():
        (copy / name).parent.mkdir(parents=True, exist_ok=True)
        (copy / name).write_bytes(data)
    # as a killed run leaves it: no combined tables, one instrument replication without its checksum
    # file (stopped mid-write) and one never started
    for name in ("summary.csv", "instruments.csv", "effects.csv"):
        (copy / name).unlink()
    (copy / "replications" / NOOP_ARM / "rep-00002.sha256").unlink()
    for p in (copy / "replications" / MENTORING_ARM).glob("rep-00001.*"):
        p.unlink()
    again = sim.compare(base, variant, reps=REPS, seed=SEED, out=copy, resume=True)
    meta = json.loads((copy / "meta.json").read_text())
    assert meta["computed"] == 2 and meta["reused_from_checkpoints"] == 4 * REPS - 2
    assert_same_tree(folder, copy)
    assert again.instruments is not None and cmp.instruments is not None
    pd.testing.assert_frame_equal(again.instruments, cmp.instruments)


def test_report_has_the_per_instrument_table(cmp: sim.Comparison, tmp_path: Path, folder: Path) -> None:
    # from the folder's files (instruments.csv), as `incuchain compare --report` and later reports do
    page = write_comparison_report(folder, formats=("png",)).read_text()
    assert "Per instrument" in page and f"{NOOP} (hazard_multiplier)" in page
    assert "all (the full variant)" in page


def test_instrument_arms_leave_the_overall_tables_alone(
    cmp: sim.Comparison, base: sim.Scenario, variant: sim.Scenario
) -> None:
    without = sim.compare(base, variant, reps=REPS, seed=SEED, per_instrument=False)
    assert without.instruments is None and not without.instrument_arms
    pd.testing.assert_frame_equal(without.effects, cmp.effects)
    assert without.cost_effectiveness is not None and cmp.cost_effectiveness is not None
    pd.testing.assert_frame_equal(without.cost_effectiveness, cmp.cost_effectiveness)


def test_which_policies_count_as_added(base: sim.Scenario, variant: sim.Scenario) -> None:
    # a policy both scenarios have (same name) is not an instrument of the comparison
    shared = base.with_changes({"policies": [POLICIES[1]]})
    assert [name for name, _ in added_policies(shared, variant)] == [MENTORING]
    # one added policy: the full variant already is that instrument alone, so no extra arm by default
    cmp = sim.compare(shared, variant, reps=1, seed=SEED, independent=False)
    assert [a.label for a in cmp.experiment.arms] == ["baseline", "variant"] and cmp.instruments is None
    with pytest.raises(ValueError, match="adds no policy"):
        sim.compare(base, base, reps=1, per_instrument=True)


def test_instrument_that_needs_the_variant_is_reported(base: sim.Scenario) -> None:
    # chain linkage into the accelerator needs its waiting list, which only the variant has
    variant = base.with_changes(
        {
            "stages.accelerator.admission": {"on_full": "queue"},
            "policies": [POLICIES[1], {"type": "chain_linkage", "from_stage": "incubator", "to_stage": "accelerator"}],
        }
    )
    with pytest.raises(ScenarioError, match="instrument 'chain_linkage_1' cannot run on the baseline alone"):
        instrument_arms(base, variant)


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("files")
    base, variant = root / "base.toml", root / "variant.toml"
    tutorial = (SCENARIOS / "tutorial.toml").as_posix()
    base.write_text(f'extends = "{tutorial}"\n[calendar]\nhorizon_years = 1\n')
    variant.write_text(
        f'extends = "{base.as_posix()}"\nname = "pair"\n'
        '[[policies]]\ntype = "hazard_multiplier"\nname = "mentoring"\nhazard = "graduation"\nfactor = 1.25\n'
        "cost_per_year_yuan = 100000\n"
        '[[policies]]\ntype = "angel_fund"\nname = "angels"\ntarget = { stages = ["incubator"] }\n'
    )
    return base, variant


def test_cli_prints_the_per_instrument_block(
    files: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "cmp"
    argv = ["compare", *map(str, files), "--reps", "2", "--no-independent", "--out", str(out)]
    assert cli(argv) == 0
    printed = capsys.readouterr().out
    assert "Per instrument" not in printed and "instruments.csv" in printed, "the lead says where the rest is"
    assert cli([*argv, "--resume", "--all"]) == 0
    printed = capsys.readouterr().out
    assert "Per instrument" in printed and "all (variant)" in printed and "instruments.csv" in printed
    overall = printed.index("Budget:")
    assert printed.index("Per instrument") > overall, "the per-instrument block comes after the overall one"
    arms = [a["label"] for a in json.loads((out / MANIFEST).read_text())["arms"]]
    assert arms == ["baseline", "variant", "only-mentoring", "only-angels"]


def test_cli_no_per_instrument_runs_only_the_old_arms(
    files: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "cmp"
    assert cli(["compare", *map(str, files), "--reps", "2", "--no-per-instrument", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "Per instrument" not in printed
    arms = [a["label"] for a in json.loads((out / MANIFEST).read_text())["arms"]]
    assert arms == ["baseline", "variant"]
    assert not (out / "instruments.csv").exists()
    assert sorted(p.name for p in (out / "replications").iterdir()) == sorted(arms)


def test_fewer_instrument_reps_run_as_a_second_experiment(
    base: sim.Scenario, variant: sim.Scenario, tmp_path: Path
) -> None:
    out = tmp_path / "cmp"
    fewer = sim.compare(base, variant, reps=4, seed=SEED, independent=False, instrument_reps=2, out=out)
    assert set(fewer.experiment.summary["arm"]) == {"baseline", "variant"}  # the main comparison: 4 pairs
    assert fewer.instrument_experiment is not None
    assert (out / "instruments" / MANIFEST).is_file() and (out / "instruments.csv").is_file()
    # the instruments' experiment runs their arms only: the baseline and variant replications are reused
    ran = [a["label"] for a in json.loads((out / "instruments" / MANIFEST).read_text())["arms"]]
    assert ran == [MENTORING_ARM, NOOP_ARM], ran
    table = fewer.instruments
    assert table is not None and set(table["n"]) <= {0, 2} and table["n"].max() == 2  # 0: outcome past the horizon
    # The instruments' arms are the first two replications: the same numbers as a 2-replication comparison.
    two = sim.compare(base, variant, reps=2, seed=SEED, independent=False)
    assert two.instruments is not None
    pd.testing.assert_frame_equal(table, two.instruments)
    assert fewer.instrument_effects(MENTORING).equals(two.instrument_effects(MENTORING))
    with pytest.raises(ValueError, match="instrument_reps"):
        sim.compare(base, variant, reps=2, seed=SEED, instrument_reps=3)
