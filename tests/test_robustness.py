"""``validate --robustness N``: perturbed random streams, per-cell pass rates, fragile tests.

The perturbation is checked on its own (every function reseeds first, docstrings stay
first, the code still does the same thing); then a test that is fragile on purpose (it
draws its input from the global generator *after* calling the student's function) must
be caught, and every real assignment must pass, through the real grader.
"""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import nbformat
import pytest
import torch

from autograder.cli import main
from autograder.course import Course
from autograder.robustness import PERTURB, perturb_source, rates
from autograder.validate import static_checks

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning")

CODE = textwrap.dedent('''
    import torch

    def draw(n):
        """n numbers from torch's global generator."""
        def inner():
            return torch.rand(n)
        return inner()

    class Model:
        def method(self):
            return 1
''')


def test_every_function_reseeds_first_and_keeps_its_docstring():
    source, changed = perturb_source(CODE, stream=5)
    assert changed == 3  # draw, inner, method
    tree = ast.parse(source)
    functions = {n.name: n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
    assert ast.get_docstring(functions["draw"]) == "n numbers from torch's global generator."
    for name in ("draw", "inner", "method"):
        body = functions[name].body
        first = body[1] if ast.get_docstring(functions[name]) else body[0]
        assert isinstance(first, ast.Expr) and first.value.func.id == PERTURB, name


def test_perturbed_code_computes_the_same_but_draws_other_streams():
    namespaces = []
    for stream in (1, 2):
        ns: dict = {}
        exec(perturb_source(CODE, stream)[0], ns)  # noqa: S102
        namespaces.append(ns)
    plain: dict = {}
    exec(CODE, plain)  # noqa: S102
    torch.manual_seed(0)
    expected = plain["draw"](4)
    torch.manual_seed(0)
    first, second = namespaces[0]["draw"](4), namespaces[1]["draw"](4)
    assert first.shape == second.shape == expected.shape
    assert not torch.equal(first, expected) and not torch.equal(first, second)
    # the same stream and call count gives the same numbers: runs are reproducible
    again: dict = {}
    exec(perturb_source(CODE, 1)[0], again)  # noqa: S102
    assert torch.equal(again["draw"](4), first)
    assert namespaces[0]["Model"]().method() == 1


def test_code_that_ast_cannot_read_is_left_alone():
    magic = "%matplotlib inline\nx = 1\n"
    assert perturb_source(magic, 3) == (magic, 0)
    assert perturb_source("x = 1\n", 3) == ("x = 1\n", 0)


def test_rates_count_passes_and_missing_records_fail():
    def record(points):
        return {"notebooks": {"a.ipynb": {"cells": {
            "t1": {"points": points, "max_points": 2.0, "reason": "" if points else "wrong"},
            "t2": {"points": 1.0, "max_points": 1.0, "reason": ""}}}}}

    got = {r.grade_id: r for r in rates([record(2.0), record(0.0), {"reason": "died"}],
                                        "a.ipynb")}
    assert (got["t1"].passed, got["t1"].runs) == (1, 3)
    assert got["t1"].reasons == ("wrong", "died")
    assert (got["t2"].passed, got["t2"].rate) == (2, pytest.approx(2 / 3))
    assert "passed 1/3 (33.3%)" in got["t1"].line()


def _cell(nb, grade_id):
    return next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def test_validate_refuses_visible_checks_beside_hidden_ones(tmp_path):
    source = ROOT / "source" / "ps4_channels" / "ps4_channels.ipynb"
    nb = nbformat.read(source, as_version=4)
    hidden = next(c for c in nb.cells if "BEGIN HIDDEN TESTS" in c.source)
    hidden.source = hidden.source.replace("### BEGIN HIDDEN TESTS",
                                          "assert True, 'visible'\n### BEGIN HIDDEN TESTS", 1)
    path = tmp_path / "ps4_channels.ipynb"
    nbformat.write(nb, path)
    ids, _tasks, *_written = static_checks(path)  # ps4 also lists its written answers
    assert not ids.ok
    assert "has visible checks and hidden tests" in ids.detail
    ids_ok, *_ = static_checks(source)
    assert ids_ok.ok, ids_ok.detail


@pytest.mark.slow
def test_a_fragile_test_is_caught_and_a_sound_one_passes(tmp_path, capsys):
    """ps4's corr2d test made fragile: its input comes from the global generator right
    after the student's function ran, so any extra draw inside that function changes it."""
    root = Course(ROOT).copy_to(tmp_path / "course", assignments=["ps4_channels"]).root
    path = root / "source" / "ps4_channels" / "ps4_channels.ipynb"
    nb = nbformat.read(path, as_version=4)
    solution = _cell(nb, "corr2d")
    test = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")
                and "corr2d(" in c.source and "BEGIN HIDDEN" not in c.source)
    test.source += textwrap.dedent('''

        torch.manual_seed(0)
        corr2d(torch.ones(2, 2), torch.ones(1, 1))
        fragile_X = torch.randn(3, 3)
        observe("global-generator input", corr2d(fragile_X, torch.ones(2, 2)), close=True)
    ''')
    assert "def corr2d" in solution.source
    nbformat.write(nb, path)
    assert main(["--root", str(root), "validate", "ps4_channels", "--no-progress",
                 "--robustness", "3", "--workers", "2"]) == 1
    out = capsys.readouterr().out
    fragile_id = test.metadata.nbgrader["grade_id"]
    assert f"{fragile_id}: passed 0/3 (0.0%)" in out
    assert "[FAIL] every test passes the solution in >= 99% of 3 perturbed random streams" in out
    others = [line for line in out.splitlines()
              if ": passed " in line and fragile_id not in line]
    assert others and all("passed 3/3 (100.0%)" in line for line in others), others


@pytest.mark.slow
@pytest.mark.parametrize("assignment", Course(ROOT).assignments())
def test_every_assignment_is_robust(assignment, capsys):
    """``make test``'s robustness run: N perturbed streams per assignment (N sized for CI;
    ``python -m bench.thresholds`` and ``validate --robustness 100`` measure more)."""
    runs = 2 if assignment == "ps3_lenet_variants" else 4
    code = main(["--root", str(ROOT), "validate", assignment, "--no-progress",
                 "--robustness", str(runs), "--workers", "2"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert f"pass rates over {runs} perturbed random streams" in out
    assert f"[ok] every test passes the solution in >= 99% of {runs} perturbed" in out


def test_the_perturbation_uses_no_name_a_test_could_forbid():
    """ps1 forbids ``torch`` in its answers: reseeding must not look like using it."""
    from autograder.forbidden import violations
    from cnnkit.checks import forbidden_used

    source = perturb_source("def f(x):\n    return x + 1\n", 1)[0]
    ns: dict = {}
    exec(source, ns)  # noqa: S102
    names = ["torch", "numpy", "random", "cnnkit", "nn", "np", "F"]
    assert forbidden_used(ns["f"], names) == []
    assert violations(f"forbidden_used(f, {names!r})", [source]) == []
