"""Build hook: compile the engine's hot modules to C extensions with mypyc when building a wheel.

``pip install .`` builds a wheel in which :data:`COMPILED` modules are mypyc extension modules next
to their Python sources; Python imports the extension first. The compiled code runs the same
statements on the same numbers (the test suite checks that both give the same bytes), about twice as
fast. The modules are type-checked as they are compiled: mypyc relies on the annotations, and numpy
is a build requirement so that the check sees numpy's types on a machine that has none installed yet.

No compiled code is built, and the package stays pure Python, when

* the install is editable (``pip install -e .``): the sources are what runs, so edits take effect;
* ``INCUCHAIN_PURE_PYTHON=1`` is set;
* compiling fails (no C compiler, say): a warning says so and the wheel is pure Python.

``sim.engine.COMPILED`` tells at run time which engine was imported.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

COMPILED = (
    "sim/engine.py",
    "sim/engine_state.py",
    "sim/engine_hazards.py",
    "sim/engine_policies.py",
    "sim/engine_sources.py",
    "sim/engine_stages.py",
    "sim/engine_lifecycle.py",
    "sim/engine_queue.py",
    "sim/engine_untreated.py",
    "sim/hazard_terms.py",
    "sim/streams.py",
)

_SETUP = """
import sys
from setuptools import setup
from mypyc.build import mypycify

setup(
    name="incuchain-compiled",
    ext_modules=mypycify(
        ["--ignore-missing-imports", "--follow-imports=silent", *sys.argv.pop(1).split(",")],
        opt_level="3",
        group_name="incuchain",
    ),
)
"""


class CompileHook(BuildHookInterface):  # type: ignore[type-arg]
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel" or version == "editable":
            return
        if os.environ.get("INCUCHAIN_PURE_PYTHON", "") not in ("", "0"):
            self.app.display_info("incuchain: INCUCHAIN_PURE_PYTHON is set; building the pure-Python engine")
            return
        work = Path(tempfile.mkdtemp(prefix="incuchain-build-"))
        try:
            built = self._compile(work)
        except Exception as exc:  # any failure: fall back to the pure-Python package
            self.app.display_warning(f"incuchain: compiling the engine failed, installing pure Python ({exc})")
            shutil.rmtree(work, ignore_errors=True)
            return
        build_data["pure_python"] = False
        build_data["infer_tag"] = True
        build_data["force_include"].update(built)
        self._work = work

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        work = getattr(self, "_work", None)
        if work is not None:
            shutil.rmtree(work, ignore_errors=True)

    def _compile(self, work: Path) -> dict[str, str]:
        """Compile :data:`COMPILED` in a copy of the package under ``work``; {built file: path in wheel}."""
        src = work / "src"
        shutil.copytree(Path(self.root) / "sim", src / "sim", ignore=shutil.ignore_patterns("__pycache__"))
        (src / "setup.py").write_text(_SETUP)
        out = work / "out"
        self.app.display_info(f"incuchain: compiling {', '.join(COMPILED)} with mypyc (about a minute)")
        proc = subprocess.run(
            [sys.executable, "setup.py", ",".join(COMPILED), "build_ext", "--build-lib", str(out),
             "--build-temp", str(work / "tmp")],
            cwd=src, capture_output=True, text=True, check=False,
        )  # fmt: skip
        if proc.returncode != 0:
            tail = (proc.stdout + proc.stderr).strip().splitlines()[-15:]
            raise RuntimeError("mypyc: " + " | ".join(tail))
        suffix = sysconfig.get_config_var("EXT_SUFFIX") or ".so"
        built = {str(p): str(p.relative_to(out)) for p in out.rglob(f"*{suffix}")}
        expected = {str(Path(m).with_suffix(suffix)) for m in COMPILED}
        if not expected <= set(built.values()):
            raise RuntimeError(f"mypyc built {sorted(built.values())}, expected {sorted(expected)}")
        return built
