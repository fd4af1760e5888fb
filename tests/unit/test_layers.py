"""The package's layers: data flows one way, and a lower layer never imports a higher one.

scenario -> engine -> event log -> tables -> experiments and analyses -> figures and report -> CLI and
dashboard (docs/architecture.md). Every import in ``sim/`` -- at module level, in functions, and under
``TYPE_CHECKING`` -- is read from the source and checked against the layer of its module.
"""

from __future__ import annotations

import ast
import fnmatch
from pathlib import Path

from tests.helpers import ROOT

# Layer of each module (patterns on its dotted name, first match wins); lower numbers are lower layers.
LAYERS: list[tuple[str, int]] = [
    ("sim.version", 0),
    ("sim.errors", 0),
    ("sim.calendar", 0),
    ("sim.distributions", 0),
    ("sim.streams", 0),
    ("sim.policies", 0),
    ("sim.scenario", 0),
    ("sim.hazard_terms", 0),
    ("sim.files", 0),  # atomic writes, output folders: used from the tables up
    ("sim.provenance", 0),
    ("sim.event_log", 1),
    ("sim.engine", 2),
    ("sim.engine_*", 2),
    ("sim.api", 3),
    ("sim.tables", 3),
    ("sim.capacity", 3),
    ("sim.outcomes", 3),
    ("sim.budget", 3),
    ("sim.lifecycle", 3),
    ("sim.results", 3),
    ("sim.stats", 3),
    ("sim.capacity", 3),
    ("sim.metric_names", 3),
    ("sim.fast_summary", 3),
    ("sim.summary*", 3),
    ("sim.output", 4),
    ("sim.executors", 4),
    ("sim.experiment", 4),
    ("sim.experiment.*", 4),
    ("sim.analytic", 4),
    ("sim.markov", 4),
    ("sim.uncertainty", 4),
    ("sim.uncertainty.*", 4),
    ("sim.decompose", 4),
    ("sim.decompose.*", 4),
    ("sim.decomposition", 4),
    ("sim.estimators", 4),
    ("sim.studies", 4),
    ("sim.studies.*", 4),
    ("sim.guards", 4),
    ("sim.plot", 5),
    ("sim.plot.*", 5),
    ("sim.report", 5),
    ("sim.report.*", 5),
    ("sim.report_*", 5),
    ("sim.reports", 5),
    ("sim.reports.*", 5),
    ("sim.cli", 6),
    ("sim.cli.*", 6),
    ("sim.dashboard", 6),
    ("sim.dashboard.*", 6),
    ("sim", 6),  # the package root gathers the public API
    ("sim.__main__", 6),
]
LAYER_NAMES = [
    "scenario",
    "event log",
    "engine",
    "tables",
    "experiments and analyses",
    "figures and report",
    "interfaces",
]

# Imports that go up a layer on purpose, each with its reason.
ALLOWED = {
    # RunResult.plot: figures of a result on first use (results do not load matplotlib until then)
    ("sim.results", "sim.plot"),
}


def layer_of(module: str) -> int:
    for pattern, layer in LAYERS:
        if fnmatch.fnmatchcase(module, pattern):
            return layer
    raise AssertionError(
        f"{module} has no layer: add it to LAYERS in tests/unit/test_layers.py and docs/architecture.md"
    )


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for path in sorted((ROOT / "sim").rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _imports(module: str, path: Path) -> set[str]:
    """The ``sim`` modules that ``module`` imports (relative imports resolved)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names if a.name == "sim" or a.name.startswith("sim."))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target != "sim" and not target.startswith("sim."):
                continue
            # ``from . import x`` / ``from .plot import y``: a submodule if there is one, else the module
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                names.add(sub if sub in _MODULES else target)
    return names


_MODULES = _modules()


def test_every_module_has_a_layer() -> None:
    for module in _MODULES:
        layer_of(module)


def test_no_module_imports_a_higher_layer() -> None:
    wrong = []
    for module, path in _MODULES.items():
        mine = layer_of(module)
        for target in sorted(_imports(module, path)):
            if target not in _MODULES or (module, target) in ALLOWED or target.startswith(module + "."):
                continue
            theirs = layer_of(target)
            if theirs > mine:
                wrong.append(f"{module} ({LAYER_NAMES[mine]}) imports {target} ({LAYER_NAMES[theirs]})")
    assert not wrong, "imports against the layers:\n" + "\n".join(wrong)


def _reach(module: str) -> set[str]:
    """Every ``sim`` module that importing ``module`` may load (its imports, theirs, ...)."""
    seen: set[str] = set()
    todo = [module]
    while todo:
        name = todo.pop()
        if name in seen or name not in _MODULES:
            continue
        seen.add(name)
        todo += _imports(name, _MODULES[name])
    return seen - {module}


def test_experiments_write_files_without_the_run_writer() -> None:
    """Files and provenance (``sim.files``, ``sim.provenance``) reach nothing of the results; only writing a
    run (``sim.output``) does, and experiments do not import it."""
    for helper in ("sim.files", "sim.provenance"):
        assert not {m for m in _reach(helper) if layer_of(m) >= layer_of("sim.results")}, helper
    assert "sim.results" in _reach("sim.output"), "the check would not see a module that pulls in results"
    users = sorted(m for m in _MODULES if m.startswith("sim.experiment") and "sim.output" in _imports(m, _MODULES[m]))
    assert not users, f"experiments import the run writer: {users}"


def test_the_check_sees_a_wrong_import(tmp_path: Path) -> None:
    """Relative, absolute and function-level imports are all read, and a figure importing the CLI is wrong."""
    fake = tmp_path / "fake.py"
    fake.write_text("from ..cli import run_cmd\nfrom . import flow\n\ndef f():\n    import sim.report\n")
    assert _imports("sim.plot.fake", fake) == {"sim.cli.run_cmd", "sim.plot.flow", "sim.report"}
    assert layer_of("sim.cli.run_cmd") > layer_of("sim.plot.flow") > layer_of("sim.engine_state")
