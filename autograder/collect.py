"""``collect PATH``: submissions from a folder or an LMS zip into nbgrader's layout.

nbgrader grades ``submitted/<student>/<assignment>/<notebook>.ipynb``. Learning
management systems hand out one zip (or folder) of files named after the student, e.g.
``alice_2_ps1_output_shapes.ipynb`` or ``alice_late_12345_ps1_output_shapes-1.ipynb``.
Each file name is matched with nbgrader's own :class:`FileNameCollectorPlugin`; the
notebook name tells the assignment. A folder may also be laid out as
``<student>/<notebook>.ipynb`` or ``<student>/<assignment>/<notebook>.ipynb``.

Every name and every file in a download is treated as hostile. Guaranteed:

- a student id is a safe name (:mod:`autograder.names`), and one that differs only in
  case from a student already in ``submitted/`` (or earlier in the download) is refused;
- links are never followed or copied: a download that is a symbolic link, a link anywhere
  in a folder, a zip entry that is a link, a device, a FIFO or a socket is refused. Folder
  files are opened relative to their already opened folder with ``O_NOFOLLOW``, and only
  regular files with a single hard link are read (a second link may be the instructor's
  solution under a student's name), as is a file byte-identical to a source notebook;
- zip entries with an absolute path, a ``..`` component, a drive letter or a backslash are
  refused; members are read into memory, bounded, never extracted to disk;
- sizes are bounded (:class:`CollectLimits`): a larger notebook is refused, and a zip whose
  entries would unpack to more than the limit (a zip bomb) is refused as a whole before
  anything in it is decompressed;
- nothing is written outside ``submitted/<student>/<assignment>/``: a link or a file where
  a folder belongs there is refused, never written through, and the resolved destination
  is checked to lie inside.

Everything refused is listed in :attr:`Collected.unplaced` with its reason; nothing is
dropped silently except folder noise (``.ipynb_checkpoints/``, ``__MACOSX/``, and the
entries of zip folders, which carry no content). Not guaranteed: that a notebook's *content*
is the student's own work, nor that it is valid JSON (``grade`` scores a corrupt notebook 0
with that reason).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import os
import re
import stat
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path, PurePosixPath

from nbgrader.plugins import FileNameCollectorPlugin

from autograder.course import Course
from autograder.names import UnsafeStudentId, check_student_id

__all__ = ["DEFAULT_PATTERN", "CollectLimits", "Collected", "collect"]

# student id (anything up to the first "_": autograder/names.py then decides whether it is
# safe, and says why not), then LMS noise (late flag, numeric ids), then the notebook's own
# name, then an optional "-N" that LMSs append to a resubmitted file.
DEFAULT_PATTERN = (
    r"^(?P<student_id>[^_]+)_(?:late_)?(?:\d+_)*(?P<file_id>[A-Za-z0-9_]+?)"
    r"(?:-\d+)?\.ipynb$"
)

MIB = 2**20
# Never the links themselves: a folder opened with O_NOFOLLOW fails (ELOOP) if it is one.
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
# O_NONBLOCK: a FIFO swapped in after the check must not block the open.
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
_NO_LINKS = "collect never follows or copies links"


@dataclasses.dataclass(frozen=True)
class CollectLimits:
    """Bounds on what ``collect`` reads from one download."""

    notebook_bytes: int = 20 * MIB  # one notebook (a zip member's uncompressed size)
    zip_bytes: int = 1024 * MIB  # all of a zip's entries, uncompressed, as declared
    zip_entries: int = 20_000  # entries in a zip
    folder_depth: int = 8  # folders nested in a folder download


@dataclasses.dataclass
class Collected:
    """What ``collect`` did: files placed, files it could not place and why."""

    placed: list[tuple[str, str, Path]] = dataclasses.field(default_factory=list)
    unplaced: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    students: set[str] = dataclasses.field(default_factory=set)


class _Refused(Exception):
    """One entry of a download is not placed; the message says why."""


@dataclasses.dataclass(frozen=True)
class _Entry:
    """One file of a download: where it sits, and how to read it (bounded) or why not."""

    rel: str  # as shown in reports, unprintable characters escaped
    parts: tuple[str, ...] = ()
    read: Callable[[], bytes] | None = None  # raises _Refused
    refused: str | None = None


def _printable(name: str) -> str:
    """A hostile name as it may be printed: itself, or escaped if it has control codes."""
    return name if name.isprintable() else ascii(name)


def _too_big(size: int, limits: CollectLimits) -> str:
    return (
        f"{size} bytes, more than the limit of {limits.notebook_bytes} bytes for one "
        "notebook (CollectLimits.notebook_bytes)"
    )


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return f"file type {stat.S_IFMT(mode):#o}"


def _skipped(parts: tuple[str, ...]) -> bool:
    """Folder noise that holds no submission (Jupyter's autosaves, macOS's resource forks)."""
    return ".ipynb_checkpoints" in parts or parts[:1] == ("__MACOSX",)


# -- reading a download: a folder or a zip, as a stream of entries ------------------------

def _entries(path: Path, limits: CollectLimits) -> Iterator[_Entry]:
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        mode = 0
    if stat.S_ISLNK(mode):
        yield _Entry(str(path), refused=f"a symbolic link; {_NO_LINKS} (pass what it points to)")
    elif stat.S_ISDIR(mode):
        fd = os.open(path, _DIR_FLAGS)
        try:
            yield from _walk(fd, (), limits)
        finally:
            os.close(fd)
    elif stat.S_ISREG(mode) and zipfile.is_zipfile(path):
        yield from _zip_entries(path, limits)
    else:
        raise FileNotFoundError(f"{path} is neither a folder nor a zip file")


def _walk(dir_fd: int, prefix: tuple[str, ...], limits: CollectLimits) -> Iterator[_Entry]:
    """The files under an open folder, every name looked up relative to it, no link followed."""
    for name in sorted(os.listdir(dir_fd)):
        parts = (*prefix, name)
        rel = _printable("/".join(parts))
        if _skipped(parts):
            continue
        try:
            mode = os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode
        except OSError as err:
            yield _Entry(rel, refused=f"cannot be read ({err.strerror})")
            continue
        if stat.S_ISLNK(mode):
            yield _Entry(rel, refused=f"a symbolic link; {_NO_LINKS}")
        elif stat.S_ISDIR(mode):
            if len(parts) > limits.folder_depth:
                yield _Entry(rel, refused=f"folders nested more than {limits.folder_depth} deep")
                continue
            try:
                sub = os.open(name, _DIR_FLAGS, dir_fd=dir_fd)
            except OSError as err:  # ELOOP: swapped for a link since the check
                yield _Entry(rel, refused=f"cannot be opened without following links "
                             f"({err.strerror})")
                continue
            try:
                yield from _walk(sub, parts, limits)
            finally:
                os.close(sub)
        elif stat.S_ISREG(mode):
            yield _Entry(rel, parts, read=functools.partial(_read_file, dir_fd, name, limits))
        else:
            yield _Entry(rel, refused=f"not a regular file but {_kind(mode)}")


def _read_file(dir_fd: int, name: str, limits: CollectLimits) -> bytes:
    try:
        fd = os.open(name, _FILE_FLAGS, dir_fd=dir_fd)
    except OSError as err:  # ELOOP: swapped for a link since the check
        raise _Refused(f"cannot be opened without following links ({err.strerror})") from None
    with os.fdopen(fd, "rb") as file:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise _Refused(f"not a regular file but {_kind(info.st_mode)}")
        if info.st_nlink > 1:
            raise _Refused(
                f"a file with {info.st_nlink} hard links, so possibly another file (such as "
                "the instructor's solution) under a second name; only files with a single "
                "link are read (copy the file to break the link)"
            )
        if info.st_size > limits.notebook_bytes:
            raise _Refused(_too_big(info.st_size, limits))
        data = file.read(limits.notebook_bytes + 1)
    if len(data) > limits.notebook_bytes:
        raise _Refused(_too_big(len(data), limits))
    return data


def _zip_entry_problem(info: zipfile.ZipInfo) -> str | None:
    """Why a zip entry is refused by its kind or name alone, or ``None``."""
    mode = info.external_attr >> 16
    name = info.filename
    if stat.S_ISLNK(mode):
        return f"a symbolic link; {_NO_LINKS}"
    if stat.S_IFMT(mode) not in (0, stat.S_IFREG, stat.S_IFDIR):
        return f"not a regular file but {_kind(mode)}"
    if "\\" in name:
        return "a backslash in its name (a Windows path?); zip entries separate folders with /"
    if re.match(r"[A-Za-z]:", name):
        return "a Windows drive letter in its name; entries must be relative paths"
    if name.startswith("/"):
        return "an absolute path; entries must be relative paths"
    if ".." in PurePosixPath(name).parts:
        return "'..' in its path; entries must stay inside the download"
    if info.flag_bits & 0x1:
        return "encrypted; collect reads only unencrypted zips"
    return None


def _zip_entries(path: Path, limits: CollectLimits) -> Iterator[_Entry]:
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    with os.fdopen(fd, "rb") as file, zipfile.ZipFile(file) as archive:
        infos = archive.infolist()
        total = sum(info.file_size for info in infos)
        if len(infos) > limits.zip_entries or total > limits.zip_bytes:
            yield _Entry(
                path.name,
                refused=f"a zip of {len(infos)} entries that would unpack to {total} bytes; "
                f"the limits are {limits.zip_entries} entries and {limits.zip_bytes} bytes "
                "(CollectLimits.zip_entries, .zip_bytes); nothing in it was read",
            )
            return
        for info in infos:
            rel = _printable(info.filename)
            problem = _zip_entry_problem(info)
            parts = PurePosixPath(info.filename).parts
            if problem is not None:
                yield _Entry(rel, refused=problem)
            elif not info.is_dir() and parts and not _skipped(parts):
                yield _Entry(rel, parts, read=functools.partial(_read_member, archive, info,
                                                                 limits))


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limits: CollectLimits) -> bytes:
    if info.file_size > limits.notebook_bytes:
        raise _Refused(_too_big(info.file_size, limits))
    try:
        with archive.open(info) as member:  # stops at the declared size, then checks the CRC
            data = member.read(limits.notebook_bytes + 1)
    except (zipfile.BadZipFile, NotImplementedError, RuntimeError, EOFError, zlib.error) as err:
        raise _Refused(f"cannot be read from the zip ({err})") from None
    if len(data) > limits.notebook_bytes:
        raise _Refused(_too_big(len(data), limits))
    return data


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
        raise _Refused(str(err)) from None


def _place(
    parts: tuple[str, ...], index: dict[str, str], plugin: FileNameCollectorPlugin
) -> tuple[str, str, str]:
    """``(student, assignment, notebook)`` for one file; raises ``_Refused`` with the reason."""
    name = parts[-1]
    stem = name.removesuffix(".ipynb")
    if stem == name:
        raise _Refused("not a notebook")
    if len(parts) >= 2 and stem in index:  # <student>/[<assignment>/]<notebook>.ipynb
        if len(parts) > 3:
            raise _Refused("too deep: expected <student>/<notebook>.ipynb or "
                           "<student>/<assignment>/<notebook>.ipynb")
        if len(parts) == 3 and parts[1] != index[stem]:
            raise _Refused(
                f"folder {parts[1]!r} but notebook {stem!r} belongs to {index[stem]!r}"
            )
        return _student(parts[0]), index[stem], stem
    info = plugin.collect(name)
    if not info or not info.get("student_id") or not info.get("file_id"):
        raise _Refused("file name does not match the pattern <student>_..._<notebook>.ipynb")
    student, notebook = _student(info["student_id"]), info["file_id"]
    # LMS noise and notebook names both use "_": try the longest known notebook suffix.
    for known in sorted(index, key=len, reverse=True):
        if notebook == known or notebook.endswith("_" + known):
            return student, index[known], known
    raise _Refused(f"no assignment has a notebook named like {notebook!r}")


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
            raise _Refused(f"{shown} is a symbolic link; collect never writes through a link "
                           "(remove it)")
        if path != dest and not stat.S_ISDIR(mode):
            raise _Refused(f"{shown} exists and is not a folder")
        if path == dest and not stat.S_ISREG(mode):
            raise _Refused(f"{shown} exists and is not a regular file")
    inside = Path(os.path.realpath(submitted)) / student / assignment
    if Path(os.path.realpath(dest.parent)) != inside:
        raise _Refused(f"{dest} would lie outside submitted/{student}/{assignment}/")
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


def collect(
    course: Course,
    path: Path,
    *,
    pattern: str = DEFAULT_PATTERN,
    update: bool = False,
    limits: CollectLimits | None = None,
) -> Collected:
    """Copy submissions from ``path`` into ``submitted/`` and register their students.

    Args:
        course: the course whose ``submitted/`` and gradebook receive the submissions.
        path: a folder or an LMS zip.
        pattern: regular expression with groups ``student_id`` and ``file_id`` for file
            names (nbgrader's ``FileNameCollectorPlugin.named_regexp``).
        update: replace a different submission collected before.
        limits: size bounds (default :class:`CollectLimits`).

    Raises:
        FileNotFoundError: ``path`` is neither a folder nor a zip file.
    """
    limits = limits or CollectLimits()
    index, solutions = _notebook_index(course), _source_digests(course)
    plugin = FileNameCollectorPlugin(named_regexp=pattern)
    submitted = course.folder("submitted")
    # Students by lower-cased id: "Alice" and "alice" would share a folder on a
    # case-insensitive file system (a copy of the course on a laptop).
    by_case = {s.lower(): s for s in (os.listdir(submitted) if submitted.is_dir() else [])}
    result = Collected()
    for entry in _entries(Path(path), limits):
        # In this order: judge the names before reading anything (a refused entry is never
        # read), bound the content before comparing it, check the destination right before
        # writing.
        try:
            if entry.refused is not None:
                raise _Refused(entry.refused)
            student, assignment, notebook = _place(entry.parts, index, plugin)
            if by_case.get(student.lower(), student) != student:
                raise _Refused(
                    f"student id {student!r} differs only in case from "
                    f"{by_case[student.lower()]!r}; they would share a folder on a "
                    "case-insensitive file system (rename one)"
                )
            dest = _destination(course, student, assignment, notebook)
            if any(d == dest for _, _, d in result.placed):
                raise _Refused(f"a second file for {student}/{notebook}; kept the first")
            data = entry.read()
            if hashlib.sha256(data).digest() in solutions:
                raise _Refused("identical to the instructor's notebook "
                               f"{solutions[hashlib.sha256(data).digest()]}")
            old = _existing(dest)
            if old is not None and old != data and not update:
                raise _Refused(f"{dest.relative_to(course.root)} already holds a different "
                               "submission; pass --update to replace it")
            if old != data:
                _write(dest, data)
        except _Refused as why:
            result.unplaced.append((entry.rel, str(why)))
            continue
        result.placed.append((entry.rel, student, dest))
        result.students.add(student)
        by_case[student.lower()] = student
    with course.gradebook() as gb:
        for student in sorted(result.students):
            gb.update_or_create_student(student)
    return result
