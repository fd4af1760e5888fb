"""What the back tests store: for each shipped scenario and seed, a run's summary and digests of its tables.

The byte-identity tests elsewhere compare two runs of the same checkout, so a change that moves every
output passes them. These compare against results stored in ``tests/backtest/expected/``. When a change
is meant to alter results, regenerate them and say in the commit why they moved::

    python -m tests.backtest.regenerate            # every case
    python -m tests.backtest.regenerate jiangsu    # the cases whose scenario name contains "jiangsu"
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import sim
from tests.helpers import SCENARIOS

EXPECTED = Path(__file__).resolve().parent / "expected"


@dataclass(frozen=True)
class Case:
    """One stored result: a scenario file of ``scenarios/`` run with one seed (replication 0)."""

    scenario: str
    seed: int
    slow: bool = False

    @property
    def name(self) -> str:
        return f"{self.scenario}-seed{self.seed}"

    @property
    def path(self) -> Path:
        return EXPECTED / f"{self.name}.json"


# Every shipped scenario; the small ones with two seeds. The province runs take about 20 s each with the
# interpreted engine, so they carry the slow mark (and still run in CI).
CASES: tuple[Case, ...] = (
    Case("tutorial", 0),
    Case("tutorial", 7),
    Case("policy_mix", 0),
    Case("policy_mix", 3),
    Case("covid_shock", 1),
    Case("covid_rent_relief", 1),
    Case("textbook_exponential", 2),
    Case("bench_tandem", 0),
    Case("city", 0),
    Case("city_policies", 0),
    Case("jiangsu", 1, slow=True),
    Case("jiangsu_no_support", 1, slow=True),
)


def _table_digest(frame: pd.DataFrame) -> str:
    """SHA-256 of a table's CSV text (floats written at full precision by their shortest repr)."""
    return hashlib.sha256(frame.to_csv(index=False).encode()).hexdigest()


def _engine_digest(res: sim.RunResult) -> str:
    """SHA-256 of everything the engine returned: the log's columns, the firms' attributes, the carriers."""
    out = res.output
    h = hashlib.sha256()
    for name, col in sorted(out.log.columns().items()):
        h.update(name.encode())
        h.update(np.ascontiguousarray(col).tobytes())
    for a in (out.firm_source, out.firm_index, out.firm_sector, out.firm_quality, out.firm_birth):
        h.update(np.ascontiguousarray(a).tobytes())
    h.update(repr(out.carrier_events).encode())
    h.update(repr(out.carriers).encode())
    return h.hexdigest()


def _plain(value: Any) -> Any:
    """A summary value as JSON keeps it (numpy scalars to Python numbers; non-finite floats as strings)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    return value


def compute(case: Case) -> dict[str, Any]:
    """Run the case and return what is stored for it."""
    scenario = sim.load_scenario(SCENARIOS / f"{case.scenario}.toml")
    res = sim.run(scenario, seed=case.seed)
    tables = {
        "events": res.events,
        "firms": res.firms,
        "timeseries": res.timeseries,
        "carriers": res.carriers,
        "carrier_events": res.carrier_events,
        "carrier_counts": res.carrier_counts,
        "ledger": res.ledger,
    }
    return {
        "scenario": case.scenario,
        "seed": case.seed,
        "summary": _plain(res.summary().to_json()),
        "digests": {"engine": _engine_digest(res), **{k: _table_digest(v) for k, v in tables.items()}},
    }


def load(case: Case) -> dict[str, Any]:
    """The stored result of ``case``."""
    return dict(json.loads(case.path.read_text()))


def save(case: Case, result: dict[str, Any]) -> None:
    """Store ``result`` for ``case`` (one JSON file, keys sorted so that diffs read well)."""
    case.path.write_text(json.dumps(result, indent=1, sort_keys=True) + "\n")
