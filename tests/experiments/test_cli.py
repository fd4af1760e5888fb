"""The experiment commands: run --reps, compare, and the options they share."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pandas as pd
import pytest

import sim
from sim.cli import main as cli
from sim.executors import DASK_HINT, ExecutorUnavailable, open_executor
from sim.experiment.runner import _progress_enabled
from sim.files import OWNER_FILE

from .helpers import TUTORIAL

SINGLE_RUN_FILES = {
    "events.parquet",
    "firms.parquet",
    "timeseries.csv",
    "carriers.csv",
    "carrier_events.csv",
    "carrier_counts.csv",
    "ledger.csv",
    "summary.json",
    "scenario.resolved.toml",
    "meta.json",
}


@pytest.fixture(scope="module")
def one_year(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("scenarios") / "one_year.toml"
    path.write_text(f'extends = "{TUTORIAL.as_posix()}"\n[calendar]\nhorizon_years = 1\n')
    return path


def test_run_with_one_replication_keeps_the_single_run_files(
    one_year: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(["run", str(one_year), "--seed", "3", "--replication", "2", "--out", str(tmp_path)]) == 0
    assert {p.name for p in tmp_path.iterdir() if p.name != OWNER_FILE} == SINGLE_RUN_FILES
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert (summary["seed"], summary["replication"]) == (3, 2)
    out = capsys.readouterr().out
    assert "not failed since arrival (Kaplan-Meier)" in out and "wrote" in out


def test_run_with_reps_writes_an_experiment(one_year: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["run", str(one_year), "--reps", "3", "--seed", "1", "--out", str(tmp_path)]) == 0
    names = {p.name for p in tmp_path.iterdir()}
    assert {"summary.csv", "summary_stats.csv", "timeseries.csv", "replications", "experiment.json"} <= names
    assert pd.read_csv(tmp_path / "summary.csv")["replication"].tolist() == [0, 1, 2]
    out = capsys.readouterr().out
    assert "3 replications (seed 1)" in out and "±" in out and "Maker space" in out


def test_quiet_prints_nothing(one_year: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["run", str(one_year), "--reps", "2", "--quiet", "--out", str(tmp_path)]) == 0
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_replication_index_is_for_single_runs_only(
    one_year: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(["run", str(one_year), "--reps", "3", "--replication", "2", "--out", str(tmp_path)]) == 2
    assert "--replication" in capsys.readouterr().err


def test_resume_of_another_seed_is_refused_in_one_line(
    one_year: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(["run", str(one_year), "--reps", "2", "--quiet", "--out", str(tmp_path)]) == 0
    assert cli(["run", str(one_year), "--reps", "2", "--seed", "5", "--resume", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    # the count of simulations, said before the run starts, then the error in one line
    assert len(err) == 2 and "2 simulations" in err[0] and "cannot resume: seed differs" in err[1], err


def test_compare_prints_effects_and_writes_effects_csv(
    one_year: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    variant = tmp_path / "variant.toml"
    variant.write_text(
        f'extends = "{one_year.as_posix()}"\nname = "support"\n'
        '[[policies]]\ntype = "hazard_multiplier"\nhazard = "failure"\nfactor = 0.8\n'
        'target = { stages = ["incubator"] }\n'
    )
    out = tmp_path / "cmp"
    assert (
        cli(["compare", str(one_year), str(variant), "--reps", "3", "--independent", "--all", "--out", str(out)]) == 0
    )
    captured = capsys.readouterr()
    printed = captured.out
    assert "difference" in printed and "Firms active at the horizon" in printed and "CI narrowed x" in printed
    assert "stages." not in printed, "machine names in the printout"
    assert "inf" not in printed.split(), "a metric without variation reads 'no variation', never inf"
    assert "support vs tutorial: 9 simulations" in captured.err, captured.err  # 3 arms x 3, said before the run
    assert "first replications took" in captured.err
    effects = pd.read_csv(out / "effects.csv")
    assert list(effects.columns[:9]) == [
        "metric",
        "baseline_mean",
        "variant_mean",
        "diff_mean",
        "diff_se",
        "ci_low",
        "ci_high",
        "n",
        "pairing_ci_ratio",
    ]
    summary = pd.read_csv(out / "summary.csv")
    assert summary["arm"].drop_duplicates().tolist() == ["baseline", "variant", "variant_independent"]
    independent = summary[summary["arm"] == "variant_independent"]["replication"].tolist()
    assert independent == [3, 4, 5], "the independent arm must use other replications"


def test_missing_dask_says_how_to_install_it(
    one_year: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # makes `import distributed` fail
    with pytest.raises(ExecutorUnavailable, match="incuchain\\[dask\\]"), open_executor(scheduler="local"):
        pass
    code = cli(["run", str(one_year), "--reps", "2", "--scheduler", "tcp://127.0.0.1:8786", "--out", str(tmp_path)])
    assert code == 2
    assert capsys.readouterr().err.strip() == DASK_HINT


class _Stream(io.StringIO):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


@pytest.mark.parametrize("tty", [False, True])
def test_progress_bar_follows_whether_stderr_is_a_terminal(tty: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """The automatic setting shows a bar on a terminal only (whatever pytest does with stderr); a flag wins."""
    monkeypatch.setattr(sys, "stderr", _Stream(tty))
    assert _progress_enabled(None) is tty
    assert _progress_enabled(True) is True
    assert _progress_enabled(False) is False


def test_experiment_result_repr_and_values(one_year: Path) -> None:
    res = sim.run_experiment(sim.load_scenario(one_year), reps=2, seed=1)
    assert "reps=2" in repr(res)
    assert len(res.values(0, "failed")) == 2
    with pytest.raises(KeyError, match="no metric"):
        res.values(0, "nonsense")
