"""``python -m autograder``: build, validate, collect, grade, feedback, export, report, demo,
publish.

Every subcommand works on one course root (``--root``, default: the current folder), the
folder with ``nbgrader_config.py`` and ``source/``. Exit status: 0 done, 1 something to
look at (a failed check or submission; the output says which), 2 a usage error.
"""

from __future__ import annotations

import argparse
import sys
import textwrap
import warnings
from pathlib import Path

from autograder.course import Course, CourseError
from autograder.names import UnsafeStudentId, check_student_id

__all__ = ["main"]


def _student_id(name: str) -> str:
    """``--student``'s type: a safe student id (autograder/names.py), else a usage error."""
    try:
        return check_student_id(name)
    except UnsafeStudentId as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def _assignments(course: Course, name: str | None) -> list[str]:
    return [course.check_assignment(name)] if name else course.assignments()


def cmd_build(course: Course, args: argparse.Namespace) -> int:
    from autograder.grading import build

    for assignment in _assignments(course, args.assignment):
        notebooks = build(course, assignment)
        print(f"{assignment}: " + ", ".join(str(p.relative_to(course.root)) for p in notebooks))
    return 0


def cmd_validate(course: Course, args: argparse.Namespace) -> int:
    from autograder.validate import validate

    breaches = 0
    for assignment in _assignments(course, args.assignment):
        cell_rates = []
        checks = validate(course, assignment, progress=not args.no_progress,
                          robustness=args.robustness, min_pass_rate=args.min_pass_rate,
                          workers=args.workers, rates_out=cell_rates)
        breaches += sum(not c.ok for c in checks)
        print(f"{assignment}:")
        print("\n".join(c.line() for c in checks))
        if cell_rates:
            print(f"  pass rates over {args.robustness} perturbed random streams:")
            print("\n".join(f"    {r.line()}" for r in cell_rates))
    if breaches:
        print(f"validation FAILED: {breaches} checks did not pass", file=sys.stderr)
    return 1 if breaches else 0


def cmd_collect(course: Course, args: argparse.Namespace) -> int:
    from autograder.collect import collect

    result = collect(course, Path(args.path), pattern=args.pattern, update=args.update,
                     times_from_zip=args.times_from_zip)
    for rel, _student, dest in result.placed:
        print(f"{rel} -> {dest.relative_to(course.root)}")
    for note in result.notes:
        print(note)
    for rel, reason in result.unplaced:
        print(f"could not place {rel}: {reason}", file=sys.stderr)
    print(
        f"collected {len(result.placed)} files from {len(result.students)} students; "
        f"{len(result.unplaced)} not placed"
    )
    return 1 if result.unplaced else 0


def cmd_grade(course: Course, args: argparse.Namespace) -> int:
    from autograder.grading import describe_device, grade

    where = f"the Dask cluster at {args.scheduler}" if args.scheduler else describe_device()
    print(f"grading {args.assignment} on {where}")
    results = grade(
        course,
        args.assignment,
        students=args.student or None,
        force=args.force,
        progress=not args.no_progress,
        workers=args.workers,
        unsafe=args.unsafe,
        timeout=args.timeout,
        scheduler=args.scheduler,
    )
    if args.no_progress:
        print("\n".join(r.line() for r in results))
    failed = [r for r in results if r.status == "failed"]
    print(f"{len(results) - len(failed)} graded, {len(failed)} failed; scores in {course.db_url}")
    to_grade = sum(r.to_grade for r in results)
    if to_grade:
        print(f"{to_grade} written answers of {sum(r.to_grade > 0 for r in results)} students "
              "need manual grading: formgrader (nbgrader formgrader), Manual Grading; their "
              "points count once graded there")
    return 1 if failed else 0


def cmd_feedback(course: Course, args: argparse.Namespace) -> int:
    from autograder.grading import feedback

    written, failed = feedback(
        course, course.check_assignment(args.assignment), students=args.student or None
    )
    for path in written:
        print(path.relative_to(course.root))
    for line in failed:
        print(f"feedback failed for {line}", file=sys.stderr)
    return 1 if failed else 0


def cmd_export(course: Course, args: argparse.Namespace) -> int:
    from autograder.export import PerCellCsvExportPlugin

    dest = Path(args.to) if Path(args.to).is_absolute() else course.root / args.to
    plugin = PerCellCsvExportPlugin(
        to=str(dest), assignment=args.assignment or [], parent=course.api()
    )
    from autograder.report import ungraded_answers

    with course.gradebook() as gb:
        plugin.export(gb)
        pending = sum(ungraded_answers(gb, a) for a in
                      (args.assignment or [a.name for a in gb.assignments]))
    print(f"per-student, per-test-cell points written to {dest}")
    if pending:
        print(f"{pending} written answers are not graded yet: empty in the CSV and 0 in the "
              "totals until graded (formgrader, Manual Grading)")
    return 0


def cmd_report(course: Course, args: argparse.Namespace) -> int:
    from autograder.report import report

    out = Path(args.out) if Path(args.out).is_absolute() else course.root / args.out
    with course.gradebook() as gb:
        table, pngs, summaries = report(gb, out)
    print(table)
    print()
    print("\n".join(summaries))
    print("\n".join(f"histogram: {p}" for p in pngs))
    return 0


def cmd_demo(course: Course, args: argparse.Namespace) -> int:
    from autograder.demo import run_demo

    return run_demo(course, progress=not args.no_progress)


def cmd_publish(course: Course, args: argparse.Namespace) -> int:
    from autograder.publish import LeakError, publish

    try:
        edition = publish(course, args.dest, force=args.force)
    except LeakError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    for note in edition.notes:
        print(f"note: {note}")
    print(f"student edition written to {edition.dest}: {len(edition.lectures)} lectures, "
          f"{len(edition.assignments)} assignments ({', '.join(edition.assignments)}), "
          f"{len(edition.files)} files; students run `make lab` there")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m autograder",
        description="cnn-course's grading pipeline on nbgrader: build the student versions, "
        "validate them, collect submissions, grade, write feedback, export and report.",
    )
    parser.add_argument(
        "--root",
        default=".",
        help="course root with nbgrader_config.py and source/ (default: the current folder)",
    )
    parser.add_argument(
        "--db",
        metavar="URL",
        help="gradebook database URL (default: sqlite:///<root>/gradebook.db)",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, func, help: str, epilog: str | None = None) -> argparse.ArgumentParser:
        raw = {"formatter_class": argparse.RawDescriptionHelpFormatter} if epilog else {}
        p = sub.add_parser(name, help=help, description=textwrap.fill(help), epilog=epilog,
                           **raw)
        p.set_defaults(func=func)
        return p

    p = add("build", cmd_build, "generate the student versions into release/")
    p.add_argument("assignment", nargs="?", help="one assignment (default: all in source/)")
    p = add(
        "validate",
        cmd_validate,
        "check that solutions score full marks, stubs score "
        "zero, grade cells have unique ids and points, and every task has hidden tests",
    )
    p.add_argument("assignment", nargs="?", help="one assignment (default: all in source/)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.add_argument("--robustness", type=int, default=0, metavar="N",
                   help="also grade the solution N times under perturbed random streams "
                   "(every solution function reseeds Python's, NumPy's and PyTorch's "
                   "generators) and print each test's pass rate (default: 0, off)")
    from autograder.validate import DEFAULT_MIN_PASS_RATE

    p.add_argument("--min-pass-rate", type=float, default=DEFAULT_MIN_PASS_RATE,
                   metavar="RATE", help="with --robustness: fail when a test passes fewer "
                   "of the runs than this fraction (default: %(default)s)")
    p.add_argument("--workers", type=int, default=None,
                   help="submissions graded at once (default: the number of cores)")
    p = add(
        "collect",
        cmd_collect,
        "bring submissions from a folder or an LMS zip into "
        "submitted/<student>/<assignment>/ and register the students",
    )
    p.add_argument("path", help="a folder of notebooks or an LMS download .zip")
    from autograder.collect import DEFAULT_PATTERN

    p.add_argument(
        "--pattern",
        default=DEFAULT_PATTERN,
        help="regular expression with groups "
        "student_id and file_id for file names (default: %(default)s)",
    )
    p.add_argument("--update", action="store_true", help="replace submissions collected before")
    p.add_argument("--times-from-zip", metavar="TZ", default=None,
                   help="read each zip entry's recorded time as the submission time, in this "
                   "time zone (e.g. Europe/Berlin), and write it to timestamp.txt for late "
                   "penalties; check one against your LMS first (default: no times)")
    from autograder.limits import options_help

    p = add("grade", cmd_grade, "autograde every student folder under submitted/, each in a "
            "sandbox, several at a time; the gradebook is written by this process only",
            epilog=options_help())
    p.add_argument("assignment")
    p.add_argument("--student", action="append", type=_student_id,
                   help="only this student (repeatable)")
    p.add_argument("--force", action="store_true", help="regrade submissions graded before")
    p.add_argument("--workers", type=int, default=None,
                   help="submissions graded at once (default: the number of cores)")
    p.add_argument("--timeout", type=int, default=None,
                   help="seconds per cell (default: c.GradingLimits.cell_timeout_s)")
    p.add_argument("--scheduler", metavar="tcp://HOST:PORT", default=None,
                   help="grade on this Dask scheduler's workers (default: "
                   "c.ClusterGrading.scheduler, else this machine); see README, Grading on a "
                   "cluster")
    p.add_argument("--unsafe", action="store_true",
                   help="grade without a sandbox where none can be made: students' code then "
                   "runs with your privileges and can read the hidden tests and the gradebook")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p = add(
        "feedback",
        cmd_feedback,
        "HTML feedback per student (failing checks' messages, never hidden test code)",
    )
    p.add_argument("assignment")
    p.add_argument("--student", action="append", type=_student_id,
                   help="only this student (repeatable)")
    p = add("export", cmd_export, "CSV of per-student, per-test-cell points and totals")
    p.add_argument("--to", default="grades.csv", help="output file (default: %(default)s)")
    p.add_argument("--assignment", action="append", help="only this assignment (repeatable)")
    p = add("report", cmd_report, "summary table and a score histogram (PNG) per assignment")
    p.add_argument("--out", default="reports", help="folder for the PNGs (default: %(default)s)")
    p = add(
        "demo",
        cmd_demo,
        "the whole pipeline on the bundled example submissions, in a "
        "scratch copy of the course (demo_course/)",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p = add("publish", cmd_publish, "write the student edition (lectures, released assignments, "
            "cnnkit, a student README and Makefile) to DEST, outside the course; never "
            "source/, solutions, hidden tests or gradebooks")
    p.add_argument("dest", metavar="DEST", help="a new or empty folder outside the course root")
    p.add_argument("--force", action="store_true", help="replace an earlier edition in DEST: "
                   "only its own unchanged files; .git/ and files it did not write stay")
    return parser


def main(argv: list[str] | None = None) -> int:
    from sqlalchemy.exc import SAWarning

    # nbgrader 0.9.6's gradebook warns on every submission about its own session handling.
    warnings.filterwarnings("ignore", category=SAWarning)
    args = _parser().parse_args(argv)
    try:
        course = Course(args.root, db_url=args.db)
        return args.func(course, args)
    except (CourseError, FileNotFoundError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
