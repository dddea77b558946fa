"""nbconvert preprocessors that nbgrader's pipeline lacks (named in ``nbgrader_config.py``)."""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass, replace
from pathlib import Path

from nbconvert.exporters.exporter import ResourcesDict
from nbformat.notebooknode import NotebookNode
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.preprocessors import ClearHiddenTests, NbGraderPreprocessor
from nbgrader.utils import is_grade, is_solution, is_task
from traitlets import Int, Unicode

from autograder.late import format_duration

__all__ = ["HideHiddenTests", "SummarizeTests", "TestFeedback", "FeedbackSummary"]

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


class HideHiddenTests(ClearHiddenTests):
    """Feedback without hidden test code: the failing check's message, not its source.

    nbgrader's autograded notebooks contain the hidden tests (they had to run), and
    ``generate_feedback`` would show them, in the cell and in every traceback, which
    prints the lines around the failing one. This is nbgrader's ``ClearHiddenTests`` (its
    delimiters, ``begin_test_delimeter`` / ``end_test_delimeter``) applied to the test
    cells only, with three differences:

    - each removed region leaves one line, :attr:`placeholder`, so the student knows;
    - each error's traceback in a grade cell becomes ``ErrorName: message``;
    - any other cell (one the student wrote, a read-only one) is left as it is: no hidden
      tests are in it, and a delimiter a student typed must not stop the feedback
      (``ClearHiddenTests`` raises on it). A test cell whose regions do not pair
      (``generate_assignment`` refuses those: not one of ours) becomes the placeholder.
    """

    placeholder = Unicode(
        "# (hidden tests are not shown)", help="the line left where hidden tests were removed"
    ).tag(config=True)

    def _with_placeholders(self, source: str) -> str:
        lines = []
        for line in source.split("\n"):
            if self.begin_test_delimeter in line:
                lines.append(self.placeholder)
            lines.append(line)
        return "\n".join(lines)

    def preprocess_cell(
        self, cell: NotebookNode, resources: ResourcesDict, cell_index: int
    ) -> tuple[NotebookNode, ResourcesDict]:
        if cell.cell_type != "code" or not is_grade(cell):
            return cell, resources
        if not is_solution(cell):  # a test cell: the instructor's source
            cell.source = self._with_placeholders(cell.source)
            try:
                cell, resources = super().preprocess_cell(cell, resources, cell_index)
            except RuntimeError as exc:  # nested or unclosed: show none of it
                self.log.warning("cell %s: %s; its source is not shown", cell_index, exc)
                cell.source = self.placeholder
        for output in cell.get("outputs", []):
            if output.output_type == "error":
                message = _ANSI.sub("", f"{output.ename}: {output.evalue}".rstrip(": "))
                output.traceback = [message]
        return cell, resources


@dataclass(frozen=True)
class TestFeedback:
    """One graded cell as the feedback shows it."""

    grade_id: str
    kind: str  # "test" (autograded), "answer" (graded by hand) or "task"
    docstring: str  # a test's first docstring line; "" for other kinds or when it has none
    score: float
    points: float
    reason: str  # why points were lost (the grader's verdict); "" when none were or is known
    error: str = ""  # the cell's own error message, when it says more than ``reason``
    graded: bool = True  # False: a written answer (or task) no grader has scored yet
    comment: str = ""  # the grader's comment on an answer or task (formgrader), if any

    @property
    def lost(self) -> float:
        return max(self.points - self.score, 0.0) if self.graded else 0.0


@dataclass(frozen=True)
class FeedbackSummary:
    """Every graded cell of one notebook, in notebook order (``resources["feedback"]``)."""

    tests: tuple[TestFeedback, ...]
    notes: tuple[str, ...] = ()  # the grader's notes on the whole notebook (markdown)
    seconds_late: float = 0.0  # past the due date (and any extension), from the gradebook

    @property
    def late_by(self) -> str:
        """How late, for a student: ``"2 h 5 min"``."""
        return format_duration(self.seconds_late)

    @property
    def lost(self) -> tuple[TestFeedback, ...]:
        """The graded cells that lost points (a written answer not graded yet lost none)."""
        return tuple(t for t in self.tests if t.lost > 0)

    @property
    def answers(self) -> tuple[TestFeedback, ...]:
        """The written answers and tasks, graded by hand."""
        return tuple(t for t in self.tests if t.kind != "test")

    @property
    def pending(self) -> tuple[TestFeedback, ...]:
        """The written answers no grader has scored yet (their points are not in the score)."""
        return tuple(t for t in self.tests if not t.graded)

    def get(self, grade_id: str) -> TestFeedback | None:
        return next((t for t in self.tests if t.grade_id == grade_id), None)


def first_docstring_line(source: str) -> str:
    """The first line of a test cell's docstring, or "" (also for code that does not parse)."""
    try:
        doc = ast.get_docstring(ast.parse(source), clean=True)
    except SyntaxError:  # IPython magics: read the leading string literal alone
        match = re.match(r"\s*[rRuU]?(\"\"\"|'''|\"|')(.*?)\1", source, re.S)
        doc = match.group(2) if match else None
    return doc.strip().splitlines()[0].strip() if doc and doc.strip() else ""


class SummarizeTests(NbGraderPreprocessor):
    """What the top of the feedback lists: each graded cell, its score and the reason.

    Runs after ``GetGrades`` (the scores) and ``HideHiddenTests`` (so that only visible
    source is read). The reason for a test that lost points is, first, the grader's own
    (``grading.json`` beside the autograded notebook, written by ``python -m autograder
    grade``), else the cell's error outputs (``NotPassed: ...``, else its own exception),
    so that a notebook alone, or one graded by plain nbgrader, gets one too; the cell's
    own error message is kept beside it when it says something else. Only the reasons are
    read from ``grading.json``: nothing about the sandbox or the machine reaches the student.
    How late the submission was comes from the gradebook (``total_seconds_late``), so the
    page says it whichever path graded it. The result is ``resources["feedback"]``, a
    :class:`FeedbackSummary`.
    """

    record_name = Unicode(
        "grading.json", help="the grader's record beside each autograded notebook"
    ).tag(config=True)
    max_reason_chars = Int(
        600, help="longer reasons are cut (the cell's full output stays in the feedback)"
    ).tag(config=True)

    def _recorded_reasons(self, resources: ResourcesDict) -> dict[str, str]:
        folder = resources.get("metadata", {}).get("path") or ""
        record = Path(folder) / self.record_name
        if not folder or not record.is_file():
            return {}
        notebook = f"{resources['nbgrader']['notebook']}.ipynb"
        try:
            cells = json.loads(record.read_text())["notebooks"][notebook]["cells"]
            return {str(k): str(v.get("reason") or "") for k, v in cells.items()}
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            self.log.warning("%s: unreadable (%s); reasons come from the outputs", record, exc)
            return {}

    def _clean(self, text: str) -> str:
        text = _ANSI.sub("", text).strip().rstrip(":").rstrip()
        if len(text) > self.max_reason_chars:
            text = text[: self.max_reason_chars].rstrip() + " ..."
        return text

    def _reasons(self, cell: NotebookNode, recorded: str) -> tuple[str, str]:
        """(the grader's reason, the cell's own error when it says something else)."""
        verdict = error = ""
        for output in cell.get("outputs", []):
            if output.get("output_type") != "error":
                continue
            ename, evalue = output.get("ename", ""), output.get("evalue", "")
            if ename == "NotPassed":
                verdict = verdict or evalue
            else:
                error = error or f"{ename}: {evalue}"
        reason = self._clean(recorded or verdict or error)
        error = self._clean(error)
        return reason, "" if error == reason else error

    def preprocess(
        self, nb: NotebookNode, resources: ResourcesDict
    ) -> tuple[NotebookNode, ResourcesDict]:
        recorded = self._recorded_reasons(resources)
        tests, notes, unscored = [], [], set()
        for cell in nb.cells:
            if cell.metadata.get("autograder_note"):  # autograder/worker.py's "Grader's note"
                notes.append(cell.source)
            nbg = cell.metadata.get("nbgrader", {})
            if not (is_grade(cell) or is_task(cell)) or "grade_id" not in nbg:
                continue
            kind = "task" if is_task(cell) else "answer" if is_solution(cell) else "test"
            score = float(nbg.get("score") or 0.0)
            points = float(nbg.get("points") or 0.0)
            reason = error = ""
            if score < points and kind == "test":
                reason, error = self._reasons(cell, recorded.get(nbg["grade_id"], ""))
            elif score < points:
                reason = str(nbg.get("comment") or "")
            docstring = first_docstring_line(cell.source) if kind == "test" else ""
            comment = str(nbg.get("comment") or "") if kind != "test" else ""
            if kind != "test" and nbg.get("score") is None:  # no gradebook's score at all
                unscored.add(nbg["grade_id"])
            tests.append(TestFeedback(nbg["grade_id"], kind, docstring, score, points, reason,
                                      error, comment=comment))
        ungraded = unscored | self._ungraded(resources,
                                             {t.grade_id for t in tests if t.kind != "test"})
        tests = [replace(t, graded=False, reason="") if t.grade_id in ungraded else t
                 for t in tests]
        resources["feedback"] = FeedbackSummary(tuple(tests), tuple(notes),
                                                self._seconds_late(resources))
        return nb, resources

    def _ungraded(self, resources: ResourcesDict, grade_ids: set[str]) -> set[str]:
        """Which of these hand-graded cells have no score yet (neither a grader's nor the
        automatic 0 of an unanswered one); none are known without a gradebook."""
        info = resources.get("nbgrader", {})
        if not grade_ids or not info.get("db_url"):
            return set()
        found = set()
        with Gradebook(info["db_url"]) as gb:
            for grade_id in grade_ids:
                try:
                    grade = gb.find_grade(grade_id, info["notebook"], info["assignment"],
                                          info["student"])
                except MissingEntry:
                    continue
                if grade.manual_score is None and grade.auto_score is None:
                    found.add(grade_id)
        return found

    def _seconds_late(self, resources: ResourcesDict) -> float:
        info = resources.get("nbgrader", {})
        if not info.get("db_url"):
            return 0.0
        try:
            with Gradebook(info["db_url"]) as gb:
                return float(gb.find_submission(info["assignment"], info["student"])
                             .total_seconds_late)
        except MissingEntry:
            return 0.0
