"""What a planner reads: the printouts of run, compare and sweep, and `incuchain report DIR` on every kind
of output folder.

The tutorial chain over 3 years with few replications: these tests check how numbers are printed and
which files are read, not the model's numbers. The policy mix (nine instruments, with costs) makes a
comparison with spend, costs per outcome and effects whose intervals contain 0.
"""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

from sim.cli import main as cli

from .helpers import TUTORIAL

POLICY_MIX = TUTORIAL.parent / "policy_mix.toml"

DOTTED = re.compile(r"\b(?:stages|survival|budget|jobs|listings|milestones|carriers)\.[a-z0-9_]+")
"""A machine metric name (``stages.incubator.failures``, ``survival.all.5y``)."""

ZERO_PM = re.compile(r"± 0(?![.\d])")
"""A zero-width interval printed as ``± 0``."""


def assert_readable(printed: str) -> None:
    """No backticks, no ``inf``, no machine metric names, no ``± 0``."""
    assert "`" not in printed, "raw backticks in the printout"
    assert not re.search(r"\binf\b", printed), f"inf printed: {printed}"
    assert not DOTTED.search(printed), f"machine metric name printed: {DOTTED.search(printed)}"
    assert not ZERO_PM.search(printed), "a zero-width interval printed as ± 0"


@pytest.fixture(scope="module")
def scenarios(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The tutorial and the policy mix over 3 years."""
    root = tmp_path_factory.mktemp("scenarios")
    base, variant = root / "tutorial3.toml", root / "mix3.toml"
    base.write_text(f'extends = "{TUTORIAL.as_posix()}"\n[calendar]\nhorizon_years = 3\n')
    variant.write_text(f'extends = "{POLICY_MIX.as_posix()}"\n[calendar]\nhorizon_years = 3\n')
    return base, variant


@pytest.fixture(scope="module")
def folders(scenarios: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, str]]:
    """A folder of each kind, made by the command line, with what it printed."""
    base, variant = scenarios
    root = tmp_path_factory.mktemp("out")
    commands = {
        "run": ["run", str(variant)],
        "experiment": ["run", str(base), "--reps", "3"],
        "compare": ["compare", str(base), str(variant), "--reps", "4", "--no-per-instrument", "--all"],
        "sweep": ["sweep", str(base), "--set", "stages.incubator.carriers.capacity=20,60", "--reps", "3"],
    }
    out: dict[str, tuple[Path, str]] = {}
    for kind, argv in commands.items():
        folder = root / kind
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):  # a module fixture cannot use capsys
            assert cli([*argv, "--out", str(folder)]) == 0
        out[kind] = (folder, buf.getvalue())
    return out


@pytest.mark.parametrize("kind", ["run", "experiment", "compare", "sweep"])
def test_printouts_read_as_words(kind: str, folders: dict[str, tuple[Path, str]]) -> None:
    assert_readable(folders[kind][1])


def test_survival_is_printed_in_percent(folders: dict[str, tuple[Path, str]]) -> None:
    survival = re.compile(r"^(?:all firms|never in a carrier|ever in a carrier|Not failed after)")
    for kind in ("run", "experiment"):
        rows = [line for line in folders[kind][1].splitlines() if survival.match(line)]
        assert len(rows) >= 3, f"{kind}: no survival rows"
        for line in rows:
            values = line.split("  ", 1)[1]
            assert "%" in values and not re.search(r"(?<![\d.])0\.\d", values), f"{kind}: not in percent: {line}"


def test_spend_says_over_which_years(folders: dict[str, tuple[Path, str]]) -> None:
    assert "public spend over 2019-2021 (3 years)" in folders["run"][1]
    assert "Spend over 2019-2021 (3 years), yuan" in folders["compare"][1]


def test_compare_leads_with_the_numbers_that_matter(folders: dict[str, tuple[Path, str]]) -> None:
    printed = folders["compare"][1]
    lead = printed.split("\n\n")[1].splitlines()
    names = [line.split("  ")[0] for line in lead[2:]]
    assert names[:4] == [
        "Firms active at the horizon",
        "Firms failed",
        "Graduations (all stages)",
        "Spend over 2019-2021 (3 years), yuan",
    ], lead
    assert any(n.startswith("Yuan per additional job") for n in names), "yuan per additional job in the lead"
    assert "effects.csv" in printed and "cost_effectiveness.csv" in printed, "says where the rest is"


def test_effects_whose_interval_holds_zero_are_marked_ns(folders: dict[str, tuple[Path, str]]) -> None:
    rows = [line for line in folders["compare"][1].splitlines() if re.search(r"\[[^\]]*\]", line)]
    checked = 0
    for line in rows:
        m = re.search(r"\[([+\-−]?[\d.,]+)(?: pp)?, ([+\-−]?[\d.,]+)(?: pp)?\]", line)
        if m is None:
            continue
        lo, hi = (float(g.replace(",", "").replace("−", "-")) for g in m.groups())
        holds_zero = lo <= 0 <= hi and not (lo == hi == 0)
        assert ("n.s." in line) == holds_zero, f"n.s. marking wrong: {line}"
        checked += 1
    assert checked > 10, "the comparison printed too few intervals to check"


@pytest.mark.parametrize(
    ("kind", "section"),
    [
        ("run", "Headline numbers"),
        ("experiment", "Headline numbers"),
        ("compare", "Spend and cost-effectiveness"),
        ("sweep", "Differences from the first point"),
    ],
)
def test_report_of_each_kind_of_folder(
    kind: str, section: str, folders: dict[str, tuple[Path, str]], capsys: pytest.CaptureFixture[str]
) -> None:
    folder = folders[kind][0]
    assert cli(["report", str(folder)]) == 0
    assert f"report of the {kind} in" in capsys.readouterr().out
    page = (folder / "report.html").read_text(encoding="utf-8")
    assert f"<h2>{section}</h2>" in page, f"{kind}: no {section} section"
    if kind == "experiment":
        assert (folder / "figures" / "chain_flow.png").is_file(), "the experiment's report has the chain flow"


def test_report_of_a_folder_that_is_none_says_so_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "notes.txt").write_text("not results\n")
    for folder in (tmp_path, tmp_path / "missing"):
        assert cli(["report", str(folder)]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "not an output folder of incuchain" in err[0], err


def test_sweep_report_option(scenarios: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "sweep"
    argv = ["sweep", str(scenarios[0]), "--set", "calendar.horizon_years=2,3", "--reps", "2", "--out", str(out)]
    assert cli([*argv, "--report"]) == 0
    assert f"report: {out / 'report.html'}" in capsys.readouterr().out
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "incuchain sweep scenarios/p000.toml --set calendar.horizon_years=2,3 --reps 2 --seed 0" in page
    assert (out / "figures" / "sweep.svg").is_file()
