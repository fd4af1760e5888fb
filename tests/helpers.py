"""Small scenario builders and paths shared by the tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sim

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"


def tiny(**over: Any) -> dict[str, Any]:
    """A deterministic two-stage scenario as a dict: fixed durations, initial stock only."""
    data: dict[str, Any] = {
        "name": "tiny",
        "calendar": {"start": 2020, "horizon_years": 5},
        "stages": {
            "a": {
                "graduation": {"dist": "fixed", "value": 1.0},
                "failure": {"dist": "fixed", "value": 10.0},
                "on_graduation": {"b": 1.0},
            },
            "b": {
                "graduation": {"dist": "fixed", "value": 0.5},
                "on_graduation": {"exit": 1.0},
                "carriers": {"count": 1, "capacity": 1},
                "admission": {"on_full": "queue"},
            },
        },
        "initial_stock": [{"stage": "a", "count": 3}],
    }
    for path, value in over.items():
        sim.scenario.set_path(data, path.replace("__", "."), value)
    return data
