"""The commands end to end, resume after SIGKILL, and one-line errors for bad input."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from sim.cli import main
from tests.experiments.helpers import assert_same_tree
from tests.helpers import SCENARIOS

from .conftest import DECAY

HERE = Path(__file__).parent


def _done(out: Path) -> int:
    return len(list((out / "replications").rglob("rep-*.sha256"))) if (out / "replications").exists() else 0


def test_killed_sensitivity_resumes_to_identical_files(tmp_path: Path) -> None:
    killed, reference = tmp_path / "killed", tmp_path / "reference"
    cmd = [sys.executable, "-m", "sim", "sensitivity", str(DECAY), "--method", "morris", "--n", "6", "--reps", "2"]
    cmd += ["--workers", "2", "--quiet"]
    proc = subprocess.Popen(
        [*cmd, "--out", str(killed)], start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 120
    while _done(killed) < 4:
        assert proc.poll() is None, f"the analysis ended before it could be killed: {proc.communicate()}"
        assert time.monotonic() < deadline, "no checkpoints after 120 s"
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    total = 6 * (3 + 1) * 2
    assert 4 <= _done(killed) < total, "not an interrupted analysis"
    assert not (killed / "sensitivity.csv").exists()
    assert main([*cmd[3:], "--out", str(reference)]) == 0
    again = subprocess.run([*cmd, "--out", str(killed), "--resume"], capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    # the figures' SVG and PNG are byte-stable; report.html embeds the run time, so it is left out
    for name in ("report.html",):
        (killed / name).unlink()
        (reference / name).unlink()
    assert_same_tree(reference, killed)


def test_killed_calibration_resumes_to_identical_files(tmp_path: Path) -> None:
    # Each evaluation is an experiment of its own; a resumed search replays the finished ones from disk and
    # must reach the same optimum, intervals and files as a search never interrupted.
    killed, reference = tmp_path / "killed", tmp_path / "reference"
    targets = tmp_path / "t.toml"
    targets.write_text(
        '[[targets]]\nname = "share"\nmetric = "graduation_share"\nstage = "incubator"\nyear = 2019\n'
        'value = 0.45\ntolerance = 0.05\nsource = "test"\n'
    )
    cmd = [sys.executable, "-m", "sim", "calibrate", str(SCENARIOS / "tutorial.toml"), str(targets)]
    cmd += ["--params", "stages.incubator.graduation.scale=0.5:2", "--reps", "2", "--max-evals", "8", "--intervals"]
    cmd += ["--fit-set", "calendar.horizon_years=1", "--check-reps", "1", "--quiet"]

    def evaluations(out: Path) -> int:
        return len(list((out / "evaluations").glob("*/replications/rep-*.sha256"))) if out.exists() else 0

    proc = subprocess.Popen(
        [*cmd, "--out", str(killed)], start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 120
    while evaluations(killed) < 3:
        assert proc.poll() is None, f"the calibration ended before it could be killed: {proc.communicate()}"
        assert time.monotonic() < deadline, "no evaluations after 120 s"
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (killed / "fit.csv").exists(), "not an interrupted calibration"
    assert main([*cmd[3:], "--out", str(reference)]) == 0
    again = subprocess.run([*cmd, "--out", str(killed), "--resume"], capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert (reference / "intervals.csv").is_file()
    for folder in (killed, reference):
        (folder / "report.html").unlink()  # it embeds the time it was written
    assert_same_tree(reference, killed)


def test_three_commands_on_the_shipped_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    unc = tmp_path / "u.toml"
    unc.write_text(
        "[uncertainty]\n"
        '"policies.rent_relief_2020.failure_factor" = { dist = "uniform", low = 0.6, high = 1.0, source = "t" }\n'
        '"stages.incubator.graduation.scale" = { dist = "uniform", low = 0.9, high = 1.3, source = "t" }\n'
    )
    base, var = str(SCENARIOS / "covid_shock.toml"), str(SCENARIOS / "covid_rent_relief.toml")
    assert (
        main(
            [
                "sensitivity",
                var,
                "--baseline",
                base,
                "--uncertainty",
                str(unc),
                "--method",
                "oat",
                "--out",
                str(tmp_path / "s"),
                "--quiet",
            ]
        )
        == 0
    )
    assert (tmp_path / "s" / "figures" / "tornado.svg").exists() and (tmp_path / "s" / "report.html").exists()
    assert main(["psa", base, var, "--uncertainty", str(unc), "--n", "4", "--out", str(tmp_path / "p")]) == 0
    out = capsys.readouterr().out
    assert "P(< 1,000,000)" in out and "active_at_horizon" in out
    for fig in ("ce_plane", "ceac"):
        assert (tmp_path / "p" / "figures" / f"{fig}.png").exists()
    targets = tmp_path / "t.toml"
    targets.write_text(
        '[[targets]]\nname = "share"\nmetric = "graduation_share"\nstage = "incubator"\nyear = 2019\n'
        'value = 0.5\ntolerance = 0.05\nsource = "test"\n'
    )
    tut = str(SCENARIOS / "tutorial.toml")
    code = main(
        [
            "calibrate",
            tut,
            str(targets),
            "--params",
            "stages.incubator.graduation.scale=0.5:2",
            "--max-evals",
            "5",
            "--reps",
            "1",
            "--fit-set",
            "calendar.horizon_years=1",
            "--out",
            str(tmp_path / "c"),
        ]
    )
    assert code == 0
    fit = pd.read_csv(tmp_path / "c" / "fit.csv")
    assert list(fit["target"]) == ["share"]
    assert (tmp_path / "c" / "figures" / "calibration.png").exists()
    # `incuchain report DIR` knows each folder and writes the report the command wrote, figures byte for byte
    capsys.readouterr()
    for folder, kind, figures in (
        ("s", "sensitivity", ["tornado"]),
        ("p", "psa", ["ce_plane", "ceac"]),
        ("c", "calibration", ["calibration"]),
    ):
        path = tmp_path / folder
        written = {f: (path / "figures" / f"{f}.svg").read_bytes() for f in figures}
        shutil.rmtree(path / "figures")
        (path / "report.html").unlink()
        assert main(["report", str(path)]) == 0
        assert f"report of the {kind} in" in capsys.readouterr().out
        html = (path / "report.html").read_text(encoding="utf-8")
        for f in figures:
            assert (path / "figures" / f"{f}.svg").read_bytes() == written[f], f"{folder}: {f} differs"
            assert f"figures/{f}.png" in html or f"figures/{f}.svg" in html, f"{folder}: the report omits {f}"


@pytest.mark.parametrize(
    ("args", "expect"),
    [
        (["sensitivity", str(DECAY), "--params", "nope"], "--params nope: not declared in [uncertainty]"),
        (["sensitivity", str(SCENARIOS / "tutorial.toml")], "uncertainty: no [uncertainty] table"),
        (
            ["psa", str(SCENARIOS / "tutorial.toml"), str(DECAY), "--uncertainty", "missing.toml"],
            "missing.toml: file not found",
        ),
        (
            [
                "calibrate",
                str(SCENARIOS / "tutorial.toml"),
                str(HERE / "bad_targets" / "unknown_metric.toml"),
                "--params",
                "x=1:2",
            ],
            "targets.happiness.metric: cannot compute 'happiness'",
        ),
        (
            ["calibrate", str(DECAY), str(HERE / "bad_targets" / "ok.toml"), "--params", "stages.market.failure.rate"],
            "",
        ),
    ],
    ids=["undeclared-param", "no-table", "missing-file", "bad-target", "declared-bounds-ok"],
)
def test_bad_input_exits_2_with_one_line(
    args: list[str], expect: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    if not expect:  # a declared parameter's range serves as bounds: the command runs
        assert main([*args, "--max-evals", "2", "--reps", "1", "--out", str(tmp_path / "o"), "--quiet"]) == 0
        return
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert any(expect in line for line in err), err
    assert all("Traceback" not in line for line in err)


BAD_TARGETS = sorted((HERE / "bad_targets").glob("bad_*.toml"))


@pytest.mark.parametrize("path", BAD_TARGETS, ids=[p.stem for p in BAD_TARGETS])
def test_bad_targets_corpus(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    want = path.read_text(encoding="utf-8").splitlines()[0].removeprefix("# expect: ")
    assert main(["validate", str(SCENARIOS / "tutorial.toml"), "--targets", str(path)]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert any(want in line for line in lines), (path.name, lines)
    assert all("Traceback" not in ln and len(ln.removeprefix(f"{path}: ")) < 300 for ln in lines)
