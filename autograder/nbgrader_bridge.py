"""``nbgrader autograde`` and the formgrader's Autograde button, through our grader.

nbgrader's ``Autograde`` converter runs two configurable pipelines per notebook (see
``nbgrader_config.py``): a *sanitize* one on the submission, then an *autograde* one
whose first step normally executes the notebook in a kernel that also decides the tests.
:class:`SandboxedGrading` takes that step's place. For the notebook nbgrader hands it
(``resources["nbgrader"]``: assignment, student, notebook) it grades the student's
``submitted/`` file exactly as ``python -m autograder grade`` does: the same ``Plan``
(settings, limits, cached reference observations), a sandboxed worker, verdicts decided
outside the sandbox (``autograder/worker.py``). It returns that graded notebook, with each
test cell's outputs made to say our verdict in nbgrader's terms, so that nbgrader's own
``SaveAutoGrades`` records exactly our points:

- a failed test cell carries an error output (``worker`` adds one with the reason);
- a passed one carries none, no ``stderr`` stream (nbgrader scores any stderr 0; a warning
  printed while a passing test ran is kept as ``stdout``) and no ``execute_result``
  (nbgrader reads a number there as partial credit; it is kept as ``display_data``).

It then checks nbgrader's own verdict (``nbgrader.utils.determine_grade``) against ours
for every test cell and refuses the notebook if one differs. Where no sandbox can be made
it refuses with the message of ``python -m autograder grade``: nbgrader never runs
students' code unsandboxed here. It does not write the gradebook or ``grading.json``;
nbgrader's later steps do the former, and ``grade`` regrades a submission that has none.

What this does not give: nbgrader reads the submission with ``nbformat`` before any step
runs, so a file that is not a notebook at all fails there (nbgrader reports the student as
an error) instead of scoring 0 with a reason as it does with ``grade``.
"""

from __future__ import annotations

from typing import Any

import nbformat
from nbconvert.exporters.exporter import ResourcesDict
from nbformat.notebooknode import NotebookNode
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import NbGraderPreprocessor
from nbgrader.utils import determine_grade, is_grade, is_solution

from autograder.course import Course, CourseError
from autograder.grading import _sandbox_or_refuse
from autograder.names import UnsafeStudentId, check_student_id
from autograder.plan import LocalPool, Plan

__all__ = ["SandboxedGrading", "GradingRefused", "SAFE_COMMAND", "as_nbgrader_verdict"]

SAFE_COMMAND = "python -m autograder grade"


class GradingRefused(CourseError):
    """This submission was not graded; the message says why and what to run instead."""


def _is_test(cell: NotebookNode) -> bool:
    return cell.cell_type == "code" and is_grade(cell) and not is_solution(cell)


def as_nbgrader_verdict(cell: NotebookNode, passed: bool, reason: str) -> None:
    """Make a test cell's outputs give ``passed`` to ``nbgrader.utils.determine_grade``."""
    outputs = []
    for out in cell.get("outputs", []):
        kind = out.get("output_type")
        if kind == "execute_result":  # a number here would be partial credit
            out = nbformat.v4.new_output("display_data", data=out.get("data", {}),
                                         metadata=out.get("metadata", {}))
        elif passed and kind == "error":
            continue
        elif passed and kind == "stream" and out.get("name") == "stderr":
            out = nbformat.v4.new_output("stream", name="stdout", text=out.get("text", ""))
        outputs.append(out)
    if not passed and not any(o.get("output_type") == "error" for o in outputs):
        outputs.append(nbformat.v4.new_output(
            "error", ename="NotPassed", evalue=reason, traceback=[f"NotPassed: {reason}"]))
    cell.outputs = outputs


class SandboxedGrading(NbGraderPreprocessor):
    """nbgrader's Execute step replaced by ``python -m autograder grade`` for one notebook.

    Configured in ``nbgrader_config.py`` as the first of ``Autograde.autograde_preprocessors``.
    """

    def _course(self, resources: ResourcesDict) -> Course:
        # The converter that runs this pipeline holds the course folder nbgrader uses
        # (the formgrader's or the command line's); the configuration names the same one.
        owner: Any = self.parent
        while owner is not None and not isinstance(getattr(owner, "coursedir", None),
                                                    CourseDirectory):
            owner = getattr(owner, "parent", None)
        coursedir = owner.coursedir if owner is not None else CourseDirectory(config=self.config)
        return Course(coursedir.root, db_url=resources["nbgrader"]["db_url"])

    def preprocess(self, nb: NotebookNode,
                   resources: ResourcesDict) -> tuple[NotebookNode, ResourcesDict]:
        info = resources["nbgrader"]
        assignment, student = info["assignment"], info["student"]
        name = f"{info['notebook']}.ipynb"
        course = self._course(resources)
        try:
            check_student_id(student)  # the folder name under submitted/ is the student's
            graded, cells = self._grade(course, assignment, student, name)
        except (CourseError, UnsafeStudentId) as exc:
            raise GradingRefused(
                f"{student}/{assignment}/{name} not graded: {exc}. nbgrader autograde and the "
                f"formgrader grade through the sandbox of `{SAFE_COMMAND}` or not at all; "
                f"run `{SAFE_COMMAND} {assignment}` from the course root to see the details."
            ) from None
        self._check(course, assignment, info["notebook"], graded, cells)
        resources["autograder"] = {"cells": cells}
        return graded, resources

    def _grade(self, course: Course, assignment: str, student: str,
               name: str) -> tuple[NotebookNode, dict[str, dict]]:
        sandbox_line = _sandbox_or_refuse(False, None)
        plan = Plan.make(course, assignment, workers=1, unsafe=False, timeout=None,
                         limits=None, sandbox=sandbox_line)
        if name not in {notebook for notebook, _, _ in plan.notebooks}:
            raise CourseError(f"{name} is not a notebook of the built {assignment}; rebuild")
        with LocalPool.open(plan.config, 1) as pool:
            bundle = plan.bundle(pool).only(name)
            job = plan.job(student, bundle)
            [(_, outcome)] = pool.run([job], bundle)
        if outcome.error:
            raise CourseError(f"the grader could not grade it ({outcome.error})")
        result = outcome.notebooks[name]
        graded = result.graded_notebook()
        cells = {grade_id: {"points": c.points, "max_points": c.max_points, "reason": c.reason}
                 for grade_id, c in result.cells.items()}
        for cell in graded.cells:
            if _is_test(cell):
                verdict = cells[cell.metadata["nbgrader"]["grade_id"]]
                as_nbgrader_verdict(cell, verdict["points"] == verdict["max_points"],
                                    verdict["reason"])
        return graded, cells

    @staticmethod
    def _check(course: Course, assignment: str, notebook: str, graded: NotebookNode,
               cells: dict[str, dict]) -> None:
        """nbgrader's own reading of ``graded`` must be our verdict, for every test cell the
        gradebook knows (``SaveAutoGrades`` only updates the cells it is given)."""
        with course.gradebook() as gb:
            stored = gb.find_notebook(notebook, assignment)
            answers = {c.name for c in stored.solution_cells}
            known = {c.name for c in stored.grade_cells
                     if c.cell_type == "code" and c.name not in answers}
        found = {}
        for cell in graded.cells:
            if _is_test(cell):
                found[cell.metadata["nbgrader"]["grade_id"]] = determine_grade(cell)[0]
        if set(found) != set(cells) or not known <= set(found):
            raise GradingRefused(
                f"{notebook}: the graded notebook's test cells ({sorted(found)}) are not the "
                f"gradebook's ({sorted(known)}); rebuild the assignment"
            )
        wrong = {g: (found[g], c["points"]) for g, c in cells.items() if found[g] != c["points"]}
        if wrong:
            raise GradingRefused(f"{notebook}: nbgrader would record other points than the "
                                 f"grader decided: {wrong}")
