"""Back tests: each shipped scenario, run with a stored seed, gives the stored summary and table digests.

A failure lists what moved. If the change was meant to move results, regenerate them
(``python -m tests.backtest.regenerate``, see :mod:`tests.backtest.cases`) and say why in the commit.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.backtest.cases import CASES, Case, compute, load


def _values(summary: dict[str, Any]) -> dict[str, Any]:
    """A stored summary's fields and metrics, side by side (so that a moved metric is named)."""
    return {**{k: v for k, v in summary.items() if k != "metrics"}, **summary["metrics"]}


def _moved(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    keys = sorted(set(old) | set(new))
    return [f"{k}: {old.get(k, '<absent>')!r} -> {new.get(k, '<absent>')!r}" for k in keys if old.get(k) != new.get(k)]


@pytest.mark.parametrize(
    "case", [pytest.param(c, id=c.name, marks=[pytest.mark.slow] if c.slow else []) for c in CASES]
)
def test_results_match_the_stored_ones(case: Case) -> None:
    assert case.path.exists(), f"no stored result for {case.name}: run python -m tests.backtest.regenerate"
    stored, now = load(case), compute(case)
    moved = _moved(_values(stored["summary"]), _values(now["summary"]))
    assert not moved, f"{case.name}: {len(moved)} summary values moved:\n" + "\n".join(moved[:25])
    changed = _moved(stored["digests"], now["digests"])
    assert not changed, f"{case.name}: summary unchanged but these tables changed:\n" + "\n".join(changed)


def test_every_shipped_scenario_has_a_case() -> None:
    from tests.helpers import SCENARIOS

    shipped = {p.stem for p in SCENARIOS.glob("*.toml")}
    covered = {c.scenario for c in CASES}
    assert shipped <= covered, f"shipped scenarios without a back test: {sorted(shipped - covered)}"


def test_a_moved_result_is_reported() -> None:
    """The comparison names what moved (and is not fooled by equal digests alone)."""
    assert _moved({"a": 1.0, "b": 2}, {"a": 1.0, "b": 3}) == ["b: 2 -> 3"]
    assert _moved({"a": 1.0}, {}) == ["a: 1.0 -> '<absent>'"]
