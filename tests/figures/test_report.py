"""Reports: sections present, figures written, and a page that needs nothing from the network."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import matplotlib as mpl
import pandas as pd
import pytest
from matplotlib import pyplot as plt

import sim
from sim.output import write_run
from sim.plot import RunPlots, save_figure
from sim.report import write_comparison_report, write_report
from sim.report.loading import _folder_meta, _kept, _rerun_events


def assert_self_contained(page: str) -> None:
    """No external src/href, no scripts, every image embedded."""
    external = re.findall(r"""(?:src|href)\s*=\s*['"]?\s*(?:https?:)?//""", page, flags=re.IGNORECASE)
    assert not external, f"external resources: {external}"
    assert "<script" not in page.lower(), "the report needs no scripts"
    assert "@import" not in page and "url(" not in page, "no style sheet or font is fetched"
    images = re.findall(r"<img src='([^']*)'", page)
    assert images, "the report has figures"
    for src in images:
        assert src.startswith("data:image/png;base64,"), src[:40]
        assert base64.b64decode(src.split(",", 1)[1]).startswith(b"\x89PNG")


def sections(page: str) -> list[str]:
    return re.findall(r"<h2>([^<]+)</h2>", page)


def test_single_run_report(res: sim.RunResult, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_report(tmp_path, res)
    page = path.read_text(encoding="utf-8")
    assert path == tmp_path / "report.html"
    assert sections(page) == ["What was run", "Headline numbers", "Figures", "Notes"]
    assert_self_contained(page)
    for name in ("chain_flow", "occupancy", "survival", "carriers"):
        for ext in ("png", "svg"):
            assert (tmp_path / "figures" / f"{name}.{ext}").stat().st_size > 1000, f"{name}.{ext}"
        assert f"href='figures/{name}.svg'" in page
    assert "budget" not in page.lower(), "no ledger: no budget figures"
    summary = res.summary()
    assert f"<td class='num'>{summary['failed']:,}</td>" in page, "the headline table has the run's numbers"
    assert "<th>Seed</th><td>3</td>" in page and "sha-256" in page.lower()
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == "", "the library never prints"


def test_report_of_a_run_folder_reads_its_files(res: sim.RunResult, tmp_path: Path) -> None:
    write_run(res, tmp_path)
    page = write_report(tmp_path, formats=("png",)).read_text(encoding="utf-8")
    assert_self_contained(page)
    stage_rows = re.findall(r"<tr><td>([^<]+)</td><td class='num'>", page.split("<h3>By stage</h3>")[1])
    assert stage_rows[:5] == [st.label for st in res.scenario.stages.values()], "stages in chain order"
    assert "incuchain run scenario.resolved.toml --seed 3 --replication 0" in page


def test_experiment_report(experiment: sim.ExperimentResult, tmp_path: Path) -> None:
    page = write_report(tmp_path, experiment, formats=("png",)).read_text(encoding="utf-8")
    assert sections(page) == ["What was run", "Headline numbers", "Figures", "Notes"]
    assert_self_contained(page)
    assert "experiment of 4 replications" in page and " ± " in page
    names = {p.name for p in (tmp_path / "figures").iterdir()}
    assert names == {"chain_flow.png", "occupancy.png", "survival.png"}, "the chain flow of re-simulated replications"
    assert "first 3 replications, simulated again from the seed" in page


def test_experiment_folder_with_kept_events(short: sim.Scenario, tmp_path: Path) -> None:
    sim.run_experiment(short, reps=2, seed=5, keep_events=True, out=tmp_path)
    kept = _kept(tmp_path, "events")
    again = _rerun_events(short, 5, [0, 1])
    assert kept is not None and again is not None
    pd.testing.assert_frame_equal(again, kept, obj="re-simulated events against the experiment's kept ones")
    page = write_report(tmp_path, formats=("png",)).read_text(encoding="utf-8")
    assert_self_contained(page)
    names = {p.name for p in (tmp_path / "figures").iterdir()}
    assert names == {"chain_flow.png", "occupancy.png", "survival.png"}, "kept events give the flow and KM curves"
    assert "experiment of 2 replications" in page


def test_budget_figures_appear_with_a_ledger(experiment: sim.ExperimentResult, tmp_path: Path) -> None:
    ledger = pd.DataFrame(
        {
            "time_years": [0.5, 1.5],
            "policy": "p",
            "instrument": ["rent relief", "performance"],
            "recipient": [0, 1],
            "amount_yuan": [1e5, 2e5],
        }
    )
    page = write_report(tmp_path, experiment, ledger=ledger, formats=("png",)).read_text(encoding="utf-8")
    assert "fig-budget_spend" in page and "fig-cost_effectiveness" not in page


def test_comparison_report(comparison: sim.Comparison, tmp_path: Path) -> None:
    page = write_comparison_report(tmp_path, comparison).read_text(encoding="utf-8")
    assert sections(page) == ["What was compared", "Headline effects", "Figures", "All effects", "Notes"]
    assert_self_contained(page)
    assert "<td>policies.0.factor</td><td>(not set)</td><td>0.7</td>" in page, "the table of differences"
    for name in ("effects", "occupancy", "survival"):
        assert (tmp_path / "figures" / f"{name}.svg").is_file()
    eff = comparison.effects.set_index("metric")
    row = eff.loc["failed"]
    diff = f"{row['diff_mean']:+.3g}".replace("-", "\u2212")
    assert f"<td class='num'>{diff}</td>" in page, "the effects table has the paired difference"
    all_rows = page.split("<h2>All effects</h2>")[1].count("<tr><td>")
    assert all_rows == len(eff), "the full table lists every metric"


def test_comparison_report_from_its_folder(short: sim.Scenario, tmp_path: Path) -> None:
    from .helpers import SUPPORT

    sim.compare(short, short.with_changes({"policies": [SUPPORT]}), reps=2, seed=2, independent=False, out=tmp_path)
    page = write_comparison_report(tmp_path, formats=("png",)).read_text(encoding="utf-8")
    assert_self_contained(page)
    assert "2 paired replications" in page and "--reps 2 --seed 2" in page


def test_provenance_of_another_run_is_not_borrowed(res: sim.RunResult, tmp_path: Path) -> None:
    write_run(res, tmp_path)
    assert _folder_meta(tmp_path, [res.scenario])["seed"] == 3, "the folder's own run: its meta.json is used"
    other = res.scenario.with_changes({"name": "other"})
    assert _folder_meta(tmp_path, [other]) == {}, "a report of other results must not show this folder's provenance"


def test_nothing_to_report(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="nothing to report"):
        write_report(tmp_path)
    with pytest.raises(ValueError, match="no effects table"):
        write_comparison_report(tmp_path)


def test_run_plots_leave_pyplot_and_rcparams_alone(res: sim.RunResult) -> None:
    before = dict(mpl.rcParams)
    plots = RunPlots(res)
    figures = [getattr(plots, name)() for name in RunPlots.FIGURES]
    assert all(isinstance(f, mpl.figure.Figure) for f in figures)
    assert plt.get_fignums() == [], "figures are not registered with pyplot"
    assert dict(mpl.rcParams) == before, "the style applies only while a figure is built"
    for fig in figures:
        assert fig.get_suptitle(), "every figure says what it shows"
        footer = [t.get_text() for t in fig.texts if t.get_gid() == "footer"]
        assert footer == [f"incuchain {sim.__version__}  ·  scenario tutorial  ·  seed 3  ·  replication 0"]


def test_the_same_figure_gives_the_same_files(res: sim.RunResult, tmp_path: Path) -> None:
    a = save_figure(RunPlots(res).carriers(), tmp_path / "a")
    b = save_figure(RunPlots(res).carriers(), tmp_path / "b")
    for pa, pb in zip(a, b, strict=True):
        assert pa.read_bytes() == pb.read_bytes(), f"{pa.name} differs between two builds of the same figure"


def test_the_layout_leaves_no_last_bits_to_chance(res: sim.RunResult, tmp_path: Path) -> None:
    # The layout's solver can differ in the last bit from one drawing to the next; positions rounded to
    # 12 decimals are the same bits whatever it did.
    fig = RunPlots(res).carriers()
    save_figure(fig, tmp_path / "c", ("svg",))
    laid_out = [ax for ax in fig.axes if ax.get_in_layout()]
    assert laid_out, "the figure's axes stay in the layout after it has run"
    for ax in laid_out:
        x0, y0, x1, y1 = ax.get_position(original=True).extents
        assert (round(x0, 12), round(y0, 12)) == (x0, y0), f"{ax.get_title()!r}: corner at ({x0!r}, {y0!r})"
        assert abs(x1 - round(x1, 12)) < 1e-15 and abs(y1 - round(y1, 12)) < 1e-15
