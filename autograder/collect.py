"""``collect PATH``: submissions from a folder or an LMS zip into nbgrader's layout.

nbgrader grades ``submitted/<student>/<assignment>/<notebook>.ipynb``. Learning
management systems hand out one zip (or folder) of files named after the student, e.g.
``alice_2_ps1_output_shapes.ipynb`` or ``alice_late_12345_ps1_output_shapes-1.ipynb``.
Each file name is matched with nbgrader's own :class:`FileNameCollectorPlugin`; the
notebook name tells the assignment. A folder may also be laid out as
``<student>/<notebook>.ipynb`` or ``<student>/<assignment>/<notebook>.ipynb``.

Every name and every file in a download is treated as hostile. This module decides what
an entry's name means and where it goes; :mod:`autograder.download` reads the download
(no links, devices, ``..`` or absolute paths, bounded sizes, no extraction to disk).
Guaranteed here:

- a student id is a safe name (:mod:`autograder.names`), and one that differs only in
  case from a student already in ``submitted/`` (or earlier in the download) is refused;
- a file byte-identical to one of the instructor's source notebooks is refused;
- nothing is written outside ``submitted/<student>/<assignment>/``: a link or a file where
  a folder belongs there is refused, never written through, the resolved destination is
  checked to lie inside, and a file is written whole or not at all.

Submission times: a student's file names and uploads are not evidence of when they
submitted (a ``timestamp.txt`` inside a download could be the student's own file, and is
not a notebook, so it is refused like any other). With ``times_from_zip=TZ`` (``collect
--times-from-zip Europe/Berlin``) each zip entry's recorded time, which the LMS wrote when
it made the download, is read as a time in ``TZ`` and written as nbgrader's
``submitted/<student>/<assignment>/timestamp.txt`` (UTC; the latest of the submission's
notebooks). Which time ``grade`` uses: that file, whoever wrote it (``nbgrader collect``,
this, or you). Whenever collect writes a submission's notebook, it also replaces that
file: with the zip's time, or, with no time to give, removes it (an earlier submission's
time must not date a new one) and says so in :attr:`Collected.notes`; a notebook that is
unchanged keeps its time. A file the LMS named late (Canvas: ``<student>_late_...``) with
no time to give is noted too: without a time no penalty applies.

Everything refused is listed in :attr:`Collected.unplaced` with its reason. Not
guaranteed: that a notebook's *content* is the student's own work, nor that it is valid
JSON (``grade`` scores a corrupt notebook 0 with that reason).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import os
import re
import stat
import tempfile
from pathlib import Path

from nbgrader.plugins import FileNameCollectorPlugin

from autograder.course import Course, CourseError
from autograder.download import CollectLimits, Entry, Refused, entries
from autograder.late import TIMESTAMP, LateWorkError, format_time, parse_time
from autograder.names import UnsafeStudentId, check_student_id

__all__ = ["DEFAULT_PATTERN", "CollectLimits", "Collected", "collect"]

# student id (anything up to the first "_": autograder/names.py then decides whether it is
# safe, and says why not), then LMS noise (late flag, numeric ids), then the notebook's own
# name, then an optional "-N" that LMSs append to a resubmitted file.
DEFAULT_PATTERN = (
    r"^(?P<student_id>[^_]+)_(?:late_)?(?:\d+_)*(?P<file_id>[A-Za-z0-9_]+?)"
    r"(?:-\d+)?\.ipynb$"
)


@dataclasses.dataclass
class Collected:
    """What ``collect`` did: files placed, files it could not place and why."""

    placed: list[tuple[str, str, Path]] = dataclasses.field(default_factory=list)
    unplaced: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    students: set[str] = dataclasses.field(default_factory=set)
    notes: list[str] = dataclasses.field(default_factory=list)  # submission times written


# -- placing one entry -----------------------------------------------------------------------

def _notebook_index(course: Course) -> dict[str, str]:
    """``{notebook name: assignment}`` over every assignment in ``source/``."""
    return {nb.stem: a for a in course.assignments() for nb in course.source_notebooks(a)}


def _source_digests(course: Course) -> dict[bytes, str]:
    """``{sha256: source notebook}``: the instructor's solutions, never a submission."""
    return {
        hashlib.sha256(nb.read_bytes()).digest(): str(nb.relative_to(course.root))
        for a in course.assignments() for nb in course.source_notebooks(a)
    }


def _student(name: str) -> str:
    try:
        return check_student_id(name)
    except UnsafeStudentId as err:
        raise Refused(str(err)) from None


def _place(
    parts: tuple[str, ...], index: dict[str, str], plugin: FileNameCollectorPlugin
) -> tuple[str, str, str]:
    """``(student, assignment, notebook)`` for one file; raises ``Refused`` with the reason."""
    name = parts[-1]
    stem = name.removesuffix(".ipynb")
    if stem == name:
        raise Refused("not a notebook")
    if len(parts) >= 2 and stem in index:  # <student>/[<assignment>/]<notebook>.ipynb
        if len(parts) > 3:
            raise Refused("too deep: expected <student>/<notebook>.ipynb or "
                           "<student>/<assignment>/<notebook>.ipynb")
        if len(parts) == 3 and parts[1] != index[stem]:
            raise Refused(
                f"folder {parts[1]!r} but notebook {stem!r} belongs to {index[stem]!r}"
            )
        return _student(parts[0]), index[stem], stem
    info = plugin.collect(name)
    if not info or not info.get("student_id") or not info.get("file_id"):
        raise Refused("file name does not match the pattern <student>_..._<notebook>.ipynb")
    student, notebook = _student(info["student_id"]), info["file_id"]
    # LMS noise and notebook names both use "_": try the longest known notebook suffix.
    for known in sorted(index, key=len, reverse=True):
        if notebook == known or notebook.endswith("_" + known):
            return student, index[known], known
    raise Refused(f"no assignment has a notebook named like {notebook!r}")


def _destination(course: Course, student: str, assignment: str, notebook: str) -> Path:
    """``submitted/<student>/<assignment>/<notebook>.ipynb``, checked: no link on the way."""
    submitted = course.folder("submitted")
    dest = submitted / student / assignment / f"{notebook}.ipynb"
    for path in (dest.parent.parent, dest.parent, dest):
        try:
            mode = os.lstat(path).st_mode
        except FileNotFoundError:
            break
        shown = path.relative_to(course.root)
        if stat.S_ISLNK(mode):
            raise Refused(f"{shown} is a symbolic link; collect never writes through a link "
                           "(remove it)")
        if path != dest and not stat.S_ISDIR(mode):
            raise Refused(f"{shown} exists and is not a folder")
        if path == dest and not stat.S_ISREG(mode):
            raise Refused(f"{shown} exists and is not a regular file")
    inside = Path(os.path.realpath(submitted)) / student / assignment
    if Path(os.path.realpath(dest.parent)) != inside:
        raise Refused(f"{dest} would lie outside submitted/{student}/{assignment}/")
    return dest


def _write(dest: Path, data: bytes) -> None:
    """Write ``dest`` whole or not at all; a link put there meanwhile is replaced, not followed."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=".collect-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
        umask = os.umask(0o022)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _existing(dest: Path) -> bytes | None:
    try:
        fd = os.open(dest, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    with os.fdopen(fd, "rb") as file:
        return file.read()


# Canvas names a file handed in after the due date "<student>_late_<ids>_<name>".
_LMS_LATE = re.compile(r"^[^_]+_late_")


def _zip_time(entry: Entry, zone: str | None) -> tuple[dt.datetime | None, str]:
    """``(UTC time, problem)`` of a zip entry read in ``zone``; ``(None, "")`` without a zone
    (or a problem, when the LMS's file name says the file was late)."""
    if zone is None:
        if _LMS_LATE.match(entry.parts[-1]):
            return None, ("the LMS marked it late but its time is not known: pass "
                          f"--times-from-zip TZ or write the time into {TIMESTAMP}, or no "
                          "late penalty applies")
        return None, ""
    if entry.zip_time is None:
        return None, "not from a zip"
    if entry.zip_time[:3] == (1980, 1, 1):  # the zip format's zero: no time was recorded
        return None, "its zip entry records no time"
    y, mo, d, h, mi, sec = entry.zip_time
    try:
        return parse_time(f"{y:04d}-{mo:02d}-{d:02d} {h:02d}:{mi:02d}:{sec:02d} {zone}",
                          what="zip entry time"), ""
    except LateWorkError as err:
        return None, str(err)


def _write_timestamps(course: Course, times: dict[Path, list], result: Collected) -> None:
    """Each written submission's ``timestamp.txt``: the latest known time, or none."""
    for folder, found in sorted(times.items()):
        shown = folder.relative_to(course.root)
        known = [t for t, _ in found if t is not None]
        stamp = folder / TIMESTAMP
        if known and len(known) == len(found):
            _write(stamp, (format_time(max(known)) + "\n").encode())
            result.notes.append(f"{shown}: submitted {format_time(max(known))}")
            continue
        problems = "; ".join(sorted({p for _, p in found if p}))
        if os.path.lexists(stamp):
            try:
                os.unlink(stamp)
            except OSError as err:
                result.unplaced.append((str(shown / TIMESTAMP), f"cannot be removed "
                                        f"({err.strerror}); remove it by hand"))
                continue
            result.notes.append(f"{shown}: removed {TIMESTAMP}, the time of the submission "
                                f"this replaced{f' ({problems})' if problems else ''}; write "
                                "the new time into it if it is known")
        elif problems:
            result.notes.append(f"{shown}: no submission time ({problems})")


def collect(
    course: Course,
    path: Path,
    *,
    pattern: str = DEFAULT_PATTERN,
    update: bool = False,
    limits: CollectLimits | None = None,
    times_from_zip: str | None = None,
) -> Collected:
    """Copy submissions from ``path`` into ``submitted/`` and register their students.

    Args:
        course: the course whose ``submitted/`` and gradebook receive the submissions.
        path: a folder or an LMS zip.
        pattern: regular expression with groups ``student_id`` and ``file_id`` for file
            names (nbgrader's ``FileNameCollectorPlugin.named_regexp``).
        update: replace a different submission collected before.
        limits: size bounds (default :class:`CollectLimits`).
        times_from_zip: a time zone (``"Europe/Berlin"``, ``"UTC"``): read each zip entry's
            recorded time in it and write it as the submission's ``timestamp.txt``.

    Raises:
        FileNotFoundError: ``path`` is neither a folder nor a zip file.
        CourseError: ``times_from_zip`` is not a known time zone.
    """
    if times_from_zip is not None:
        try:
            parse_time(f"2000-01-01 00:00:00 {times_from_zip}", what="--times-from-zip")
        except LateWorkError as err:
            raise CourseError(f"{err} (a zone name such as Europe/Berlin or UTC)") from None
    limits = limits or CollectLimits()
    index, solutions = _notebook_index(course), _source_digests(course)
    plugin = FileNameCollectorPlugin(named_regexp=pattern)
    submitted = course.folder("submitted")
    # Students by lower-cased id: "Alice" and "alice" would share a folder on a
    # case-insensitive file system (a copy of the course on a laptop).
    by_case = {s.lower(): s for s in (os.listdir(submitted) if submitted.is_dir() else [])}
    result = Collected()
    times: dict[Path, list[tuple[dt.datetime | None, str]]] = {}  # folder: written notebooks
    for entry in entries(Path(path), limits):
        # In this order: judge the names before reading anything (a refused entry is never
        # read), bound the content before comparing it, check the destination right before
        # writing.
        try:
            if entry.refused is not None:
                raise Refused(entry.refused)
            student, assignment, notebook = _place(entry.parts, index, plugin)
            if by_case.get(student.lower(), student) != student:
                raise Refused(
                    f"student id {student!r} differs only in case from "
                    f"{by_case[student.lower()]!r}; they would share a folder on a "
                    "case-insensitive file system (rename one)"
                )
            dest = _destination(course, student, assignment, notebook)
            if any(d == dest for _, _, d in result.placed):
                raise Refused(f"a second file for {student}/{notebook}; kept the first")
            data = entry.read()
            if hashlib.sha256(data).digest() in solutions:
                raise Refused("identical to the instructor's notebook "
                               f"{solutions[hashlib.sha256(data).digest()]}")
            old = _existing(dest)
            if old is not None and old != data and not update:
                raise Refused(f"{dest.relative_to(course.root)} already holds a different "
                               "submission; pass --update to replace it")
            if old != data:
                _write(dest, data)
                times.setdefault(dest.parent, []).append(_zip_time(entry, times_from_zip))
        except Refused as why:
            result.unplaced.append((entry.rel, str(why)))
            continue
        result.placed.append((entry.rel, student, dest))
        result.students.add(student)
        by_case[student.lower()] = student
    _write_timestamps(course, times, result)
    with course.gradebook() as gb:
        for student in sorted(result.students):
            gb.update_or_create_student(student)
    return result
