"""``export``: per-student, per-test-cell points as CSV (nbgrader's CSV only has totals).

:class:`PerCellCsvExportPlugin` is an nbgrader export plugin, so nbgrader's own command
uses it too (``nbgrader_config.py`` sets ``c.ExportApp.plugin_class``)::

    nbgrader export                    # -> grades.csv
    python -m autograder export        # the same, plus a summary line

One row per student; for each assignment one column per test cell and per written answer
(``<assignment>/<grade_id>``, in the notebook's order), the test cells' points
(``<assignment>/auto``), the written answers' points (``<assignment>/manual``, graded by
hand in the formgrader), the late penalty (``<assignment>/late_penalty``, nbgrader's
``late_submission_penalty``: points taken off, ``autograder/late.py``), the assignment's
total after that penalty (as nbgrader's own CSV's ``score``), then the overall total. The
first row, with student id ``(max)``, holds the points each column is out of (0 for the
penalty). The overall columns follow: ``auto``, ``manual``, ``total``, ``max_total`` and
``ungraded``, the number of the student's written answers no one has graded yet.

A written answer not graded yet is an empty field, and so is a ``manual`` sum that would
include one, so a partial sum is never mistaken for the final one; ``total`` counts it as 0,
as nbgrader's own score does, until it is graded. An answer left as the release's stub is
graded 0 ("No response.") without a grader. A score a grader overrode in the formgrader
counts, in ``auto`` for a test cell.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry
from nbgrader.plugins import ExportPlugin

__all__ = ["MAX_ROW", "PerCellCsvExportPlugin", "UNGRADED", "per_cell_table"]

MAX_ROW = "(max)"
UNGRADED = ""  # a written answer (or a sum with one) that no one has graded yet


def _source_order(source: Path | None, assignment: str) -> dict[tuple[str, str], int]:
    """Position of each cell in the source notebooks, so columns follow the notebook."""
    order: dict[tuple[str, str], int] = {}
    if source is None:
        return order
    for path in sorted((source / assignment).glob("*.ipynb")):
        nb = json.loads(path.read_text())
        for i, cell in enumerate(nb.get("cells", [])):
            grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
            if grade_id:
                order[(path.stem, grade_id)] = i
    return order


def _grade_cells(
    gradebook: Gradebook, assignment: str, source: Path | None
) -> list[tuple[str, str, float, bool]]:
    """``(notebook, grade_id, max points, written)`` of an assignment's graded cells: the
    test cells and the written answers (manually graded answer cells: ``written``)."""
    order = _source_order(source, assignment)
    cells = []
    for notebook in gradebook.find_assignment(assignment).notebooks:
        answers = {cell.name for cell in notebook.solution_cells}
        cells += [(notebook.name, cell.name, float(cell.max_score), cell.name in answers)
                  for cell in notebook.grade_cells]
    # The gradebook keeps no cell order: use the source notebook's, else the names'.
    return sorted(cells, key=lambda c: (c[0], order.get((c[0], c[1]), len(order)), c[1]))


def per_cell_table(
    gradebook: Gradebook,
    assignments: list[str] | None = None,
    students: list[str] | None = None,
    *,
    source: Path | None = None,
) -> tuple[list[str], list[list[object]]]:
    """The export as ``(header, rows)``; row 0 is the ``(max)`` row."""
    names = assignments or sorted(a.name for a in gradebook.assignments)
    ids = students or sorted(s.id for s in gradebook.students)
    header = ["student_id"]
    max_row: list[object] = [MAX_ROW]
    layout = []
    overall_auto = overall_manual = 0.0
    for assignment in names:
        cells = _grade_cells(gradebook, assignment, source)
        layout.append((assignment, cells))
        auto_max = sum(points for _, _, points, written in cells if not written)
        manual_max = sum(points for _, _, points, written in cells if written)
        overall_auto, overall_manual = overall_auto + auto_max, overall_manual + manual_max
        header += [f"{assignment}/{grade_id}" for _, grade_id, _, _ in cells]
        header += [f"{assignment}/{k}" for k in ("auto", "manual", "late_penalty", "total")]
        max_row += [points for _, _, points, _ in cells]
        max_row += [auto_max, manual_max, 0.0, auto_max + manual_max]
    overall_max = overall_auto + overall_manual
    header += ["auto", "manual", "total", "max_total", "ungraded"]
    max_row += [overall_auto, overall_manual, overall_max, overall_max,
                sum(written for _, cells in layout for *_, written in cells)]
    rows = [max_row]
    for student in ids:
        row: list[object] = [student]
        auto_total = manual_total = total = 0.0
        ungraded = 0
        for assignment, cells in layout:
            points: dict[tuple[str, str], float | None] = {}
            penalty = 0.0
            try:
                submission = gradebook.find_submission(assignment, student)
                penalty = float(submission.late_submission_penalty)
                for notebook in submission.notebooks:
                    for grade in notebook.grades:
                        graded = grade.manual_score is not None or grade.auto_score is not None
                        points[(notebook.name, grade.name)] = (
                            float(grade.score) if graded else None)
            except MissingEntry:  # no submission: zero, like nbgrader's own export
                pass
            values = [points.get((nb, grade_id), 0.0) for nb, grade_id, _, _ in cells]
            values = [0.0 if v is None and not written else v  # a test not run: 0, as before
                      for v, (*_, written) in zip(values, cells, strict=True)]
            auto = sum(v for v, (*_, w) in zip(values, cells, strict=True) if not w)
            manual = sum(v or 0.0 for v, (*_, w) in zip(values, cells, strict=True) if w)
            missing = sum(v is None for v in values)
            after = max(auto + manual - penalty, 0.0)
            row += [UNGRADED if v is None else v for v in values]
            row += [auto, UNGRADED if missing else manual, penalty, after]
            auto_total, manual_total = auto_total + auto, manual_total + manual
            total, ungraded = total + after, ungraded + missing
        row += [auto_total, UNGRADED if ungraded else manual_total, total, overall_max, ungraded]
        rows.append(row)
    return header, rows


class PerCellCsvExportPlugin(ExportPlugin):
    """nbgrader export plugin: a CSV with every test cell's points per student."""

    def export(self, gradebook: Gradebook) -> None:
        dest = Path(self.to or "grades.csv")
        coursedir = getattr(self.parent, "coursedir", None)
        source = Path(coursedir.root) / coursedir.source_directory if coursedir else None
        header, rows = per_cell_table(
            gradebook,
            [str(a) for a in self.assignment] or None,
            [str(s) for s in self.student] or None,
            source=source,
        )
        dest.parent.mkdir(parents=True, exist_ok=True)
        with dest.open("w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(header)
            writer.writerows(rows)
        self.log.info("Exported %d students x %d columns to %s", len(rows) - 1, len(header), dest)
