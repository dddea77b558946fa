"""Build the notebook that is graded: the instructor's cells, the student's answers.

A submission is read as loosely as possible (any nbformat version, cells of an old schema,
odd metadata): only the text of the student's answer cells and of any cells they added is
taken. Everything else comes from the instructor's side, in the released notebook's order:
- test cells are the *source* version, hidden tests included, whatever the submission
  holds (edited, deleted, duplicated, renamed or given more points); so are read-only
  cells with a mark scheme (the rubric of a written answer, which the release lacks), so
  that the formgrader shows it to the grader (the feedback removes it again);
- read-only cells, points, ``grade_id``s and the kernelspec are the release's;
- an answer cell the student deleted gets the release's stub;
- a cell the student added stays, after the answer cell it followed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbgrader.utils import is_grade, is_solution

__all__ = ["Answers", "MARK_SCHEME", "SubmissionError", "answers_from_bytes", "merge",
           "read_answers", "solution_answers"]

MARK_SCHEME = "BEGIN MARK SCHEME"  # nbgrader's ClearMarkScheme delimiter


class SubmissionError(ValueError):
    """The submission cannot be read at all; the message is the student's reason."""


@dataclass
class Answers:
    """The student's text: answers by ``grade_id``, plus added cells after each answer."""

    answers: dict[str, str] = field(default_factory=dict)
    added: dict[str | None, list[tuple[str, str]]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # what was restored or ignored


def _text(value: object) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return "".join(value)
    return None


def _raw_cells(data: object) -> list[dict]:
    if not isinstance(data, dict):
        raise SubmissionError("not a notebook: the file holds no JSON object")
    cells = data.get("cells")
    if cells is None and isinstance(data.get("worksheets"), list):  # nbformat 3
        cells = [c for ws in data["worksheets"] if isinstance(ws, dict)
                 for c in ws.get("cells", []) or []]
    if not isinstance(cells, list):
        raise SubmissionError("not a notebook: it has no list of cells")
    return [c for c in cells if isinstance(c, dict)]


def read_answers(path: Path, template: nbformat.NotebookNode) -> Answers:
    """The student's answers in the file ``path`` (see :func:`answers_from_bytes`)."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raw = None
    return answers_from_bytes(raw, path.name, template)


def answers_from_bytes(raw: bytes | None, name: str,
                       template: nbformat.NotebookNode) -> Answers:
    """The student's answers in the notebook file ``name`` whose bytes are ``raw`` (None:
    not submitted), judged against the release ``template``.

    Raises:
        SubmissionError: the file is missing, is not JSON, or is not a notebook.
    """
    if raw is None:
        raise SubmissionError(f"missing notebook: {name} was not submitted")
    try:
        data = json.loads(raw.decode("utf-8", errors="replace"))
    except json.JSONDecodeError as exc:
        raise SubmissionError(
            f"corrupt notebook: {name} is not valid JSON ({exc.msg}, line {exc.lineno})"
        ) from None
    kinds = _cell_kinds(template)
    given = {c.source for c in template.cells}  # the release's own cells are not additions
    result = Answers()
    previous: str | None = None
    for cell in _raw_cells(data):
        text = _text(cell.get("source", cell.get("input")))
        ctype = cell.get("cell_type")
        meta = cell.get("metadata")
        nbg = meta.get("nbgrader") if isinstance(meta, dict) else None
        grade_id = nbg.get("grade_id") if isinstance(nbg, dict) else None
        if text is None:
            result.notes.append("ignored a cell whose text could not be read")
            continue
        kind = kinds.get(grade_id) if isinstance(grade_id, str) else None
        if kind == "answer" and grade_id not in result.answers:
            result.answers[grade_id] = text
            previous = grade_id
        elif kind is not None and kind != "answer":
            previous = grade_id  # the instructor's cell is used; the student's copy is not
            if _text_of(template, grade_id) != text:
                result.notes.append(f"restored the instructor's cell {grade_id}")
        elif ctype in ("code", "markdown") and text.strip() and text not in given:
            if isinstance(grade_id, str) and kind is None and nbg.get("grade"):
                result.notes.append(f"ran a test cell with unknown id {grade_id} as plain code")
            result.added.setdefault(previous, []).append((ctype, text))
    return result


def _cell_kinds(nb: nbformat.NotebookNode) -> dict[str, str]:
    kinds = {}
    for cell in nb.cells:
        nbg = cell.metadata.get("nbgrader", {})
        if "grade_id" in nbg:
            kinds[nbg["grade_id"]] = "answer" if is_solution(cell) else "fixed"
    return kinds


def _text_of(nb: nbformat.NotebookNode, grade_id: str) -> str | None:
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id:
            return cell.source
    return None


def solution_answers(source: nbformat.NotebookNode) -> Answers:
    """The instructor's own answers (for the reference run)."""
    answers = Answers()
    for cell in source.cells:
        nbg = cell.metadata.get("nbgrader", {})
        if is_solution(cell) and "grade_id" in nbg:
            answers.answers[nbg["grade_id"]] = cell.source
    return answers


def merge(
    template: nbformat.NotebookNode, source: nbformat.NotebookNode, answers: Answers
) -> nbformat.NotebookNode:
    """The notebook to grade: ``template`` (the release) with the student's answers and
    added cells, and every grade cell taken from ``source``."""
    tests = {
        c.metadata["nbgrader"]["grade_id"]: c
        for c in source.cells
        if "grade_id" in c.metadata.get("nbgrader", {}) and (is_grade(c) or MARK_SCHEME in c.source)
    }
    out = nbformat.v4.new_notebook(metadata=template.metadata)
    out.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                  "language": "python"}

    def add_extra(after: str | None) -> None:
        for ctype, text in answers.added.get(after, []):
            maker = nbformat.v4.new_code_cell if ctype == "code" else nbformat.v4.new_markdown_cell
            out.cells.append(maker(text))

    add_extra(None)
    for cell in template.cells:
        new = nbformat.from_dict(json.loads(json.dumps(cell)))
        nbg = new.metadata.get("nbgrader", {})
        grade_id = nbg.get("grade_id")
        if grade_id in tests and not is_solution(new):
            new.source = tests[grade_id].source
        elif is_solution(new) and grade_id in answers.answers:
            new.source = answers.answers[grade_id]
        if new.cell_type == "code":
            new.outputs, new.execution_count = [], None
        out.cells.append(new)
        if grade_id:
            add_extra(grade_id)
    return out
