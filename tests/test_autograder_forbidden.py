"""autograder.forbidden (the student's source, read by the grader) agrees with the kernel's
bytecode check ``cnnkit.checks.forbidden_used`` on every example student and test cell."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from autograder.forbidden import names_used, rules, violations
from autograder.submissions import EXAMPLES, example_students, parse_answers
from cnnkit.checks import forbidden_used

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENTS = ["ps1_output_shapes", "ps2_pooling_as_convolution", "ps4_channels", "ps5_backprop",
               "ps6_transfer_learning"]


def _test_cells(assignment: str) -> list[str]:
    nb = nbformat.read(ROOT / "source" / assignment / f"{assignment}.ipynb", as_version=4)
    return [c.source for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")
            and not c.metadata["nbgrader"].get("solution")]


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_static_check_agrees_with_the_bytecode_check(assignment):
    cells = _test_cells(assignment)
    assert any(rules(c) for c in cells), "the assignment's tests name forbidden functions"
    for student in example_students(assignment):
        answers = {g: code for g, code in
                   parse_answers((EXAMPLES / assignment / f"{student}.py").read_text()).items()
                   if not g.startswith("written_")}  # written answers are prose, not code
        namespace = {"__name__": "student", "torch": torch, "F": F, "nn": nn}
        exec("\n".join(answers.values()), namespace)  # noqa: S102 - our own example files
        for cell in cells:
            for func, names in rules(cell):
                if func not in namespace:  # an untouched stub defines nothing to check
                    continue
                in_kernel = forbidden_used(namespace[func], names)
                static = violations(f"forbidden_used({func}, {names!r})", answers.values())
                assert bool(in_kernel) == bool(static), (assignment, student, func, static)


def test_rules_read_lists_names_and_loops():
    code = (
        'NO = ["conv2d", "unfold"]\n'
        'observe("x", forbidden_used(f, NO + ["einsum"]))\n'
        "for g in (a, b):\n"
        '    observe("y", forbidden_used(g, ["cnnkit"]))\n'
    )
    assert rules(code) == [("f", ["conv2d", "unfold", "einsum"]), ("a", ["cnnkit"]),
                           ("b", ["cnnkit"])]
    assert rules("forbidden_used(f, computed())") == []
    assert rules("def (") == []


def test_helpers_aliases_and_imports_are_followed_but_locals_are_not():
    student = [
        "import torch.nn.functional as G\nmp = G.max_pool2d\n",
        "def helper(X):\n    return mp(X, 2)\n",
        "def pool(X):\n    unfold = 3  # a local, not the function\n    return helper(X)\n",
        "def clean(X):\n    unfold = X\n    return unfold.sum()\n",
        "from cnnkit.ops import pool2d as p2\ndef sneaky(X):\n    return p2(X)\n",
    ]
    assert {"max_pool2d", "mp", "helper"} <= names_used("pool", student)
    assert violations('forbidden_used(pool, ["max_pool2d"])', student) == [
        "pool uses max_pool2d"]
    assert violations('forbidden_used(clean, ["unfold"])', student) == []
    assert violations('forbidden_used(sneaky, ["cnnkit"])', student) == [
        "sneaky uses cnnkit.ops.pool2d"]
