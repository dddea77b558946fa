"""``build``, ``grade`` and ``feedback``.

``build`` and ``feedback`` call nbgrader's Python API. ``grade`` is our own pipeline around
nbgrader's gradebook (why: plain ``nbgrader autograde`` runs students' code with the
grader's privileges, in the kernel that also decides the tests, and one malformed notebook
stops a batch): submissions run in sandboxes, in parallel workers
(``autograder/worker.py``) on this machine (``autograder/plan.py``) or on a Dask cluster
(``autograder/cluster.py``), tests are decided outside the sandbox from observations
(``autograder/observations.py``), and one process writes the gradebook
(``autograder/record.py``). What travels between them is typed (``autograder/tasks.py``).
"""

from __future__ import annotations

import contextlib
import re
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

from tqdm.auto import tqdm

from autograder.cluster import ClusterGrading
from autograder.course import Course, CourseError
from autograder.late import sync_due_dates
from autograder.names import UnsafeStudentId, check_student_id, student_id_problem
from autograder.plan import LocalPool, Plan, Pool
from autograder.record import GradeResult, already_graded, record
from autograder.sandbox import Limits, SandboxUnavailable, check, describe_device

_ANSI = re.compile(r"\x1b\[[0-9;]*m")

__all__ = ["GradeResult", "build", "describe_device", "feedback", "grade", "scores"]


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
    with course.gradebook() as gb:  # the due date of nbgrader_config.py's CourseDeadlines
        sync_due_dates(gb, course.config, [assignment])
    return course.released_notebooks(assignment)


def scores(course: Course, assignment: str, student: str) -> tuple[float, float]:
    """``(score, max_score)`` of one submission from the gradebook."""
    with course.gradebook() as gb:
        submission = gb.find_submission(assignment, student)
        return float(submission.score), float(submission.max_score)


def grade(
    course: Course,
    assignment: str,
    *,
    students: list[str] | None = None,
    force: bool = False,
    progress: bool = True,
    workers: int | None = None,
    unsafe: bool = False,
    timeout: int | None = None,
    limits: Limits | None = None,
    scheduler: str | None = None,
) -> list[GradeResult]:
    """Autograde every ``submitted/<student>/<assignment>/`` folder (or ``students``).

    Each submission runs in its own sandbox (``autograder/sandbox.py``), ``workers`` at a
    time on this machine, or on the Dask cluster at ``scheduler`` (``autograder/cluster.py``;
    default: ``c.ClusterGrading.scheduler``); this process alone writes the gradebook, one
    finished student at a time, so a batch that is stopped can be run again and goes on
    where it stopped.
    """
    course.check_assignment(assignment)
    if not course.released_notebooks(assignment):
        raise CourseError(
            f"{assignment} has not been built; run: python -m autograder build {assignment}"
        )
    cluster = ClusterGrading(config=course.config)
    scheduler = scheduler if scheduler is not None else cluster.scheduler
    if scheduler and unsafe:
        raise CourseError("--unsafe grades on this machine only; a Dask cluster always "
                          "grades in the sandbox")
    sandbox_line = (_sandbox_or_refuse(unsafe, limits) if not scheduler else
                    "bubblewrap sandbox on every Dask worker (checked when it joins)")
    with course.gradebook() as gb:  # late penalties count from the configured due date
        changed = sync_due_dates(gb, course.config, [assignment])
    if changed and not force and any(course.folder("autograded").glob(f"*/{assignment}")):
        print(f"warning: {changed[0]}; students graded before keep their late penalty until "
              "regraded with --force", file=sys.stderr)
    todo = students if students is not None else course.submitted_students(assignment)
    try:  # names from Python callers too; the command line checked --student already
        todo = [check_student_id(s) for s in todo]
    except UnsafeStudentId as exc:
        raise CourseError(str(exc)) from None
    results, pending = [], []
    for student in todo:
        done = None if force else already_graded(course, assignment, student)
        if done is not None:
            results.append(done)
        else:
            pending.append(student)
    if not pending:
        return results
    plan = Plan.make(course, assignment, workers=workers, unsafe=unsafe, timeout=timeout,
                     limits=limits, sandbox=sandbox_line)
    with _pool(plan, scheduler, assignment in cluster.gpu_assignments,
               cluster.connect_timeout_s) as pool:
        bundle = plan.bundle(pool)
        jobs = [plan.job(s, bundle) for s in pending]
        bar = tqdm(total=len(jobs), desc=f"grading {assignment}", unit="student",
                   disable=not progress)
        for _job, outcome in pool.run(jobs, bundle):
            graded = record(course, assignment, outcome,
                            {**plan.info, "pool": pool.description})
            results.append(graded)
            bar.update()
            if progress:
                tqdm.write(graded.line())
        bar.close()
    order = {s: i for i, s in enumerate(todo)}
    return sorted(results, key=lambda r: order.get(r.student, len(order)))


@contextlib.contextmanager
def _pool(plan: Plan, scheduler: str, wants_gpu: bool, timeout_s: float) -> Iterator[Pool]:
    if not scheduler:
        with LocalPool.open(plan.config, plan.workers) as pool:
            yield pool
        return
    from autograder.cluster import DaskPool  # imports distributed: only when asked for

    pool = DaskPool(scheduler, replace(plan.config, threads=1), wants_gpu=wants_gpu,
                    connect_timeout=timeout_s)
    try:
        yield pool
    finally:
        pool.close()


def _sandbox_or_refuse(unsafe: bool, limits: Limits | None) -> str:
    if unsafe:
        return "none (--unsafe: students' code ran with the grader's privileges)"
    try:
        return check(limits)
    except SandboxUnavailable as exc:
        raise CourseError(
            f"refusing to grade without a sandbox: {exc}. Fix that, or pass --unsafe to run "
            "the students' code with your own privileges (only for code you trust)"
        ) from None


def feedback(
    course: Course, assignment: str, *, students: list[str] | None = None
) -> tuple[list[Path], list[str]]:
    """HTML feedback per graded student; returns the files written and any failures."""
    course.check_assignment(assignment)
    graded = course.folder("autograded")
    if students is None:
        students = sorted(p.parent.name for p in graded.glob(f"*/{assignment}")
                          if p.is_dir() and not p.parent.is_symlink()
                          and student_id_problem(p.parent.name) is None)
    try:
        students = [check_student_id(s) for s in students]
    except UnsafeStudentId as exc:
        raise CourseError(str(exc)) from None
    api, written, failed = course.api(), [], []
    for student in students:
        result = api.generate_feedback(assignment, student, force=True)
        if not result["success"]:
            failed.append(f"{student}: {_first_error(result)}")
            continue
        written += sorted((course.folder("feedback") / student / assignment).glob("*.html"))
    return written, failed
