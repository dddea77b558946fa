"""``cnnkit.same_padding`` and ps1's reference solution agree (issue 11: one convention).

Lecture 02 teaches ``cnnkit.same_padding``; ps1 grades a student's ``same_padding``
against PyTorch's ``padding="same"``. If the two conventions drift apart again (which side
gets the extra row of an even kernel), a student who trusts the lecture loses points. This
test runs the instructor's solution from ``source/ps1_output_shapes`` (only the function
definitions it needs, taken from the notebook's cells with ``ast``) and compares it with
``cnnkit`` on every kernel size up to 8x8. ps1's function takes no dilation.
"""

from __future__ import annotations

import ast
from pathlib import Path

import nbformat
import pytest

import cnnkit

REPO = Path(__file__).resolve().parents[1]
PS1 = REPO / "source" / "ps1_output_shapes" / "ps1_output_shapes.ipynb"
NEEDED = ("_pair", "same_padding")  # same_padding's solution calls _pair (a setup helper)


def _ps1_definitions() -> dict[str, object]:
    """Exec ps1's top-level imports and the definitions in NEEDED; return the namespace."""
    nb = nbformat.read(PS1, as_version=4)
    imports: list[ast.stmt] = []
    found: dict[str, list[ast.stmt]] = {name: [] for name in NEEDED}
    for cell in nb.cells:
        if cell.cell_type != "code" or cell.metadata.get("nbgrader", {}).get("grade"):
            continue  # test cells may redefine names; the reference lives in the others
        source = "\n".join(  # IPython magics are not Python
            line for line in cell.source.splitlines() if not line.lstrip().startswith(("%", "!"))
        )
        for node in ast.parse(source).body:
            if isinstance(node, ast.Import | ast.ImportFrom):
                imports.append(node)
            elif isinstance(node, ast.FunctionDef) and node.name in found:
                found[node.name].append(node)
    for name, nodes in found.items():
        assert len(nodes) == 1, (
            f"expected exactly one definition of {name} in the non-test code cells of "
            f"{PS1.relative_to(REPO)}, found {len(nodes)}; update NEEDED in this test if "
            "the reference solution was restructured"
        )
    module = ast.Module(body=imports + [nodes[0] for nodes in found.values()], type_ignores=[])
    namespace: dict[str, object] = {}
    exec(compile(module, str(PS1), "exec"), namespace)  # noqa: S102 - our own notebook
    return namespace


@pytest.fixture(scope="module")
def ps1_same_padding():
    return _ps1_definitions()["same_padding"]


KERNELS = [(k_h, k_w) for k_h in range(1, 9) for k_w in range(1, 9)]


@pytest.mark.parametrize("kernel_size", KERNELS, ids=[f"{h}x{w}" for h, w in KERNELS])
def test_cnnkit_same_padding_equals_ps1_reference(ps1_same_padding, kernel_size):
    expected = tuple(ps1_same_padding(kernel_size))
    assert cnnkit.same_padding(kernel_size) == expected, (
        f"cnnkit.same_padding({kernel_size}) = {cnnkit.same_padding(kernel_size)} but ps1's "
        f"reference answer is {expected}: the lecture and the assignment disagree"
    )


@pytest.mark.parametrize("k", range(1, 9))
def test_cnnkit_same_padding_equals_ps1_reference_for_int_sizes(ps1_same_padding, k):
    assert cnnkit.same_padding(k) == tuple(ps1_same_padding(k))


def test_the_comparison_sees_the_even_kernel_split(ps1_same_padding):
    """Guards the test itself: ps1's reference does put the extra row somewhere."""
    assert tuple(ps1_same_padding(4)) == (1, 2, 1, 2)  # PyTorch's split: bottom/right
