"""Figures: chain flow, stage occupancy, survival, policy effects, budget and carriers.

Every figure function takes tidy tables (the ones in ``docs/tables.md``, or an experiment's) and
returns a :class:`matplotlib.figure.Figure`; :class:`RunPlots` draws the figures of one replication.
One style for all (:mod:`~sim.plot.style`): the Okabe-Ito palette with line styles, markers and
hatching so figures read in greyscale, a title that says what is shown, axes with units, and the
scenario and seed in a footer. Save with :func:`save_figure` (PNG and SVG). See ``docs/figures.md``.

Modules: :mod:`~sim.plot.flow`, :mod:`~sim.plot.occupancy`, :mod:`~sim.plot.survival`,
:mod:`~sim.plot.effects`, :mod:`~sim.plot.budget`, :mod:`~sim.plot.carriers`.
"""

from __future__ import annotations

from .budget import cost_effectiveness_figure, spend_by_year, spend_figure
from .carriers import carrier_counts, carriers_figure
from .effects import effects_figure, headline_metrics, metric_label
from .flow import chain_flows, flow_figure
from .occupancy import occupancy_bands, occupancy_difference_figure, occupancy_figure, paired_differences
from .run_plots import RunPlots
from .style import OKABE_ITO, FigureInfo, save_figure, style_context
from .survival import (
    BLS_SURVIVAL_PERCENT,
    bls_reference,
    calibrated_to_bls,
    km_curve,
    km_curves,
    survival_at_figure,
    survival_figure,
    uses_age_clock,
)

__all__ = [
    "BLS_SURVIVAL_PERCENT",
    "OKABE_ITO",
    "FigureInfo",
    "RunPlots",
    "bls_reference",
    "calibrated_to_bls",
    "carrier_counts",
    "carriers_figure",
    "chain_flows",
    "cost_effectiveness_figure",
    "effects_figure",
    "flow_figure",
    "headline_metrics",
    "km_curve",
    "km_curves",
    "metric_label",
    "occupancy_bands",
    "occupancy_difference_figure",
    "occupancy_figure",
    "paired_differences",
    "save_figure",
    "spend_by_year",
    "spend_figure",
    "style_context",
    "survival_at_figure",
    "survival_figure",
    "uses_age_clock",
]
