"""A report for any output folder: the kind of results it holds is read from its files."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from .comparison import write_comparison_report
from .loading import _read_json
from .single import write_report
from .sweep import write_sweep_report
from .uncertainty import uncertainty_kind, write_uncertainty_folder_report

FolderKind = Literal["run", "experiment", "compare", "sweep", "sensitivity", "psa", "calibration"]


NOT_A_FOLDER = (
    "no summary.json, summary_stats.csv, effects.csv, sensitivity.csv, draws.csv with ceac.csv, "
    "or fit.csv with calibration.json"
)
"""Why a folder is none of the kinds :func:`folder_kind` knows."""


def folder_kind(folder: str | Path) -> FolderKind | None:
    """What an output folder holds, from its files; ``None`` when it is none of the kinds below.

    * ``calibration``, ``psa``, ``sensitivity``: the folder of ``incuchain calibrate``, ``psa`` or
      ``sensitivity`` (:func:`sim.report.uncertainty.uncertainty_kind`; checked first, since their
      folders also hold an experiment's tables);
    * ``sweep``: ``meta.json`` or ``experiment.json`` says ``"kind": "sweep"`` (``incuchain sweep``);
    * ``compare``: ``effects.csv`` (``incuchain compare``);
    * ``run``: ``summary.json`` (``incuchain run``, one replication);
    * ``experiment``: ``summary_stats.csv`` (``incuchain run --reps N``).
    """
    path = Path(folder)
    if not path.is_dir():
        return None
    analysis = uncertainty_kind(path)
    if analysis is not None:
        return analysis
    kinds = {_read_json(path / name).get("kind") for name in ("meta.json", "experiment.json")}
    if "sweep" in kinds:
        return "sweep"
    if (path / "effects.csv").is_file():
        return "compare"
    if (path / "summary.json").is_file():
        return "run"
    if (path / "summary_stats.csv").is_file():
        return "experiment"
    return None


def write_folder_report(folder: str | Path) -> tuple[FolderKind, Path]:
    """Write ``report.html`` for the results in ``folder`` (a run, experiment, comparison, sweep,
    sensitivity analysis, PSA or calibration).

    Returns
    -------
    tuple
        The folder's kind and the report's path.

    Raises
    ------
    ValueError
        The folder holds none of these results.
    """
    kind = folder_kind(folder)
    if kind is None:
        raise ValueError(f"{folder}: not an output folder of incuchain ({NOT_A_FOLDER})")
    if kind in ("sensitivity", "psa", "calibration"):
        return write_uncertainty_folder_report(folder)
    if kind == "sweep":
        return kind, write_sweep_report(folder)
    if kind == "compare":
        return kind, write_comparison_report(folder)
    return kind, write_report(folder)
