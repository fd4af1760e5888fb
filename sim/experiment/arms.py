"""An experiment's arms: each a scenario, the values that define it, and its replication indices."""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..provenance import scenario_digest
from ..scenario import Scenario

__all__ = ["Arm", "make_arms"]

_SAFE = re.compile(r"[^A-Za-z0-9_.-]+")


@dataclass(frozen=True)
class Arm:
    """One scenario of an experiment.

    Attributes
    ----------
    scenario:
        The validated scenario.
    label:
        Short, file-safe, unique within the experiment (``baseline``, ``p003``); names the arm's
        folder of replications and its ``arm`` column. Empty: chosen by :func:`make_arms`.
    params:
        The swept values that define the arm (dotted field path -> value); a column each in the
        tables.
    replication_offset:
        Replication ``r`` of the experiment runs the engine's replication ``replication_offset + r``.
        0 for common random numbers across arms; ``reps`` for an arm on independent streams.
    """

    scenario: Scenario
    label: str = ""
    params: Mapping[str, Any] = field(default_factory=dict)
    replication_offset: int = 0

    def __post_init__(self) -> None:
        if self.label and _SAFE.search(self.label):
            raise ValueError(f"arm label {self.label!r}: use letters, digits, '_', '.' or '-'")
        if self.replication_offset < 0:
            raise ValueError(f"replication_offset: must be >= 0, got {self.replication_offset}")

    def replication(self, r: int) -> int:
        """The engine's replication index for the experiment's replication ``r``."""
        return self.replication_offset + r

    @functools.cached_property
    def toml(self) -> str:
        """The resolved scenario as TOML text (what workers receive)."""
        return self.scenario.to_toml()

    @functools.cached_property
    def digest(self) -> str:
        """SHA-256 of the resolved scenario."""
        return scenario_digest(self.scenario)


def make_arms(scenarios: Scenario | Arm | Sequence[Scenario | Arm]) -> tuple[Arm, ...]:
    """Arms with labels: given ones kept, others named after their scenario (numbered if names repeat).

    Raises
    ------
    ValueError
        No scenario, or two arms with the same label.
    """
    items: Sequence[Scenario | Arm] = [scenarios] if isinstance(scenarios, Scenario | Arm) else scenarios
    arms = [a if isinstance(a, Arm) else Arm(a) for a in items]
    if not arms:
        raise ValueError("an experiment needs at least one scenario")
    names = [_SAFE.sub("_", a.scenario.name) or "scenario" for a in arms]
    unique = len(set(names)) == len(names)
    out = []
    for i, (arm, name) in enumerate(zip(arms, names, strict=True)):
        if arm.label:
            out.append(arm)
        else:
            label = name if unique else f"{i:03d}-{name}"
            out.append(Arm(arm.scenario, label, dict(arm.params), arm.replication_offset))
    labels = [a.label for a in out]
    dupes = sorted({x for x in labels if labels.count(x) > 1})
    if dupes:
        raise ValueError(f"arm labels must be unique, repeated: {', '.join(dupes)}")
    return tuple(out)
