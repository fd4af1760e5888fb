"""incuchain decompose and run --decompose: the split printed and written; bad input is one line, exit 2."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from sim.cli import main
from tests.helpers import SCENARIOS


def test_decompose_prints_and_writes_the_split(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["decompose", str(SCENARIOS / "tutorial.toml"), "--programme", "incubator", "--reps", "2",
                 "--out", str(tmp_path)])  # fmt: skip
    assert code == 0
    text = capsys.readouterr().out
    assert "treatment (ATT)" in text and "selection" in text
    table = pd.read_csv(tmp_path / "decomposition.csv")
    assert {"naive", "att", "selection"} <= set(table["measure"])


@pytest.mark.parametrize("args", [["--programme", "market"], ["--programme", "nowhere"]])
def test_bad_programme_is_one_line_exit_2(args: list[str], capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code = main(["decompose", str(SCENARIOS / "tutorial.toml"), *args, "--out", str(tmp_path)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and err[0].startswith("programme:"), err


def test_run_labels_the_association_and_splits_it_on_request(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", str(SCENARIOS / "tutorial.toml"), "--out", str(tmp_path / "a")]) == 0
    plain = capsys.readouterr().out
    assert "ever in a carrier (association)" in plain and "--decompose" in plain
    assert main(["run", str(SCENARIOS / "tutorial.toml"), "--out", str(tmp_path / "b"), "--decompose", "incubator",
                 "--report"]) == 0  # fmt: skip
    split = capsys.readouterr().out
    assert "treatment (ATT)" in split
    assert "Selection versus treatment" in (tmp_path / "b" / "report.html").read_text(encoding="utf-8")


def test_workers_give_the_same_bytes_as_a_serial_run(tmp_path: Path) -> None:
    """Replications run on two processes are put together in replication order: the same files."""
    for name, extra in (("serial", []), ("parallel", ["--workers", "2"])):
        code = main(["decompose", str(SCENARIOS / "policy_mix.toml"), "--programme", "mentoring", "--reps", "3",
                     "--out", str(tmp_path / name), "--quiet", *extra])  # fmt: skip
        assert code == 0
    for file in ("decomposition.csv", "per_replication.csv"):
        serial, parallel = (tmp_path / "serial" / file).read_bytes(), (tmp_path / "parallel" / file).read_bytes()
        assert serial == parallel, f"{file} differs between a serial and a parallel decomposition"


def test_a_policy_that_treats_no_firm_is_refused_in_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code = main(["decompose", str(SCENARIOS / "policy_mix.toml"), "--programme", "startup_campaign",
                 "--out", str(tmp_path)])  # fmt: skip
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "cannot be decomposed" in err[0], err
