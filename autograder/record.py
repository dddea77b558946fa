"""The single writer: one finished submission into ``autograded/`` and the gradebook.

Order, so that a grader killed at any moment loses nothing and duplicates nothing:
1. the graded notebooks go to ``autograded/<student>/<assignment>.partial/``, which then
   replaces ``autograded/<student>/<assignment>/`` (a stale ``.partial`` is just removed);
2. the gradebook gets the scores (nbgrader's ``update_or_create_*``: a second write of the
   same submission updates it, never adds another); manual scores are not touched;
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

    def line(self) -> str:
        if self.status == "failed":
            return f"{self.student:<16} FAILED  {self.reason}"
        pct = 100 * self.score / self.max_score if self.max_score else 0.0
        note = "  (already graded; --force regrades)" if self.status == "skipped" else ""
        why = f"  ({self.reason})" if self.reason and self.status == "graded" else ""
        return (
            f"{self.student:<16} {self.score:6.1f} / {self.max_score:<5.1f} {pct:5.1f}%  "
            f"{self.seconds:5.1f} s{note}{why}"
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
            score, max_score = float(submission.score), float(submission.max_score)
    except MissingEntry:
        return None
    return GradeResult(student, score, max_score, 0.0, "skipped", saved.get("reason", ""))


def _timestamp(course: Course, assignment: str, student: str) -> str | None:
    path = course.folder("submitted") / student / assignment / "timestamp.txt"
    try:
        text = path.read_text().strip()
    except OSError:
        return None
    return text or None


def _write_notebooks(course: Course, assignment: str, outcome: dict[str, Any]) -> Path:
    final = course.folder("autograded") / outcome["student"] / assignment
    partial = final.with_name(final.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    for name, result in outcome["notebooks"].items():
        nbformat.write(result["notebook"], partial / name)
    # nbgrader's files about the submission go along, as `nbgrader autograde` copies them,
    # and `generate_feedback` copies them on to feedback/: the time, and the secret from
    # `nbgrader submit` that keys the page's name in the exchange (`release_feedback`).
    submitted = course.folder("submitted") / outcome["student"] / assignment
    for name in ("timestamp.txt", "submission_secret.txt"):
        if (submitted / name).is_file():
            shutil.copy(submitted / name, partial / name)
    shutil.rmtree(final, ignore_errors=True)
    partial.rename(final)
    return final


def _save_scores(course: Course, assignment: str, outcome: dict[str, Any]) -> tuple[float, float]:
    student = outcome["student"]
    with course.gradebook() as gb:
        gb.update_or_create_student(student)
        stamp = _timestamp(course, assignment, student)
        kwargs = {"timestamp": stamp} if stamp else {}
        submission = gb.update_or_create_submission(assignment, student, **kwargs)
        for name, result in outcome["notebooks"].items():
            notebook = Path(name).stem
            for grade_id, cell in result["cells"].items():
                grade = gb.find_grade(grade_id, notebook, assignment, student)
                grade.auto_score = cell["points"]
                # as nbgrader's SaveAutoGrades (the column defaults to True): only a cell
                # without a score, or with a manual one to review, waits for the instructor
                grade.needs_manual_grade = (grade.auto_score is None
                                            or grade.manual_score is not None)
        gb.db.commit()
        return float(submission.score), float(submission.max_score)


def record(course: Course, assignment: str, outcome: dict[str, Any],
           info: dict[str, Any]) -> GradeResult:
    """Write one worker's outcome; returns the student's summary."""
    student, seconds = outcome["student"], outcome.get("seconds", 0.0)
    if outcome.get("error"):
        return GradeResult(student, None, None, seconds, "failed", outcome["error"])
    final = _write_notebooks(course, assignment, outcome)
    score, max_score = _save_scores(course, assignment, outcome)
    reasons = [r["reason"] for r in outcome["notebooks"].values() if r["reason"]]
    result = GradeResult(student, score, max_score, seconds, "graded", "; ".join(reasons))
    details = {
        name: {k: v for k, v in r.items() if k != "notebook"}
        for name, r in outcome["notebooks"].items()
    }
    saved = {**dataclasses.asdict(result), **info, "notebooks": details,
             "kernel_seconds": sum(r["kernel_seconds"] for r in outcome["notebooks"].values()),
             "cells_seconds": sum(r["cells_seconds"] for r in outcome["notebooks"].values()),
             "peak_rss_mb": max((r["peak_mb"] for r in outcome["notebooks"].values()),
                                default=0.0),
             "worker_rss_mb": outcome.get("worker_mb"), "slot": outcome.get("slot")}
    tmp = final / (RECORD + ".tmp")
    tmp.write_text(json.dumps(saved, indent=2, default=str))
    tmp.replace(final / RECORD)
    return result
