"""Reports: one self-contained ``report.html`` per output folder, with its figures as PNG and SVG.

Entry points:

* :func:`write_report` -- a single scenario: one replication (``incuchain run``) or many
  (``incuchain run --reps N``);
* :func:`write_comparison_report` -- a baseline against a variant (``incuchain compare``);
* :func:`write_sweep_report` -- the points of a sweep (``incuchain sweep``);
* :func:`write_folder_report` -- any of these, the kind read from an output folder's files
  (``incuchain report DIR``).
* :func:`write_uncertainty_report` -- a sensitivity analysis, probabilistic comparison or calibration
  (``incuchain sensitivity``, ``psa``, ``calibrate``).

They take the results in memory (a :class:`~sim.RunResult`, :class:`~sim.ExperimentResult` or
:class:`~sim.Comparison`, or the tables themselves as DataFrames) and read whatever is not given from
the folder's files, so a report can be written right after a run or later for any output folder.
The page embeds its figures as base64 PNG and its style sheet inline: it needs no network, no
scripts and no other file to be read (the SVG and PNG files under ``figures/`` are for papers and
slides). Sections: what was run (scenario, seeds, replications, versions), the headline numbers, the
figures and, for comparisons, the effects table.

Modules by job: :mod:`~sim.report.loading` reads an output folder's files, :mod:`~sim.report.content`
writes the headline numbers, tables and notes, :mod:`~sim.report.page` saves and embeds the figures
and assembles the page, and :mod:`~sim.report.single`, :mod:`~sim.report.comparison`, :mod:`~sim.report.sweep`
and :mod:`~sim.report.folder` hold the entry points.
"""

from .comparison import write_comparison_report
from .folder import folder_kind, write_folder_report
from .page import FIGURE_DIR, REPORT_FILE
from .single import write_report
from .sweep import write_sweep_report
from .uncertainty import write_uncertainty_report

__all__ = [
    "FIGURE_DIR",
    "REPORT_FILE",
    "folder_kind",
    "write_comparison_report",
    "write_folder_report",
    "write_report",
    "write_sweep_report",
    "write_uncertainty_report",
]
