"""The printed survival comparison: by source stream, and labelled as an association."""

from __future__ import annotations

from pathlib import Path

import pytest

import sim
from sim.cli import main
from sim.tables import survival_by_source
from tests.helpers import SCENARIOS


def test_every_firm_after_the_warmup_is_in_one_row() -> None:
    sc = sim.load_scenario(SCENARIOS / "tutorial.toml")
    res = sim.run(sc, seed=3)
    table = survival_by_source(res.firms, sc.calendar.horizon_years)
    post = res.firms[~res.firms["in_warmup"]]
    assert table["firms"].sum() == len(post), "rows do not cover every firm exactly once"
    assert set(table["source"]) == set(post["source"].astype(str))
    # The two groups of one source partition it, and each survival is a probability that falls with time.
    for row in table.itertuples(index=False):
        s1, s3, s5 = row[3], row[4], row[5]
        assert 0.0 <= s5 <= s3 <= s1 <= 1.0, f"survival not a falling probability: {row}"


def test_run_prints_the_comparison_as_an_association(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["run", str(SCENARIOS / "tutorial.toml"), "--out", str(tmp_path / "t")]) == 0
    out = capsys.readouterr().out
    assert "is an association, not an effect" in out and "--decompose STAGE splits it" in out
    assert "  Founders, ever in a carrier (" in out and "  Direct startups, never in a carrier (" in out
    assert "  Initial stock in Incubator, ever in a carrier (" in out, "the stock's row names its stage in words"
    assert "stock:" not in out, "a machine name of a source reached the printout"


def test_sources_read_in_plain_words() -> None:
    from sim.metric_names import source_label

    assert source_label("stock:incubator:0") == "Initial stock in Incubator"
    assert source_label("stock:maker_space:2", {"maker_space": "Makerspace"}.__getitem__) == (
        "Initial stock in Makerspace (entry 3)"
    )
    assert source_label("competition:cup") == "Competition cup"
    assert source_label("direct_startups") == "Direct startups"
