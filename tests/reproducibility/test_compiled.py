"""The engine gives the same bytes however it runs: compiled by mypyc (a wheel install) or interpreted,
and with SimPy's queue filled directly or through ``Environment.schedule``."""

from __future__ import annotations

import math
import os
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import simpy

import sim
from sim import engine
from tests.helpers import ROOT, SCENARIOS

# Prints one digest line per case: everything simulate() returns, byte for byte. Run by a fresh interpreter
# whose sys.path starts with the package to test (the sources or an unpacked wheel).
DIGEST = r"""
import hashlib, sys
sys.path.insert(0, sys.argv[1])
import numpy as np
import sim, sim.engine
from sim.engine import simulate

def digest(out):
    h = hashlib.sha256()
    for name, col in sorted(out.log.columns().items()):
        h.update(name.encode()); h.update(np.ascontiguousarray(col).tobytes())
    for a in (out.firm_source, out.firm_index, out.firm_sector, out.firm_quality, out.firm_birth):
        h.update(np.ascontiguousarray(a).tobytes())
    h.update(repr(out.carrier_events).encode()); h.update(repr(out.carriers).encode())
    return h.hexdigest()

scenarios = sys.argv[2]
cases = [
    ("tutorial", sim.load_scenario(f"{scenarios}/tutorial.toml"), 3),
    ("tandem", sim.load_scenario(f"{scenarios}/bench_tandem.toml").with_changes({"calendar.horizon_years": 400}), 1),
    ("jiangsu", sim.default_scenario().with_changes({"calendar.horizon_years": 2.5}), 5),
    ("policy_mix", sim.load_scenario(f"{scenarios}/policy_mix.toml"), 2),
]
print("compiled" if sim.engine.COMPILED else "interpreted")
for name, sc, seed in cases:
    print(name, digest(simulate(sc, seed)))
# The programme switches of sim.decompose: a stage, a hazard policy, a performance subsidy, a link, a competition
city = sim.load_scenario(f"{scenarios}/city_policies.toml")
for programme in ("incubator", "mentoring", "performance_subsidy", "incubator_to_accelerator", "contest"):
    table = sim.decompose(city, programme, reps=1, seed=1).per_replication.to_csv(float_format="%.17g")
    print(programme, hashlib.sha256(table.encode()).hexdigest())
"""


def _digests(package_root: Path, tmp_path: Path) -> list[str]:
    script = tmp_path / "digest.py"
    script.write_text(DIGEST)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run(
        [sys.executable, str(script), str(package_root), str(SCENARIOS)],
        capture_output=True, text=True, check=True, cwd=tmp_path, env=env,
    )  # fmt: skip
    return proc.stdout.splitlines()


@pytest.mark.slow
def test_compiled_engine_gives_the_interpreted_bytes(tmp_path: Path) -> None:
    """Build the wheel as ``pip install .`` does on a new machine (mypyc-compiled engine), and compare it
    with the sources. The build runs from a bare virtual environment: what this one has installed must
    not be what makes the compile work (mypy looks for type information in the interpreter's packages)."""
    bare = tmp_path / "bare"
    subprocess.run([sys.executable, "-m", "venv", str(bare)], check=True, capture_output=True)
    wheels = tmp_path / "wheels"
    subprocess.run(
        [str(bare / "bin" / "python"), "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(wheels), str(ROOT)],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    (wheel,) = wheels.glob("incuchain-*.whl")
    unpacked = tmp_path / "unpacked"
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(unpacked)
    compiled = _digests(unpacked, tmp_path)
    source = _digests(ROOT, tmp_path)
    assert compiled[0] == "compiled", f"the wheel {wheel.name} holds no compiled engine"
    assert source[0] == "interpreted"
    assert compiled[1:] == source[1:], "the compiled engine's output differs from the interpreted one's"


def test_queue_fast_path_matches_environment_schedule(monkeypatch: pytest.MonkeyPatch) -> None:
    """Events pushed onto SimPy's queue directly land exactly as ``Environment.schedule`` puts them, and the
    engine's own stepping of them gives what ``Environment.run`` gives (the fallback uses both)."""
    sc = sim.load_scenario(SCENARIOS / "policy_mix.toml")
    fast = engine.simulate(sc, 4)
    calls = 0
    original: Callable[..., None] = simpy.Environment.schedule

    def schedule(self: simpy.Environment, *args: Any, **kwargs: Any) -> None:
        nonlocal calls
        calls += 1
        original(self, *args, **kwargs)

    monkeypatch.setattr(simpy.Environment, "schedule", schedule)
    slow = engine.simulate(sc, 4)
    assert calls > len(slow.firm_source), "the engine did not fall back to Environment.schedule"
    for name, col in fast.log.columns().items():
        assert col.tobytes() == slow.log.columns()[name].tobytes(), f"log column {name} differs"
    assert fast.carrier_events == slow.carrier_events


def test_simpy_processes_run_beside_the_engine_with_the_kernels_clock() -> None:
    """Any other SimPy event in the kernel is stepped by SimPy itself, at its time and with ``env.now`` right
    during the run (the engine's own events keep the clock too), and changes nothing in the engine's log."""
    sc = sim.load_scenario(SCENARIOS / "policy_mix.toml").with_changes({"calendar.horizon_years": 3})
    alone = engine.simulate(sc, 2)
    model = engine._Model(sc, 2, 0)
    seen: list[tuple[float, float]] = []

    def ticker(env: simpy.Environment) -> Any:
        for k in range(1, 12):
            yield env.timeout(0.25)
            seen.append((env.now, k * 0.25))

    model.env.process(ticker(model.env))
    beside = model.run()
    assert len(seen) == 11 and all(math.isclose(now, due) for now, due in seen), seen
    assert model.env.now == sc.calendar.horizon_years
    for name, col in alone.log.columns().items():
        assert col.tobytes() == beside.log.columns()[name].tobytes(), f"log column {name} differs"
