"""``demo``: the whole pipeline on the bundled example submissions (``make demo``).

It runs in a scratch copy of the course, ``demo_course/`` beside ``source/`` (git-ignored),
so a real gradebook at the course root is never touched. Steps, in order (each needs the
one before): build the student versions, validate them, write the examples' submissions
into an LMS-style zip, collect it, grade, write feedback, export the per-cell CSV, and
report (table + histograms).
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from autograder.collect import collect
from autograder.course import Course
from autograder.export import PerCellCsvExportPlugin
from autograder.grading import build, describe_device, feedback, grade
from autograder.report import report
from autograder.submissions import write_lms_zip
from autograder.validate import validate

__all__ = ["DEMO_FOLDER", "make_demo_course", "run_demo"]

DEMO_FOLDER = "demo_course"


def make_demo_course(course: Course, dest: Path) -> Course:
    """A fresh copy of the course's configuration and sources at ``dest``."""
    if dest.exists():
        shutil.rmtree(dest)
    return course.copy_to(dest)


def run_demo(course: Course, *, progress: bool = True, out=print) -> int:
    start = time.perf_counter()
    demo = make_demo_course(course, course.root / DEMO_FOLDER)
    assignments = demo.assignments()
    out(f"demo course: {demo.root}  (device: {describe_device()})")

    out("\n1. build: student versions into release/")
    for assignment in assignments:
        notebooks = build(demo, assignment)
        out(f"  {assignment}: {', '.join(str(p.relative_to(demo.root)) for p in notebooks)}")

    out("\n2. validate: solutions score full marks on the tests, stubs score zero")
    breaches = 0
    for assignment in assignments:
        checks = validate(demo, assignment)
        breaches += sum(not c.ok for c in checks)
        out(f"  {assignment}: {sum(c.ok for c in checks)}/{len(checks)} checks pass")
        for check in checks:
            if not check.ok:
                out(check.line())
    if breaches:
        out(f"validation failed ({breaches} checks); stopping")
        return 1

    out("\n3. collect: the example students' submissions, as an LMS download zip")
    archive = demo.root / "downloaded" / "lms_download.zip"
    entries = write_lms_zip(demo.folder("release"), assignments, archive)
    collected = collect(demo, archive)
    out(
        f"  {len(entries)} files in {archive.relative_to(demo.root)}: "
        f"placed {len(collected.placed)}, "
        f"students {', '.join(sorted(collected.students))}"
    )
    for rel, reason in collected.unplaced:
        out(f"  could not place {rel}: {reason}")

    out("\n4. grade")
    failures = to_grade = 0
    for assignment in assignments:
        results = grade(demo, assignment, progress=progress)
        failures += sum(r.status == "failed" for r in results)
        to_grade += sum(r.to_grade for r in results)
        if not progress:
            for r in results:
                out(f"  {assignment} {r.line()}")

    out("\n5. feedback")
    for assignment in assignments:
        written, failed = feedback(demo, assignment)
        out(
            f"  {assignment}: {len(written)} HTML files in "
            f"{(demo.folder('feedback')).relative_to(demo.root)}/<student>/{assignment}/"
        )
        failures += len(failed)
        for line in failed:
            out(f"  feedback failed: {line}")

    out("\n6. export and report")
    grades_csv = demo.root / "grades.csv"
    plugin = PerCellCsvExportPlugin(to=str(grades_csv), parent=demo.api())
    with demo.gradebook() as gb:
        plugin.export(gb)
        table, pngs, summaries = report(gb, demo.root / "reports")
    out(f"  per-cell grades: {grades_csv}")
    if to_grade:
        out(f"  {to_grade} written answers need manual grading (nbgrader formgrader, Manual "
            "Grading); until then they are empty in the CSV and count 0 in the totals")
    for png in pngs:
        out(f"  histogram: {png}")
    for line in summaries:
        out(f"  {line}")
    out("\ngradebook (" + demo.db_url + "):\n" + table)
    out(f"\nfeedback: {demo.folder('feedback')}/<student>/<assignment>/<notebook>.html")
    out(
        f"demo finished in {time.perf_counter() - start:.0f} s"
        + (f" with {failures} failures" if failures else "")
    )
    return 1 if failures else 0
