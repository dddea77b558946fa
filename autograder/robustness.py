"""``validate --robustness N``: how often each test passes a correct answer.

A test that passes the instructor's solution once may still fail a correct student whose
code draws one more random number, builds its layers in another order, or starts from
another initialisation: a training threshold on the knife's edge, an input drawn from the
global generator after the student's function ran. To measure that, the solution is
graded ``N`` more times, each time *perturbed*: every function that a solution cell
defines first reseeds Python's, NumPy's and PyTorch's global generators from
``(stream, call count)``, so each run sees other random streams in every place a student's
code could disturb them. Each test cell's pass rate over the ``N`` runs is reported; a
cell that passes less often than the required rate (default 99%) fails validation.
"""

from __future__ import annotations

import ast
import dataclasses

import nbformat

from autograder.merge import solution_answers

__all__ = ["PERTURB", "CellRate", "perturb_source", "perturbed_solution", "rates"]

PERTURB = "__cnn_course_perturb__"

_HELPER = '''def {name}():
    """validate --robustness: another random stream at every call of a solution function."""
    global __cnn_course_calls__
    __cnn_course_calls__ = globals().get("__cnn_course_calls__", 0) + 1
    seed = {stream} * 7919 + __cnn_course_calls__
    # __import__ with strings: no module name appears as a name in this code, so a test's
    # forbidden-names check ("no torch in your answer") does not see the perturbation.
    __import__("random").seed(seed)
    __import__("numpy.random", fromlist=["seed"]).seed(seed)
    __import__("torch").manual_seed(seed)

'''


class _Perturb(ast.NodeTransformer):
    """Insert ``__cnn_course_perturb__()`` at the top of every function body."""

    def __init__(self) -> None:
        self.count = 0

    def _visit(self, node):
        self.generic_visit(node)
        body = node.body
        start = int(bool(body) and isinstance(body[0], ast.Expr)
                    and isinstance(body[0].value, ast.Constant)
                    and isinstance(body[0].value.value, str))  # keep the docstring first
        call = ast.Expr(ast.Call(ast.Name(PERTURB, ast.Load()), [], []))
        node.body = [*body[:start], call, *body[start:]]
        self.count += 1
        return node

    visit_FunctionDef = visit_AsyncFunctionDef = _visit


def perturb_source(source: str, stream: int) -> tuple[str, int]:
    """``source`` with every function reseeding the global generators first.

    Returns the new source and the number of functions changed (0: ``source`` unchanged,
    e.g. a cell with IPython magics, which ``ast`` cannot read).
    """
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return source, 0
    changer = _Perturb()
    tree = ast.fix_missing_locations(changer.visit(tree))
    if not changer.count:
        return source, 0
    return _HELPER.format(name=PERTURB, stream=stream) + ast.unparse(tree) + "\n", changer.count


def perturbed_solution(source: nbformat.NotebookNode, stream: int) -> dict[str, str]:
    """``{grade_id: answer}``: the instructor's solution cells, perturbed for ``stream``."""
    answers = solution_answers(source).answers
    return {grade_id: perturb_source(code, stream)[0] for grade_id, code in answers.items()}


@dataclasses.dataclass(frozen=True)
class CellRate:
    """One test cell's pass count over the perturbed runs."""

    grade_id: str
    passed: int
    runs: int
    reasons: tuple[str, ...] = ()

    @property
    def rate(self) -> float:
        return self.passed / self.runs if self.runs else 0.0

    def line(self) -> str:
        why = f"; e.g. {self.reasons[0]}" if self.reasons else ""
        return f"{self.grade_id}: passed {self.passed}/{self.runs} ({100 * self.rate:.1f}%){why}"


def rates(records: list[dict], notebook: str) -> list[CellRate]:
    """Per test cell of ``notebook``: how many of the graded ``records`` passed it.

    ``records`` are ``grading.json`` contents; a record without that notebook (a run that
    the grader could not finish) counts as failing every cell.
    """
    ids: list[str] = []
    for record in records:
        for grade_id in record.get("notebooks", {}).get(notebook, {}).get("cells", {}):
            if grade_id not in ids:
                ids.append(grade_id)
    out = []
    for grade_id in ids:
        passed, reasons = 0, []
        for record in records:
            cell = record.get("notebooks", {}).get(notebook, {}).get("cells", {}).get(grade_id)
            if cell and cell["points"] >= cell["max_points"]:
                passed += 1
            else:
                reasons.append(cell["reason"] if cell else record.get("reason", "not graded"))
        out.append(CellRate(grade_id, passed, len(records), tuple(dict.fromkeys(reasons))))
    return out
