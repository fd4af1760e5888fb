"""The report of an uncertainty analysis: sensitivity, probabilistic comparison or calibration.

:func:`write_uncertainty_report` reads whichever of ``sensitivity.csv``, ``draws.csv`` with ``ceac.csv``,
and ``fit.csv`` an output folder holds (:mod:`sim.uncertainty`) and writes ``report.html`` with their
tables and figures (tornado, Morris, Sobol, cost-effectiveness plane, acceptability curves, calibration fit).
:func:`uncertainty_kind` tells such a folder from its files, and :func:`write_uncertainty_folder_report`
writes its report from the folder alone (what ``incuchain report DIR`` and the three commands call).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from ..plot import FigureInfo
from ..scenario import Scenario, load_scenario
from .content import _fmt, _provenance_rows
from .loading import _read_json, _read_table
from .page import _Figure, _figures_html, _kv_table, _section, _table, _write

__all__ = ["UncertaintyKind", "uncertainty_kind", "write_uncertainty_folder_report", "write_uncertainty_report"]

UncertaintyKind = Literal["sensitivity", "psa", "calibration"]


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
    spans = _read_table(out / "intervals.csv")
    if spans is not None:
        body.append(_section("Values consistent with the fitted targets", _table(list(spans.columns), _cells(spans))))
    meta = _read_json(out / "meta.json") or _read_json(out / "calibration.json")
    body.insert(0, _section("What was run", _kv_table(_provenance_rows(meta))))
    body.append(_section("Figures", _figures_html(out, figures, formats)))
    return _write(out, title or f"incuchain uncertainty analysis: {info.scenario}", "", body)


def uncertainty_kind(folder: str | Path) -> UncertaintyKind | None:
    """What an uncertainty analysis's folder holds, from its files (``None`` when it is none of them).

    * ``calibration``: ``fit.csv`` and ``calibration.json`` (``incuchain calibrate``);
    * ``psa``: ``draws.csv`` and ``ceac.csv`` (``incuchain psa``);
    * ``sensitivity``: ``sensitivity.csv`` (``incuchain sensitivity``).
    """
    path = Path(folder)
    if (path / "fit.csv").is_file() and (path / "calibration.json").is_file():
        return "calibration"
    if (path / "draws.csv").is_file() and (path / "ceac.csv").is_file():
        return "psa"
    if (path / "sensitivity.csv").is_file():
        return "sensitivity"
    return None


def _arm_scenario(folder: Path, manifest: dict[str, Any], label: str) -> Scenario:
    one = folder / "scenario.resolved.toml"
    return load_scenario(one if len(manifest.get("arms", [])) == 1 else folder / "scenarios" / f"{label}.toml")


def _folder_info(folder: Path, kind: UncertaintyKind) -> tuple[FigureInfo, str]:
    """The figures' labels and the report's title, read from the folder (as the command wrote them)."""
    if kind == "calibration":
        meta = _read_json(folder / "calibration.json")
        fitted = load_scenario(folder / "check" / "scenario.resolved.toml")
        info = FigureInfo.from_scenario(fitted, int(meta.get("seed", 0)), note="calibration")
        return info, f"incuchain calibration: {fitted.name}"
    manifest = _read_json(folder / "experiment.json")
    prefix = "d" if kind == "psa" else "p"
    labels = [str(a.get("label", "")) for a in manifest.get("arms", [])]
    points = [x for x in labels if re.fullmatch(rf"{prefix}\d{{5}}", x)]
    bases = [x for x in labels if x.endswith("-base")]
    variant = _arm_scenario(folder, manifest, points[0])
    names = [variant.name, *([_arm_scenario(folder, manifest, bases[0]).name] if bases else [])]
    seed, reps = int(manifest.get("seed", 0)), int(manifest.get("reps", 1))
    if kind == "psa":
        note = f"PSA, {len(points)} draws x {reps} reps"
        title = f"incuchain psa: {' vs '.join(names)}"
    else:
        method = str(manifest.get("kind", "")).removeprefix("sensitivity-")
        note = f"{method}, {len(points)} points x {reps} reps"
        title = f"incuchain sensitivity ({method}): {' vs '.join(names)}"
    return FigureInfo.from_scenario(variant, seed, note=note), title


def write_uncertainty_folder_report(folder: str | Path) -> tuple[UncertaintyKind, Path]:
    """``report.html`` and ``figures/`` for the folder of a sensitivity analysis, PSA or calibration.

    Returns
    -------
    tuple
        The folder's kind and the report's path.

    Raises
    ------
    ValueError
        The folder holds none of these analyses.
    """
    path = Path(folder)
    kind = uncertainty_kind(path)
    if kind is None:
        raise ValueError(f"{folder}: not the folder of a sensitivity analysis, PSA or calibration")
    info, title = _folder_info(path, kind)
    return kind, write_uncertainty_report(path, info, title=title)
