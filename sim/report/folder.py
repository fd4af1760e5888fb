"""A report for any output folder: the kind of results it holds is read from its files."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from .comparison import write_comparison_report
from .loading import _read_json
from .single import write_report
from .sweep import write_sweep_report

FolderKind = Literal["run", "experiment", "compare", "sweep"]


def folder_kind(folder: str | Path) -> FolderKind | None:
    """What an output folder holds, from its files; ``None`` when it is none of the kinds below.

    * ``sweep``: ``meta.json`` or ``experiment.json`` says ``"kind": "sweep"`` (``incuchain sweep``);
    * ``compare``: ``effects.csv`` (``incuchain compare``);
    * ``run``: ``summary.json`` (``incuchain run``, one replication);
    * ``experiment``: ``summary_stats.csv`` (``incuchain run --reps N``).
    """
    path = Path(folder)
    if not path.is_dir():
        return None
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
    """Write ``report.html`` for the results in ``folder`` (a run, experiment, comparison or sweep).

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
        raise ValueError(
            f"{folder}: not an output folder of run, compare or sweep "
            "(no summary.json, summary_stats.csv or effects.csv)"
        )
    if kind == "sweep":
        return kind, write_sweep_report(folder)
    if kind == "compare":
        return kind, write_comparison_report(folder)
    return kind, write_report(folder)
