"""The summary metrics of a replication as one flat record: ``{metric name: number or NaN}``.

The names are those of :class:`sim.summary.RunSummary` (``arrivals``, ``stages.<stage>.<measure>``,
``survival.<group>.<t>y``, ``budget.total_yuan``, ...), the columns of ``summary.csv`` after the
identity columns. :func:`flatten_summary` reads a record, its JSON data, or a summary written
before the record was flat (nested ``stages`` and ``survival``), and gives the same names in the same
order; applied to its own result it gives that result back.
"""

from __future__ import annotations

from ..summary import OVERALL, STAGE_MEASURES
from ..summary import flat_metrics as flatten_summary

__all__ = ["OVERALL", "STAGE_MEASURES", "flatten_summary"]
