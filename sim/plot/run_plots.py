"""The figures of one replication, as methods: ``RunPlots(res).flow()``, ``.occupancy()``, ..."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from matplotlib.figure import Figure

from .carriers import carriers_figure
from .flow import chain_flows, flow_figure
from .occupancy import occupancy_figure
from .style import FigureInfo, save_figure
from .survival import bls_reference, survival_figure, uses_age_clock

if TYPE_CHECKING:
    from ..results import RunResult

__all__ = ["RunPlots"]


class RunPlots:
    """Figures of one replication (:class:`sim.RunResult`); each method returns a new Figure.

    Parameters
    ----------
    result:
        The replication to draw.

    Examples
    --------
    >>> plots = RunPlots(sim.run(scenario, seed=7))   # doctest: +SKIP
    >>> plots.flow().savefig("flow.png")              # doctest: +SKIP
    """

    FIGURES: tuple[str, ...] = ("flow", "occupancy", "survival", "carriers")
    """Method names, in the order :meth:`save_all` writes them."""

    def __init__(self, result: RunResult) -> None:
        self.result = result

    @property
    def info(self) -> FigureInfo:
        """Footer and stage names: the scenario, seed and replication."""
        res = self.result
        return FigureInfo.from_scenario(res.scenario, seed=res.seed, replications=[res.replication])

    def flow(self, **kwargs: Any) -> Figure:
        """Chain flow from the event log (:func:`sim.plot.flow_figure`; keyword arguments go to it)."""
        flows = chain_flows(self.result.events)
        kwargs.setdefault("horizon_years", self.result.scenario.calendar.horizon_years)
        return flow_figure(flows, self.info, **kwargs)

    def occupancy(self, **kwargs: Any) -> Figure:
        """Occupancy and waiting lists per stage, with capacity (:func:`sim.plot.occupancy_figure`)."""
        return occupancy_figure(self.result.timeseries, self.info, **kwargs)

    def survival(self, **kwargs: Any) -> Figure:
        """Kaplan-Meier survival by entry stage and support, and against the US BLS curve when the
        market's failure hazard runs on firm age (:func:`sim.plot.survival_figure`)."""
        if "reference" not in kwargs and uses_age_clock(self.result.scenario):
            kwargs["reference"] = bls_reference()
        return survival_figure(self.result.firms, self.info, **kwargs)

    def carriers(self, **kwargs: Any) -> Figure:
        """Carriers by stage and level over the run (:func:`sim.plot.carriers_figure`)."""
        return carriers_figure(self.result.carrier_counts, self.info, **kwargs)

    def save_all(self, folder: str | Path, formats: Sequence[str] = ("png", "svg")) -> dict[str, list[Path]]:
        """Write every figure to ``folder`` (``flow.png``, ``flow.svg``, ...); returns the paths by figure."""
        out: dict[str, list[Path]] = {}
        for name in self.FIGURES:
            fig = getattr(self, name)()
            out[name] = save_figure(fig, Path(folder) / name, formats)
        return out

    def __repr__(self) -> str:
        return f"RunPlots({self.result!r})"
