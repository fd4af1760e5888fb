"""Every notebook runs top to bottom as a notebook and its verdict holds.

The notebooks are jupytext percent-format scripts: each is read with jupytext and executed by a Jupyter
kernel (nbclient), as a reader opening it would, in a temporary folder so that nothing is written into
the checkout. Each notebook asserts its own verdict, so a model change that breaks a reproduced pattern
fails here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import ROOT

pytestmark = pytest.mark.slow  # notebooks run whole studies

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.py"))


def test_there_are_notebooks() -> None:
    assert NOTEBOOKS, "notebooks/ is empty"


def test_readme_lists_every_notebook() -> None:
    readme = (ROOT / "notebooks" / "README.md").read_text(encoding="utf-8")
    missing = [p.name for p in NOTEBOOKS if f"`{p.name}`" not in readme]
    assert not missing, f"notebooks/README.md does not list {missing}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path: Path, tmp_path: Path) -> None:
    jupytext = pytest.importorskip("jupytext")
    nbclient = pytest.importorskip("nbclient")
    before = {p.name for p in (ROOT / "notebooks").iterdir()}
    nb = jupytext.read(path)
    client = nbclient.NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    try:
        client.execute()
    except nbclient.exceptions.CellExecutionError as exc:
        pytest.fail(f"{path.name} failed:\n{str(exc)[-4000:]}")
    images = sum("image/png" in out.get("data", {}) for cell in nb.cells for out in cell.get("outputs", []))
    assert images, f"{path.name} shows no figure inline"
    after = {p.name for p in (ROOT / "notebooks").iterdir()}
    assert after == before, f"{path.name} wrote into notebooks/: {sorted(after - before)}"
