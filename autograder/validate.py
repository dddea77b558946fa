"""``validate``: an assignment is fit to hand out only if all of these hold.

1. Every nbgrader cell has a ``grade_id``, unique in its notebook; every test cell has
   points and starts with a one-line docstring (the feedback's headline); a test cell
   with hidden tests checks nothing visibly (no ``assert`` or ``observe`` outside the
   hidden region), so a student can always tell which check cost points. Written answers
   (manually graded answer cells) are listed; a rubric (nbgrader's mark-scheme region)
   sits only in a read-only cell, where the grader's notebook gets it back from the source.
2. Every task (each function a solution cell defines) is exercised by hidden tests.
3. The student version keeps no solution, no hidden test and no rubric, and every code
   solution cell raises ``NotImplementedError()``.
4. The source notebook, graded as a submission, scores full marks on the tests (its
   written answers wait for a grader, as every student's do).
5. The untouched student version, graded as a submission, scores zero, and grading it
   does not crash.

6. With ``robustness=N``: the solution, graded ``N`` more times under perturbed random
   streams (``autograder/robustness.py``), passes every test cell at least
   ``min_pass_rate`` of the time.

Steps 4 to 6 run the real grader (sandboxed, ``autograder/grading.py``) in a temporary
copy of the course, so the course's gradebook and folders are never touched.
"""

from __future__ import annotations

import ast
import dataclasses
import json
import re
import shutil
import tempfile
from pathlib import Path

import nbformat
from nbgrader.utils import is_grade, is_locked, is_solution, is_task

from autograder.course import Course, CourseError
from autograder.grading import build, grade
from autograder.merge import MARK_SCHEME
from autograder.record import RECORD
from autograder.robustness import CellRate, perturbed_solution, rates
from autograder.submissions import make_submission

__all__ = ["Check", "validate"]

_HIDDEN = re.compile(r"BEGIN HIDDEN TESTS(.*?)END HIDDEN TESTS", re.DOTALL)
_VISIBLE_CHECK = re.compile(r"^\s*assert\b|\bobserve\(", re.MULTILINE)
DEFAULT_MIN_PASS_RATE = 0.99


@dataclasses.dataclass
class Check:
    name: str
    ok: bool
    detail: str = ""

    def line(self) -> str:
        return f"  [{'ok' if self.ok else 'FAIL'}] {self.name}" + (
            f": {self.detail}" if self.detail else ""
        )


def _meta(cell) -> dict:
    return cell.metadata.get("nbgrader", {})


def _functions(source: str) -> list[str]:
    code = "\n".join(ln for ln in source.splitlines() if "### " not in ln)
    tree = ast.parse(code)
    return [
        n.name for n in tree.body if isinstance(n, ast.FunctionDef) and not n.name.startswith("_")
    ]


def static_checks(notebook: Path) -> list[Check]:
    """Checks 1 and 2 on one source notebook."""
    nb = nbformat.read(notebook, as_version=4)
    name = notebook.name
    checks, ids, problems = [], [], []
    grade_cells = [c for c in nb.cells if is_grade(c)]
    for cell in nb.cells:
        meta = _meta(cell)
        if meta:
            if not meta.get("grade_id"):
                problems.append(f"a {cell.cell_type} cell has nbgrader metadata but no grade_id")
            ids.append(meta.get("grade_id"))
    dupes = sorted({i for i in ids if i and ids.count(i) > 1})
    if dupes:
        problems.append(f"duplicate grade_id {', '.join(dupes)}")
    for cell in grade_cells:
        gid = _meta(cell).get("grade_id")
        if not (_meta(cell).get("points") or 0) > 0:
            problems.append(f"test cell {gid} has no points")
        if cell.cell_type == "code" and not is_solution(cell):
            body = ast.parse(cell.source).body
            if not (
                body
                and isinstance(body[0], ast.Expr)
                and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)
            ):
                problems.append(
                    f"test cell {gid} does not start with a docstring saying what it checks"
                )
            if "observe(" not in cell.source:
                problems.append(
                    f"test cell {gid} reports nothing to the grader (cnnkit.observe.observe)"
                )
            visible = _HIDDEN.sub("", cell.source)
            if visible != cell.source and _VISIBLE_CHECK.search(visible):
                problems.append(
                    f"test cell {gid} has visible checks and hidden tests: when a visible "
                    "one fails, the student cannot tell the hidden ones cost points too; "
                    "move the hidden tests into a test cell of their own"
                )
    written, schemes = [], []
    for cell in nb.cells:
        meta, gid = _meta(cell), _meta(cell).get("grade_id", "?")
        if is_grade(cell) and is_solution(cell):
            written.append(f"{gid} ({meta.get('points', 0):g})")
        begins, ends = cell.source.count(MARK_SCHEME), cell.source.count("END MARK SCHEME")
        if begins or ends:
            schemes.append(gid)
            if begins != ends:
                problems.append(f"cell {gid}: BEGIN MARK SCHEME and END MARK SCHEME do not pair")
            elif not (is_task(cell) or is_locked(cell)):
                problems.append(
                    f"cell {gid} has a mark scheme but is not read-only: the student version "
                    "drops it and the grader never sees it; put the rubric in the read-only "
                    "question cell (nbgrader metadata locked: true)"
                )
    checks.append(Check(f"{name}: cell ids and points", not problems, "; ".join(problems)))

    hidden = "\n".join(m for c in grade_cells for m in _HIDDEN.findall(c.source))
    missing = []
    tasks = [
        f
        for c in nb.cells
        if is_solution(c) and c.cell_type == "code"
        for f in _functions(c.source)
    ]
    for func in tasks:
        if not re.search(rf"\b{re.escape(func)}\b", hidden):
            missing.append(func)
    checks.append(
        Check(
            f"{name}: hidden tests for every task ({len(tasks)} tasks)",
            bool(tasks) and not missing,
            f"no hidden test calls {', '.join(missing)}"
            if missing
            else ("" if tasks else "no tasks"),
        )
    )
    if written:  # listed last: the checks above keep their places
        plural = "s" * (len(written) != 1), "s" * (len(schemes) != 1)
        checks.append(Check(f"{name}: {len(written)} written answer{plural[0]} to grade by "
                            f"hand ({len(schemes)} rubric{plural[1]})", True, ", ".join(written)))
    return checks


def released_checks(notebook: Path) -> Check:
    """Check 3 on one released notebook."""
    nb = nbformat.read(notebook, as_version=4)
    problems = []
    for cell in nb.cells:
        gid = _meta(cell).get("grade_id", "?")
        if any(m in cell.source for m in ("BEGIN SOLUTION", "BEGIN HIDDEN TESTS", MARK_SCHEME)):
            problems.append(f"{gid} still holds a solution, hidden tests or a rubric")
        if (
            is_solution(cell)
            and cell.cell_type == "code"
            and "raise NotImplementedError()" not in cell.source
        ):
            problems.append(f"solution cell {gid} has no NotImplementedError stub")
    return Check(
        f"{notebook.name}: student version has stubs only", not problems, "; ".join(problems)
    )


def _robustness_check(scratch: Course, assignment: str, students: list[str],
                      min_pass_rate: float) -> tuple[Check, list[CellRate]]:
    """Step 6 from the perturbed runs' ``grading.json`` records."""
    records = []
    for student in students:
        path = scratch.folder("autograded") / student / assignment / RECORD
        try:
            records.append(json.loads(path.read_text()))
        except (OSError, ValueError):
            records.append({"reason": "the grader could not grade this run"})
    cell_rates = [r for nb in scratch.released_notebooks(assignment)
                  for r in rates(records, nb.name)]
    weak = [r for r in cell_rates if r.rate < min_pass_rate]
    detail = (f"{len(weak)} test cell(s) below {100 * min_pass_rate:g}%: "
              + "; ".join(r.line() for r in weak)) if weak else ""
    check = Check(f"every test passes the solution in >= {100 * min_pass_rate:g}% of "
                  f"{len(students)} perturbed random streams", not weak and bool(cell_rates),
                  detail or ("" if cell_rates else "no test cell was graded"))
    return check, cell_rates


def validate(course: Course, assignment: str, *, progress: bool = False, robustness: int = 0,
             min_pass_rate: float = DEFAULT_MIN_PASS_RATE, workers: int | None = None,
             rates_out: list[CellRate] | None = None) -> list[Check]:
    """Run every check on ``assignment`` in a throw-away copy of the course.

    Args:
        robustness: grade the solution this many more times under perturbed random
            streams (``autograder/robustness.py``) and require every test cell to pass
            at least ``min_pass_rate`` of them; 0 skips the measurement.
        workers: submissions graded at once (default: the number of cores).
        rates_out: if given, receives each test cell's pass rate over the perturbed runs.
    """
    course.check_assignment(assignment)
    if robustness < 0 or not 0.0 <= min_pass_rate <= 1.0:
        raise CourseError(f"--robustness must be >= 0 (got {robustness}) and "
                          f"--min-pass-rate within [0, 1] (got {min_pass_rate})")
    checks = [c for nb in course.source_notebooks(assignment) for c in static_checks(nb)]
    with tempfile.TemporaryDirectory(prefix=f"validate-{assignment}-") as tmp:
        scratch = course.copy_to(Path(tmp), assignments=[assignment])
        try:
            released = build(scratch, assignment)
        except Exception as err:  # noqa: BLE001 - report, don't crash, on a broken source
            return [*checks, Check("nbgrader generate_assignment", False, str(err))]
        checks += [released_checks(nb) for nb in released]
        for student, notebooks in (
            ("solution", course.source_notebooks(assignment)),
            ("stub", released),
        ):
            folder = scratch.folder("submitted") / student / assignment
            folder.mkdir(parents=True)
            for nb in notebooks:
                shutil.copy(nb, folder / nb.name)
        perturbed = [f"robust-{k:03d}" for k in range(robustness)]
        for stream, student in enumerate(perturbed, start=1):
            for nb in released:
                source = nbformat.read(scratch.folder("source") / assignment / nb.name,
                                       as_version=4)
                scratch.submit(assignment, student,
                               make_submission(nb, perturbed_solution(source, stream)), nb.name)
        try:
            graded = grade(scratch, assignment, progress=progress, workers=workers)
        except CourseError as err:  # e.g. a test cell that reports nothing to the grader
            return [*checks, Check("the solution gives the grader its references", False,
                                   str(err))]
        results = {r.student: r for r in graded}
        sol, stub = results["solution"], results["stub"]
        checks.append(
            Check(
                "source solution scores full marks on the tests",
                sol.status == "graded" and sol.auto_score == sol.auto_max,
                sol.reason if sol.status == "failed" else f"{sol.auto_score:g} / "
                f"{sol.auto_max:g}" + (f" (+ {sol.written_max:g} points of written answers, "
                                       "graded by hand)" if sol.written_max else ""),
            )
        )
        checks.append(
            Check(
                "untouched student version scores zero without crashing the grader",
                stub.status == "graded" and stub.score == 0,
                stub.reason if stub.status == "failed" else f"{stub.score:g} / {stub.max_score:g}",
            )
        )
        if perturbed:
            check, cell_rates = _robustness_check(scratch, assignment, perturbed, min_pass_rate)
            checks.append(check)
            if rates_out is not None:
                rates_out.extend(cell_rates)
    return checks
