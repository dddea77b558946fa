"""``export``: per-student, per-test-cell points as CSV (nbgrader's CSV only has totals).

:class:`PerCellCsvExportPlugin` is an nbgrader export plugin, so nbgrader's own command
uses it too (``nbgrader_config.py`` sets ``c.ExportApp.plugin_class``)::

    nbgrader export                    # -> grades.csv
    python -m autograder export        # the same, plus a summary line

One row per student; for each assignment one column per test cell
(``<assignment>/<grade_id>``), the assignment's total, then the overall total. The first
row, with student id ``(max)``, holds the points each column is out of.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry
from nbgrader.plugins import ExportPlugin

__all__ = ["MAX_ROW", "PerCellCsvExportPlugin", "per_cell_table"]

MAX_ROW = "(max)"


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
) -> list[tuple[str, str, float]]:
    """``(notebook, grade_id, max points)`` of an assignment's test cells."""
    order = _source_order(source, assignment)
    cells = [
        (notebook.name, cell.name, float(cell.max_score))
        for notebook in gradebook.find_assignment(assignment).notebooks
        for cell in notebook.grade_cells
        if cell.cell_type == "code"
    ]
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
    for assignment in names:
        cells = _grade_cells(gradebook, assignment, source)
        layout.append((assignment, cells))
        header += [f"{assignment}/{grade_id}" for _, grade_id, _ in cells] + [f"{assignment}/total"]
        max_row += [points for _, _, points in cells] + [sum(p for _, _, p in cells)]
    totals = zip(header[1:], max_row[1:], strict=True)
    overall_max = sum(v for h, v in totals if h.endswith("/total"))
    header += ["total", "max_total"]
    max_row += [overall_max, overall_max]
    rows = [max_row]
    for student in ids:
        row: list[object] = [student]
        total = 0.0
        for assignment, cells in layout:
            points = {}
            try:
                submission = gradebook.find_submission(assignment, student)
                for notebook in submission.notebooks:
                    for grade in notebook.grades:
                        points[(notebook.name, grade.name)] = float(grade.score)
            except MissingEntry:  # no submission: zero, like nbgrader's own export
                pass
            values = [points.get((nb, grade_id), 0.0) for nb, grade_id, _ in cells]
            row += values + [sum(values)]
            total += sum(values)
        row += [total, overall_max]
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
