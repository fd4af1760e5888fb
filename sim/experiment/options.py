"""How an experiment runs and where it writes, as one value shared by every experiment and the CLI.

:func:`~sim.run_experiment`, :func:`~sim.sweep` and :func:`~sim.compare` take ``options=RunOptions(...)``
(or the same fields as keywords, for a quick call); what they simulate (scenarios, replications, seed)
stays their own arguments. The command line builds one ``RunOptions`` from its flags
(:func:`sim.cli.common.run_options`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from concurrent.futures import Executor
from pathlib import Path

__all__ = ["RunOptions", "Timing", "resolve_options"]

Timing = Callable[[float], None]
"""Called once with the wall seconds per replication when the first replications are in."""


@dataclasses.dataclass(frozen=True)
class RunOptions:
    """How replications run and where they go; none of it changes a result.

    Attributes
    ----------
    executor:
        Where replications run (any :class:`concurrent.futures.Executor`; see :mod:`sim.executors`).
        ``None``: serially in this process.
    out:
        Folder for checkpoints and tables (see :mod:`sim.experiment.store`); ``None`` keeps everything in
        memory (no resume, no event files).
    resume:
        Continue the experiment in ``out``: verify what is there, compute only what is missing.
    overwrite:
        Replace an experiment already in ``out``.
    keep_events:
        Also write each replication's event log and firm table (needs ``out``).
    progress:
        Show a progress bar (``None``: when stderr is a terminal). It appears after two seconds.
    timing:
        Called once, when the first replications are in, with the wall seconds per replication so far:
        what the command line turns into an estimate of the whole before most of it runs.
    """

    executor: Executor | None = None
    out: str | Path | None = None
    resume: bool = False
    overwrite: bool = False
    keep_events: bool = False
    progress: bool | None = None
    timing: Timing | None = None

    def replace(self, **changes: object) -> RunOptions:
        """A copy with ``changes`` (options are values: never changed in place)."""
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]


def resolve_options(options: RunOptions | None, keywords: RunOptions) -> RunOptions:
    """``options`` if given (then no keyword may differ from its default), else the keywords' values."""
    if options is None:
        return keywords
    given = [f.name for f in dataclasses.fields(RunOptions) if getattr(keywords, f.name) != f.default]
    if given:
        raise ValueError(f"give {', '.join(given)} in options=RunOptions(...) or as keywords, not both")
    return options
