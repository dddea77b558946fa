"""Notebooks are committed valid and without outputs (nbgrader metadata is kept)."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(
    p.relative_to(ROOT)
    for folder in ("course", "source")
    for p in (ROOT / folder).rglob("*.ipynb")
    if ".ipynb_checkpoints" not in p.parts
)


def test_there_are_notebooks():
    assert NOTEBOOKS, "course/ should hold at least the getting-started notebook"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=str)
def test_notebook_is_valid_and_has_no_outputs(path):
    nb = nbformat.read(ROOT / path, as_version=nbformat.NO_CONVERT)
    nbformat.validate(nb)
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3", "use the python3 kernel"
    dirty = [i for i, c in enumerate(nb.cells)
             if c.cell_type == "code" and (c.outputs or c.execution_count is not None)]  # fmt: skip
    assert not dirty, f"{path}: clear the outputs of cells {dirty} before committing"
