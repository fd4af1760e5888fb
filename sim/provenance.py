"""Provenance: what produced a result (package versions, the scenario's digest, machine and time).

Every output folder records it (``meta.json``), so a figure or table can be traced back to its inputs.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import platform
import sys
from importlib import metadata
from typing import Any

from .scenario import Scenario

__all__ = ["package_versions", "provenance", "scenario_digest"]

_PACKAGES = ("incuchain", "simpy", "numpy", "scipy", "pandas", "pyarrow", "pydantic", "matplotlib", "tqdm")


def package_versions() -> dict[str, str]:
    """Installed versions of the packages a result depends on."""
    out = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def scenario_digest(scenario: Scenario) -> str:
    """SHA-256 of the resolved scenario text: two runs with the same digest ran the same inputs."""
    return hashlib.sha256(scenario.to_toml().encode()).hexdigest()


def provenance(**extra: Any) -> dict[str, Any]:
    """Versions, machine, time and command line, plus ``extra`` (seed, replications, ...)."""
    return {
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": sys.argv,
        "versions": package_versions(),
        "machine": {
            "node": platform.node(),
            "platform": platform.platform(),
            "processor": platform.machine(),
            "cpus": os.cpu_count(),
        },
        **extra,
    }
