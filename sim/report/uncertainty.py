"""The report of an uncertainty analysis: sensitivity, probabilistic comparison or calibration.

:func:`write_uncertainty_report` reads whichever of ``sensitivity.csv``, ``draws.csv`` with ``ceac.csv``,
and ``fit.csv`` an output folder holds (:mod:`sim.uncertainty`) and writes ``report.html`` with their
tables and figures (tornado, Morris, Sobol, cost-effectiveness plane, acceptability curves, calibration fit).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from ..plot import FigureInfo
from .content import _fmt, _provenance_rows
from .loading import _read_json, _read_table
from .page import _Figure, _figures_html, _kv_table, _section, _table, _write

__all__ = ["write_uncertainty_report"]


def _cells(frame: pd.DataFrame, digits: int = 3) -> list[list[str]]:
    return [[v if isinstance(v, str) else _fmt(v, digits) for v in row] for row in frame.itertuples(index=False)]


def write_uncertainty_report(
    out_dir: str | Path, info: FigureInfo, *, title: str = "", formats: Sequence[str] = ("png", "svg")
) -> Path:
    """Write ``report.html`` and ``figures/`` for the folder of a sensitivity analysis, a probabilistic
    sensitivity analysis or a calibration: whichever of ``sensitivity.csv``, ``draws.csv`` with
    ``ceac.csv``, and ``fit.csv`` the folder holds gets its figures and table.

    Returns the path of ``report.html``.
    """
    from ..plot.uncertainty import (
        calibration_figure,
        ce_plane_figure,
        ceac_figure,
        morris_figure,
        sobol_figure,
        tornado_figure,
    )

    out = Path(out_dir)
    figures: list[_Figure] = []
    body: list[tuple[str, str]] = []
    indices = _read_table(out / "sensitivity.csv")
    if indices is not None and len(indices):
        method = str(indices["method"].iloc[0])
        draw = {"oat": tornado_figure, "morris": morris_figure, "sobol": sobol_figure}[method]
        names = {"oat": "tornado", "morris": "morris", "sobol": "sobol"}
        figures.append(_Figure(names[method], f"{method} sensitivity", "sensitivity.csv", draw(indices, info)))
        shown = indices.drop(columns="method")
        body.append(_section("Sensitivity", _table(list(shown.columns), _cells(shown))))
    draws = _read_table(out / "draws.csv")
    ceac = _read_table(out / "ceac.csv")
    summary = _read_table(out / "psa_summary.csv")
    if draws is not None and ceac is not None:
        outcomes = [o for o in ("active_at_horizon", "surviving_firms_5y", "jobs_at_horizon") if f"effect.{o}" in draws]
        figures.append(
            _Figure("ce_plane", "cost-effectiveness plane", "draws.csv", ce_plane_figure(draws, outcomes, info, 1e6))
        )
        figures.append(_Figure("ceac", "acceptability curves", "ceac.csv", ceac_figure(ceac, outcomes, info)))
        if summary is not None:
            body.append(_section("Probabilistic sensitivity", _table(list(summary.columns), _cells(summary))))
    fit = _read_table(out / "fit.csv")
    if fit is not None:
        figures.append(_Figure("calibration", "calibration fit", "fit.csv", calibration_figure(fit, info)))
        body.append(_section("Calibration fit", _table(list(fit.columns), _cells(fit))))
    meta = _read_json(out / "meta.json")
    body.insert(0, _section("What was run", _kv_table(_provenance_rows(meta))))
    body.append(_section("Figures", _figures_html(out, figures, formats)))
    return _write(out, title or f"incuchain uncertainty analysis: {info.scenario}", "", body)
