"""Checks of this folder's set-up; `make test` runs them with the lectures.

The assignment notebooks are only read, never run: their functions raise
NotImplementedError until you write them.
"""

import ast
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "assignments").glob("*/*.ipynb"))


def test_cnnkit_is_this_folders():
    import cnnkit

    where = Path(cnnkit.__file__).resolve()
    assert where.is_relative_to(ROOT / "cnnkit"), (
        f"cnnkit is imported from {where}, not from this folder; run `make install` "
        "(or `pip install -e . --no-deps` in your conda environment) here"
    )


def test_there_are_assignments():
    assert NOTEBOOKS, "assignments/ holds no notebook"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.parent.name for p in NOTEBOOKS])
def test_assignment_notebook_is_valid(path):
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    for number, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        # IPython's magics and shell escapes are not Python.
        code = "\n".join(
            "" if line.lstrip().startswith(("%", "!")) else line
            for line in cell.source.splitlines()
        )
        try:
            ast.parse(code)
        except SyntaxError as err:
            pytest.fail(f"{path.relative_to(ROOT)}, cell {number}: {err}")
