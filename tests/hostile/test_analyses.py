"""Attacks on the analyses (``sensitivity``, ``psa``, ``calibrate``, ``decompose``, ``report``) and their input
files: each ends in one line and exit 2 before anything runs, or runs correctly."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from .helpers import SHORT, assert_one_line, cli, tutorial_changed, tutorial_with

UNCERTAINTY = (
    '[uncertainty]\n"firms.quality_on_failure" = { dist = "uniform", low = 0.1, high = 0.5, source = "test" }\n'
)
TARGET = (
    '[[targets]]\nname = "t1"\nmetric = "occupancy"\nstage = "incubator"\nyear = 2019\nvalue = 30\n'
    'tolerance = 5\nsource = "test"\n'
)


@pytest.fixture()
def short(tmp_path: Path) -> str:
    """The tutorial over 2 years."""
    return str(tutorial_changed(tmp_path, list(SHORT.items()), "short.toml"))


def _argv(command: str, scenario: str, folder: Path) -> list[str]:
    """The command reading ``folder/u.toml`` (uncertainty) and ``folder/t.toml`` (targets)."""
    u, t, out = str(folder / "u.toml"), str(folder / "t.toml"), str(folder / "o")
    return {
        "sensitivity": ["sensitivity", scenario, "--uncertainty", u, "--method", "oat", "--out", out, "--quiet"],
        "psa": ["psa", scenario, scenario, "--uncertainty", u, "--n", "2", "--out", out, "--quiet"],
        "calibrate": [
            *("calibrate", scenario, t, "--params", "firms.quality_on_failure", "--uncertainty", u),
            *("--max-evals", "2", "--out", out, "--quiet"),
        ],
    }[command]


UNCERTAINTY_FILES: list[tuple[str, str, str]] = [
    ("nan", "low = 0.1", "low = nan"),
    ("inf", "high = 0.5", "high = inf"),
    ("text", "low = 0.1", 'low = "0.1"'),
    ("bool", "high = 0.5", "high = true"),
]


@pytest.mark.parametrize("command", ["sensitivity", "psa", "calibrate"])
@pytest.mark.parametrize(("old", "new"), [c[1:] for c in UNCERTAINTY_FILES], ids=[c[0] for c in UNCERTAINTY_FILES])
def test_uncertainty_file_numbers_are_strict(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, short: str, command: str, old: str, new: str
) -> None:
    (tmp_path / "u.toml").write_text(UNCERTAINTY.replace(old, new), encoding="utf-8")
    (tmp_path / "t.toml").write_text(TARGET, encoding="utf-8")
    code, _, err = cli(capsys, *_argv(command, short, tmp_path))
    assert code == 2, err
    assert_one_line(err, "uncertainty.firms.quality_on_failure")
    assert not (tmp_path / "o").exists(), "the analysis started"


TARGET_FILES: list[tuple[str, str, str, str]] = [
    ("value_nan", "value = 30", "value = nan", "must be a finite number"),
    ("value_text", "value = 30", 'value = "30"', "must be a number"),
    ("value_bool", "value = 30", "value = true", "must be a number"),
    ("tolerance_inf", "tolerance = 5", "tolerance = inf", "must be a finite number"),
    ("year_text", "year = 2019", 'year = "2019"', "year"),
    ("year_decimal", "year = 2019", "year = 2019.5", "year"),
]


@pytest.mark.parametrize(("old", "new", "want"), [c[1:] for c in TARGET_FILES], ids=[c[0] for c in TARGET_FILES])
def test_target_file_numbers_are_strict(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, short: str, old: str, new: str, want: str
) -> None:
    (tmp_path / "t.toml").write_text(TARGET.replace(old, new), encoding="utf-8")
    argv = ["calibrate", short, str(tmp_path / "t.toml"), "--params", "firms.quality_on_failure=0.1:0.5"]
    code, _, err = cli(capsys, *argv, "--out", str(tmp_path / "o"), "--quiet")
    assert code == 2, err
    assert_one_line(err, want)


def _fifo(path: Path) -> None:
    os.mkfifo(path)


NOT_FILES: list[tuple[str, Callable[[Path], None], str]] = [
    ("missing", lambda p: None, "file not found"),
    ("directory", lambda p: p.mkdir(), "a directory"),
    ("fifo", _fifo, "not a regular file"),
    ("dev_zero", lambda p: p.symlink_to("/dev/zero"), "not a regular file"),
    ("too_large", lambda p: p.write_text("#" * 10_000_001, encoding="utf-8"), "larger than"),
    ("utf16", lambda p: p.write_bytes(UNCERTAINTY.encode("utf-16")), "UTF-16"),
]


@pytest.mark.parametrize("which", ["uncertainty", "targets"])
@pytest.mark.parametrize(("make", "want"), [c[1:] for c in NOT_FILES], ids=[c[0] for c in NOT_FILES])
def test_input_files_must_be_small_regular_utf8(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    short: str,
    which: str,
    make: Callable[[Path], None],
    want: str,
) -> None:
    """A FIFO or a device is refused at once (not waited on or read for ever), as for scenario files."""
    (tmp_path / "u.toml").write_text(UNCERTAINTY, encoding="utf-8")
    (tmp_path / "t.toml").write_text(TARGET, encoding="utf-8")
    bad = tmp_path / ("u.toml" if which == "uncertainty" else "t.toml")
    bad.unlink()
    make(bad)
    start = time.perf_counter()
    code, _, err = cli(capsys, *_argv("calibrate", short, tmp_path))
    assert code == 2, err
    assert_one_line(err, want)
    assert time.perf_counter() - start < 30


# -- resource guard ---------------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["sensitivity", "psa", "calibrate"])
def test_analysis_over_a_huge_range_is_refused_before_running(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, short: str, command: str
) -> None:
    """A range reaching a million arrivals a year: the guard looks at the ends of the ranges, not only the
    scenario as it is."""
    (tmp_path / "u.toml").write_text(
        '[uncertainty]\n"arrivals.direct_startups.rate_per_year" = '
        '{ dist = "uniform", low = 40, high = 1e9, source = "test" }\n',
        encoding="utf-8",
    )
    (tmp_path / "t.toml").write_text(TARGET, encoding="utf-8")
    argv = _argv(command, short, tmp_path)
    if command == "calibrate":
        argv[argv.index("firms.quality_on_failure")] = "arrivals.direct_startups.rate_per_year"
    start = time.perf_counter()
    code, _, err = cli(capsys, *argv)
    assert code == 2, err
    assert_one_line(err, "estimated memory")
    assert time.perf_counter() - start < 30, "the guard ran the simulation first"
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("argv", [["decompose", "--reps", "2"], ["run", "--decompose", "incubator"]])
def test_decomposition_is_guarded(capsys: pytest.CaptureFixture[str], tmp_path: Path, argv: list[str]) -> None:
    path = tutorial_with(tmp_path, "rate_per_year = 40", "rate_per_year = 1e7")
    code, _, err = cli(capsys, argv[0], str(path), *argv[1:], "--out", str(tmp_path / "o"), "--quiet")
    assert code == 2, err
    assert_one_line(err, "estimated memory")
    assert not (tmp_path / "o").exists()


# -- output folders ---------------------------------------------------------------------------------


def test_decompose_out_is_a_file(capsys: pytest.CaptureFixture[str], tmp_path: Path, short: str) -> None:
    (tmp_path / "f").write_text("mine", encoding="utf-8")
    code, _, err = cli(capsys, "decompose", short, "--reps", "2", "--out", str(tmp_path / "f"), "--quiet")
    assert code == 2, err
    assert_one_line(err, "exists and is not a folder")
    assert (tmp_path / "f").read_text(encoding="utf-8") == "mine"


def test_decompose_and_run_do_not_mix(capsys: pytest.CaptureFixture[str], tmp_path: Path, short: str) -> None:
    out = str(tmp_path / "X")
    assert cli(capsys, "run", short, "--out", out, "--quiet")[0] == 0
    code, _, err = cli(capsys, "decompose", short, "--reps", "2", "--out", out, "--quiet")
    assert code == 2, err
    assert_one_line(err, "holds a single run of 'tutorial'; writing the output of 'incuchain decompose' there")
    assert not (tmp_path / "X" / "decomposition.csv").exists()
    assert cli(capsys, "decompose", short, "--reps", "2", "--out", out, "--quiet", "--overwrite")[0] == 0
    assert sorted(p.name for p in (tmp_path / "X").iterdir()) == [
        ".incuchain.json",
        "decomposition.csv",
        "per_replication.csv",
    ], "the run's files were left beside the decomposition"
    code, _, err = cli(capsys, "run", short, "--out", out, "--quiet")
    assert code == 2
    assert_one_line(err, "holds the output of 'incuchain decompose'")


def test_calibrate_does_not_write_into_a_run(capsys: pytest.CaptureFixture[str], tmp_path: Path, short: str) -> None:
    out = tmp_path / "X"
    assert cli(capsys, "run", short, "--out", str(out), "--quiet")[0] == 0
    before = sorted(p.name for p in out.iterdir())
    (tmp_path / "t.toml").write_text(TARGET, encoding="utf-8")
    argv = ["calibrate", short, str(tmp_path / "t.toml"), "--params", "firms.quality_on_failure=0.1:0.5"]
    code, _, err = cli(capsys, *argv, "--max-evals", "2", "--reps", "1", "--out", str(out), "--quiet")
    assert code == 2, err
    assert_one_line(err, "holds a single run of 'tutorial'; writing the output of 'incuchain calibrate' there")
    assert sorted(p.name for p in out.iterdir()) == before


def test_overwrite_removes_an_analysis_files(capsys: pytest.CaptureFixture[str], tmp_path: Path, short: str) -> None:
    """A run written over a sensitivity analysis's folder leaves none of the analysis's tables (``report``
    would otherwise read the folder as the analysis)."""
    out = tmp_path / "X"
    (tmp_path / "u.toml").write_text(UNCERTAINTY, encoding="utf-8")
    argv = ["sensitivity", short, "--uncertainty", str(tmp_path / "u.toml"), "--method", "oat", "--n", "1"]
    assert cli(capsys, *argv, "--out", str(out), "--quiet")[0] == 0
    assert (out / "sensitivity.csv").exists()
    assert cli(capsys, "run", short, "--out", str(out), "--quiet", "--overwrite")[0] == 0
    left = {p.name for p in out.iterdir()} & {"sensitivity.csv", "points.csv", "parameters.csv", "summary.csv"}
    assert not left, f"left behind: {sorted(left)}"
    code, out_text, _ = cli(capsys, "report", str(out))
    assert code == 0
    assert "report of the run" in out_text


@pytest.mark.parametrize(
    ("make", "want"),
    [
        (lambda p: p.mkdir(), "not an output folder of incuchain"),
        (lambda p: None, "no such folder"),
        (lambda p: p.write_text("x", encoding="utf-8"), "no such folder"),
    ],
    ids=["empty", "missing", "a_file"],
)
def test_report_of_what_is_not_an_output_folder(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, make: Callable[[Path], None], want: str
) -> None:
    make(tmp_path / "r")
    code, _, err = cli(capsys, "report", str(tmp_path / "r"))
    assert code == 2, err
    assert_one_line(err, want)


def _stray_table(p: Path) -> None:
    p.mkdir()
    (p / "sensitivity.csv").write_text("x\n1\n", encoding="utf-8")


def test_report_of_a_folder_with_a_stray_table(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """A folder that merely holds a file of the right name was not written by incuchain."""
    _stray_table(tmp_path / "r")
    code, _, err = cli(capsys, "report", str(tmp_path / "r"))
    assert code == 2, err
    assert_one_line(err, "not an output folder of incuchain (no .incuchain.json, meta.json or experiment.json)")


@pytest.mark.parametrize(
    ("name", "text"), [("summary.json", "["), ("timeseries.csv", "a,b\n1\n")], ids=["summary", "timeseries"]
)
def test_report_of_a_damaged_run(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, short: str, name: str, text: str
) -> None:
    out = tmp_path / "X"
    assert cli(capsys, "run", short, "--out", str(out), "--quiet")[0] == 0
    (out / name).write_text(text, encoding="utf-8")
    code, _, err = cli(capsys, "report", str(out))
    assert code == 2, err
    assert_one_line(err, "a damaged or incomplete output folder")


def test_dashboard_scenario_is_checked_before_serving(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    pytest.importorskip("panel")
    path = tutorial_with(tmp_path, "quality_on_failure = 0.3", "quality_on_failure = nan")
    code, _, err = cli(capsys, "dashboard", str(path), "--port", "1")
    assert code == 2, err
    assert_one_line(err, "firms.quality_on_failure: must be a finite number")


def test_dashboard_scenario_is_guarded(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    pytest.importorskip("panel")
    path = tutorial_with(tmp_path, "rate_per_year = 40", "rate_per_year = 1e7")
    code, _, err = cli(capsys, "dashboard", str(path), "--port", "1")
    assert code == 2, err
    assert_one_line(err, "estimated memory")


@pytest.mark.parametrize(
    ("extra", "want"),
    [
        (["psa", "--wtp", "inf"], "--wtp: must be a finite number >= 0, got inf"),
        (["psa", "--wtp", "nan"], "--wtp: must be a finite number >= 0, got nan"),
        (["calibrate", "--params", "firms.quality_on_failure=nan:0.5"], "expected PATH=LOW:HIGH with LOW < HIGH"),
        (["calibrate", "--params", "firms.quality_on_failure=0.1:inf"], "expected PATH=LOW:HIGH with LOW < HIGH"),
        (
            ["calibrate", "--params", "firms.quality_on_failure=0.1:0.5", "--start", "firms.quality_on_failure=nan"],
            "is outside the bounds",
        ),
    ],
    ids=["wtp_inf", "wtp_nan", "bound_nan", "bound_inf", "start_nan"],
)
def test_analysis_options_are_finite(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, short: str, extra: list[str], want: str
) -> None:
    (tmp_path / "u.toml").write_text(UNCERTAINTY, encoding="utf-8")
    (tmp_path / "t.toml").write_text(TARGET, encoding="utf-8")
    command, *options = extra
    files = [short, short] if command == "psa" else [short, str(tmp_path / "t.toml")]
    argv = [command, *files, *options, "--uncertainty", str(tmp_path / "u.toml"), "--out", str(tmp_path / "o")]
    code, _, err = cli(capsys, *argv, "--quiet", "--max-evals" if command == "calibrate" else "--n", "2")
    assert code == 2, err
    assert_one_line(err, want)
    assert not (tmp_path / "o").exists()
