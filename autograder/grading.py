"""``build``, ``grade`` and ``feedback``: nbgrader's converters, one student at a time.

Each step calls nbgrader's Python API (:class:`nbgrader.apps.NbGraderAPI`), which runs
nbgrader's own preprocessor pipelines and writes the gradebook. Around it we add what an
instructor needs on a batch: a progress bar, one summary line per student, the device
the tests ran on, and a batch that goes on when one submission fails.
"""

from __future__ import annotations

import dataclasses
import json
import re
import time
from pathlib import Path

from nbgrader.api import MissingEntry
from tqdm.auto import tqdm

from autograder.course import Course, CourseError

_ANSI = re.compile(r"\x1b\[[0-9;]*m")

__all__ = ["GradeResult", "build", "describe_device", "feedback", "grade", "scores"]


def describe_device() -> str:
    """Where the test cells run: the GPU's name if CUDA is available, else the CPU's model."""
    import torch

    if torch.cuda.is_available():
        return f"cuda ({torch.cuda.get_device_name(0)})"
    model = "cpu"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = f"cpu ({line.split(':', 1)[1].strip()})"
                break
    except OSError:
        pass
    return model


_ERROR_LINE = re.compile(r"\b(\w+(?:Error|Exception|Timeout)\b: .+)")


def _first_error(result: dict) -> str:
    """The most telling line of a failed nbgrader call: its innermost error message."""
    text = _ANSI.sub("", (result.get("error") or "") + "\n" + (result.get("log") or ""))
    found = [
        m.group(1).strip()
        for m in _ERROR_LINE.finditer(text)
        if not m.group(1).startswith("NbGraderException")
    ]
    if found:
        return found[0][:300]
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return (lines[-1] if lines else "nbgrader failed without a message")[:300]


def build(course: Course, assignment: str) -> list[Path]:
    """Generate the student version of ``assignment`` into ``release/``; returns its notebooks."""
    course.check_assignment(assignment)
    result = course.api().generate_assignment(assignment, force=True, create=True)
    if not result["success"]:
        raise CourseError(f"could not build {assignment}: {_first_error(result)}")
    return course.released_notebooks(assignment)


def scores(course: Course, assignment: str, student: str) -> tuple[float, float]:
    """``(score, max_score)`` of one submission from the gradebook."""
    with course.gradebook() as gb:
        submission = gb.find_submission(assignment, student)
        return float(submission.score), float(submission.max_score)


@dataclasses.dataclass
class GradeResult:
    student: str
    score: float | None
    max_score: float | None
    seconds: float
    status: str  # "graded", "skipped" or "failed"
    reason: str = ""

    def line(self) -> str:
        if self.status == "failed":
            return f"{self.student:<16} FAILED  {self.reason}"
        pct = 100 * self.score / self.max_score if self.max_score else 0.0
        note = "  (already graded; --force regrades)" if self.status == "skipped" else ""
        return (
            f"{self.student:<16} {self.score:6.1f} / {self.max_score:<5.1f} {pct:5.1f}%  "
            f"{self.seconds:5.1f} s{note}"
        )


def _already_graded(course: Course, assignment: str, student: str) -> bool:
    if not (course.folder("autograded") / student / assignment).is_dir():
        return False
    try:
        with course.gradebook() as gb:
            gb.find_submission(assignment, student)
    except MissingEntry:
        return False
    return True


def grade(
    course: Course,
    assignment: str,
    *,
    students: list[str] | None = None,
    force: bool = False,
    progress: bool = True,
) -> list[GradeResult]:
    """Autograde every ``submitted/<student>/<assignment>/`` folder (or ``students``)."""
    course.check_assignment(assignment)
    if not course.released_notebooks(assignment):
        raise CourseError(
            f"{assignment} has not been built; run: python -m autograder build {assignment}"
        )
    todo = students if students is not None else course.submitted_students(assignment)
    device = describe_device()
    api = course.api()
    results = []
    bar = tqdm(todo, desc=f"grading {assignment}", unit="student", disable=not progress)
    for student in bar:
        bar.set_postfix_str(student)
        start = time.perf_counter()
        if not force and _already_graded(course, assignment, student):
            score, max_score = scores(course, assignment, student)
            results.append(GradeResult(student, score, max_score, 0.0, "skipped"))
            continue
        result = api.autograde(assignment, student, force=True, create=True)
        seconds = time.perf_counter() - start
        if result["success"]:
            score, max_score = scores(course, assignment, student)
            graded = GradeResult(student, score, max_score, seconds, "graded")
        else:
            graded = GradeResult(student, None, None, seconds, "failed", _first_error(result))
        record = course.folder("autograded") / student / assignment / "grading.json"
        if record.parent.is_dir():
            record.write_text(
                json.dumps({**dataclasses.asdict(graded), "device": device}, indent=2)
            )
        results.append(graded)
        if progress:
            tqdm.write(graded.line())
    return results


def feedback(
    course: Course, assignment: str, *, students: list[str] | None = None
) -> tuple[list[Path], list[str]]:
    """HTML feedback per graded student; returns the files written and any failures."""
    course.check_assignment(assignment)
    graded = course.folder("autograded")
    if students is None:
        students = sorted(p.parent.name for p in graded.glob(f"*/{assignment}") if p.is_dir())
    api, written, failed = course.api(), [], []
    for student in students:
        result = api.generate_feedback(assignment, student, force=True)
        if not result["success"]:
            failed.append(f"{student}: {_first_error(result)}")
            continue
        written += sorted((course.folder("feedback") / student / assignment).glob("*.html"))
    return written, failed
