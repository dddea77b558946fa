"""The single writer: one finished submission into ``autograded/`` and the gradebook.

Order, so that a grader killed at any moment loses nothing and duplicates nothing:
1. the graded notebooks go to ``autograded/<student>/<assignment>.partial/``, which then
   replaces ``autograded/<student>/<assignment>/`` (a stale ``.partial`` is just removed);
2. the gradebook gets the scores (nbgrader's ``update_or_create_*``: a second write of the
   same submission updates it, never adds another); manual scores are not touched; then the
   submission time (``timestamp.txt``) and nbgrader's ``AssignLatePenalties`` with the
   course's policy (``autograder/late.py``), as ``nbgrader autograde`` would;
   Written answers (manually graded answer cells) get no automatic score unless left
   unanswered (then 0 and "No response.", as nbgrader's ``SaveAutoGrades``); a manual score
   a grader gave in the formgrader is kept, and flagged for review only when the answer
   changed since (a resubmission);
3. last, ``grading.json`` is written (atomically). A submission counts as graded only
   when ``grading.json`` and the gradebook both say so, so a run that died before step 3
   grades that student again, and a run that finished never does (unless ``--force``).
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path
from typing import Any

import nbformat
from nbgrader.api import MissingEntry

from autograder.course import Course
from autograder.late import Lateness, apply_penalties, read_timestamp
from autograder.tasks import Outcome

__all__ = ["GradeResult", "already_graded", "record"]

RECORD = "grading.json"


@dataclasses.dataclass
class GradeResult:
    student: str
    score: float | None
    max_score: float | None
    seconds: float
    status: str  # "graded", "skipped" or "failed" (the grader itself could not grade it)
    reason: str = ""  # why points were lost to something other than wrong answers
    late_note: str = ""  # "2 h 5 min late: -1 points" (score is after it), or why not known
    auto_score: float | None = None  # the tests' points alone (no written answers, no penalty)
    auto_max: float | None = None
    written_max: float = 0.0  # points of the written answers, graded by hand
    to_grade: int = 0  # written answers that still need a grade (formgrader: Manual Grading)

    def written_note(self) -> str:
        """``"tests 19 / 19; 2 written answers to grade by hand (4 points)"``, or ""."""
        if not self.written_max or self.auto_score is None:
            return ""
        tests = f"tests {self.auto_score:g} / {self.auto_max:g}"
        if not self.to_grade:
            return f"{tests}; written answers graded"
        return (f"{tests}; {self.to_grade} written answer{'s' * (self.to_grade > 1)} "
                f"to grade by hand ({self.written_max:g} points)")

    def line(self) -> str:
        if self.status == "failed":
            return f"{self.student:<16} FAILED  {self.reason}"
        pct = 100 * self.score / self.max_score if self.max_score else 0.0
        note = "  (already graded; --force regrades)" if self.status == "skipped" else ""
        why = f"  ({self.reason})" if self.reason and self.status == "graded" else ""
        late = f"  [{self.late_note}]" if self.late_note else ""
        written = f"  [{self.written_note()}]" if self.written_note() else ""
        return (
            f"{self.student:<16} {self.score:6.1f} / {self.max_score:<5.1f} {pct:5.1f}%  "
            f"{self.seconds:5.1f} s{note}{late}{written}{why}"
        )


def already_graded(course: Course, assignment: str, student: str) -> GradeResult | None:
    """The earlier result if this submission was fully recorded, else ``None``."""
    path = course.folder("autograded") / student / assignment / RECORD
    try:
        saved = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if saved.get("status") != "graded":
        return None
    try:
        with course.gradebook() as gb:
            submission = gb.find_submission(assignment, student)
            score = float(submission.score) - float(submission.late_submission_penalty)
            max_score = float(submission.max_score)
            to_grade = _to_grade(gb, assignment, student, saved.get("notebooks"))
    except MissingEntry:
        return None
    return GradeResult(student, max(score, 0.0), max_score, 0.0, "skipped",
                       saved.get("reason", ""), _late_note(saved.get("late")),
                       auto_score=saved.get("auto_score"), auto_max=saved.get("auto_max"),
                       written_max=float(saved.get("written_max") or 0.0), to_grade=to_grade)


def _to_grade(gb: Any, assignment: str, student: str, notebooks: object) -> int:
    """How many written answers of a recorded submission still need a grade."""
    if not isinstance(notebooks, dict):
        return 0
    return sum(
        gb.find_grade(grade_id, Path(name).stem, assignment, student).needs_manual_grade
        for name, details in notebooks.items() if isinstance(details, dict)
        for grade_id in details.get("written") or {}
    )


def _late_note(saved: object) -> str:
    try:
        return Lateness(**saved).note() if isinstance(saved, dict) else ""
    except TypeError:  # a record from another version
        return ""


def _write_notebooks(course: Course, assignment: str, outcome: Outcome) -> Path:
    final = course.folder("autograded") / outcome.student / assignment
    partial = final.with_name(final.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    for name, result in outcome.notebooks.items():
        (partial / name).write_text(result.notebook, encoding="utf-8")
    # nbgrader's files about the submission go along, as `nbgrader autograde` copies them,
    # and `generate_feedback` copies them on to feedback/: the time, and the secret from
    # `nbgrader submit` that keys the page's name in the exchange (`release_feedback`).
    submitted = course.folder("submitted") / outcome.student / assignment
    for name in ("timestamp.txt", "submission_secret.txt"):
        if (submitted / name).is_file():
            shutil.copy(submitted / name, partial / name)
    shutil.rmtree(final, ignore_errors=True)
    partial.rename(final)
    return final


def _save_scores(course: Course, assignment: str, outcome: Outcome) -> tuple[float, str]:
    """Scores and submission time into the gradebook: (max score, why the time is unknown)."""
    student = outcome.student
    # The time in timestamp.txt, or none (absent, or unusable: then no penalty, and why).
    stamp, problem = read_timestamp(course.folder("submitted") / student / assignment,
                                    course.config.Exchange.get("timezone"))
    with course.gradebook() as gb:
        gb.update_or_create_student(student)
        submission = gb.update_or_create_submission(assignment, student, timestamp=stamp)
        for name, result in outcome.notebooks.items():
            notebook = Path(name).stem
            for grade_id, cell in result.cells.items():
                grade = gb.find_grade(grade_id, notebook, assignment, student)
                changed = grade.auto_score != cell.points
                grade.auto_score = cell.points
                # The column defaults to True. A cell waits for the instructor only without a
                # score, or when a score set by hand overrides a verdict that changed (a
                # regrade of the same answers leaves a resolved override resolved).
                grade.needs_manual_grade = grade.auto_score is None or (
                    grade.manual_score is not None and (changed or grade.needs_manual_grade))
        gb.db.commit()
        return float(submission.max_score), problem


def _save_penalty(course: Course, assignment: str, outcome: Outcome, problem: str) -> Lateness:
    """nbgrader's ``AssignLatePenalties`` on the score just saved (tests and written answers
    as they stand: a written answer graded later does not change the penalty until the next
    ``grade --force``, as with ``nbgrader autograde``)."""
    lateness = apply_penalties(course.db_url, course.config, assignment, outcome.student,
                               [Path(name).stem for name in outcome.notebooks])
    return dataclasses.replace(lateness, problem=problem) if problem else lateness


def _answers_before(course: Course, assignment: str, outcome: Outcome
                    ) -> dict[tuple[str, str], str]:
    """The written answers of the previous grading of this submission, if any."""
    final = course.folder("autograded") / outcome.student / assignment
    before = {}
    for name, result in outcome.notebooks.items():
        try:
            nb = nbformat.read(final / name, as_version=4)
        except Exception:  # noqa: BLE001 - none, or unreadable: nothing to compare with
            continue
        for cell in nb.cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if grade_id in result.written:
                before[(name, grade_id)] = cell.source
    return before


def _save_written(course: Course, assignment: str, outcome: Outcome,
                  before: dict[tuple[str, str], str]) -> tuple[float, int]:
    """The written answers' state in the gradebook: (their points, how many to grade)."""
    student, points, to_grade = outcome.student, 0.0, 0
    with course.gradebook() as gb:
        for name, result in outcome.notebooks.items():
            now = {c.metadata.get("nbgrader", {}).get("grade_id"): c.source
                   for c in result.graded_notebook().cells}
            for grade_id, cell in result.written.items():
                notebook = Path(name).stem
                grade = gb.find_grade(grade_id, notebook, assignment, student)
                changed = before.get((name, grade_id), now.get(grade_id)) != now.get(grade_id)
                grade.auto_score = None if cell.answered else 0.0
                grade.needs_manual_grade = (
                    (cell.answered and grade.manual_score is None)
                    or (grade.manual_score is not None and changed)
                )
                comment = gb.find_comment(grade_id, notebook, assignment, student)
                comment.auto_comment = None if cell.answered else "No response."
                points += cell.max_points
                to_grade += grade.needs_manual_grade
        gb.db.commit()
    return points, to_grade


def record(course: Course, assignment: str, outcome: Outcome,
           info: dict[str, Any]) -> GradeResult:
    """Write one worker's outcome; returns the student's summary."""
    if outcome.error:
        return GradeResult(outcome.student, None, None, outcome.seconds, "failed", outcome.error)
    before = _answers_before(course, assignment, outcome)
    final = _write_notebooks(course, assignment, outcome)
    max_score, time_problem = _save_scores(course, assignment, outcome)
    written_max, to_grade = _save_written(course, assignment, outcome, before)
    lateness = _save_penalty(course, assignment, outcome, time_problem)
    notebooks = outcome.notebooks.values()
    reasons = [r.reason for r in notebooks if r.reason]
    tests = outcome.tests
    result = GradeResult(outcome.student, lateness.score_after, max_score, outcome.seconds,
                         "graded", "; ".join(reasons), lateness.note(),
                         auto_score=sum(c.points for c in tests),
                         auto_max=sum(c.max_points for c in tests),
                         written_max=written_max, to_grade=to_grade)
    saved = {**dataclasses.asdict(result), **info, "late": dataclasses.asdict(lateness),
             "device": outcome.device or info.get("device", ""), "worker": outcome.worker,
             "notebooks": {name: r.details() for name, r in outcome.notebooks.items()},
             "kernel_seconds": sum(r.kernel_seconds for r in notebooks),
             "cells_seconds": sum(r.cells_seconds for r in notebooks),
             "peak_rss_mb": max((r.peak_mb for r in notebooks), default=0.0),
             "worker_rss_mb": outcome.worker_mb, "slot": outcome.slot}
    tmp = final / (RECORD + ".tmp")
    tmp.write_text(json.dumps(saved, indent=2, default=str))
    tmp.replace(final / RECORD)
    return result
