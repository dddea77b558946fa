"""``nbgrader collect`` that copies only what each student really handed in.

nbgrader's exchange (``nbgrader release_assignment``, ``fetch_assignment``, ``submit``,
``collect``, ``release_feedback``, ``fetch_feedback``) lets students hand in through a
shared folder. A submission lands in ``<exchange>/<course>/inbound/<student>+<assignment>+
<time>+<random>/``, a folder the student owns and that ``submit`` leaves world-writable, so
the student can still change it after submitting. nbgrader's collect, run by the
instructor (often root on a JupyterHub server), then trusts it twice:

- it copies the folder with ``shutil.copytree``, which follows symbolic links: a student
  who puts ``ps1.ipynb -> /home/instructor/course/source/ps1/ps1.ipynb`` (or any file the
  instructor can read) in their folder gets its content collected as their submission;
- it takes the student id from the folder's name and only warns when the folder's owner is
  someone else, so one student can hand in a later "submission" in another's name; a
  folder named ``..+ps1+<time>`` is copied to ``submitted/../ps1``, and one whose name
  holds no valid time stops the collection for everyone.

:class:`SafeCollect` is nbgrader's collect with both closed, through its supported seam
(``c.ExchangeFactory.collect`` in ``nbgrader_config.py``):

- the copy opens every entry with ``O_NOFOLLOW`` relative to its already opened folder, so
  it never follows a link, even one swapped in while it runs; links, hard links, FIFOs and
  devices are left out with a warning that names them. nbgrader's own rules still apply
  (``CourseDirectory.ignore``/``include``, ``max_file_size``, ``max_dir_size``);
- a folder is taken only if its name is ``<student>+<assignment>+<time>[+<random>]`` with a
  safe student id (``autograder/names.py``) and a valid time, and, with
  ``ExchangeCollect.check_owner`` (nbgrader's default), only if its owner is that student;
  among those, each student's latest (nbgrader's rule, ``--before-duedate`` included).
  Anything else is logged and left out, and the rest are collected. Where every student is
  the same unix user (one shared account), no owner can tell them apart: set
  ``c.ExchangeCollect.check_owner = False`` there.
"""

from __future__ import annotations

import errno
import fnmatch
import glob
import os
import pwd
import shutil
import stat
from collections import defaultdict

from nbgrader.api import Gradebook, MissingEntry
from nbgrader.exchange.default.collect import ExchangeCollect
from nbgrader.utils import check_mode, parse_utc

from autograder.names import ALLOWED, student_id_problem

__all__ = ["SafeCollect"]

MAX_DEPTH = 32  # folders inside a submission; deeper ones are left out


def _owner(path: str) -> str:
    try:
        return pwd.getpwuid(os.lstat(path).st_uid).pw_name
    except (KeyError, OSError):
        return "unknown"


def _copy_bytes(fd: int, dest: str, size: int) -> None:
    """The first ``size`` bytes of open file ``fd`` (the size checked, should it grow)."""
    with open(dest, "wb") as out:
        while size > 0:
            chunk = os.read(fd, min(size, 1 << 20))
            if not chunk:
                break
            out.write(chunk)
            size -= len(chunk)


class SafeCollect(ExchangeCollect):
    """nbgrader's default collect, never following links nor trusting a folder's name."""

    def init_src(self) -> None:
        """nbgrader's choice of submissions (each student's latest, or latest before the due
        date with ``--before-duedate``) among the folders that pass :meth:`_record`."""
        if self.coursedir.course_id == "":
            self.fail("No course id specified. Re-run with --course flag.")
        self.course_path = os.path.join(self.root, self.coursedir.course_id)
        self.inbound_path = os.path.join(self.course_path, "inbound")
        if not os.path.isdir(self.inbound_path):
            self.fail(f"Course not found: {self.inbound_path}")
        if not check_mode(self.inbound_path, read=True, execute=True):
            self.fail(f"You don't have read permissions for the directory: {self.inbound_path}")
        student = self.coursedir.student_id or "*"
        pattern = f"{student}+{self.coursedir.assignment_id}+*"
        by_student = defaultdict(list)
        for path in sorted(glob.glob(os.path.join(self.inbound_path, pattern))):
            record = self._record(path)
            if record is not None:
                by_student[record["username"]].append(record)
        with Gradebook(self.coursedir.db_url, self.coursedir.course_id) as gb:
            try:
                self.duedate = gb.find_assignment(self.coursedir.assignment_id).duedate
            except MissingEntry:
                self.duedate = None
        self.src_records = []
        for records in by_student.values():
            records.sort(key=lambda r: r["timestamp"], reverse=True)
            if self.duedate is not None and self.before_duedate:
                records = [r for r in records if r["timestamp"] <= self.duedate] or records
            self.src_records.append(records[0])

    def _record(self, path: str) -> dict | None:
        """The submission in folder ``path``, or ``None`` (logged) if it must not be taken."""
        name = os.path.basename(path)
        parts = name.rsplit("+", 3)  # <student>+<assignment>+<time>[+<random>]
        student, problem = parts[0], None
        try:
            timestamp = parse_utc(parts[2]) if len(parts) >= 3 else None
        except (ValueError, OverflowError):
            timestamp = None
        if timestamp is None:
            problem = "its name is not <student>+<assignment>+<time> with a valid time"
        elif student_id_problem(student) is not None:
            problem = f"{student_id_problem(student)}; {ALLOWED}"
        elif self.check_owner and _owner(path) != student:
            problem = (f"it names student {student!r} but belongs to {_owner(path)!r} (set "
                       "ExchangeCollect.check_owner = False if all students share one account)")
        else:
            return {"username": student, "filename": name, "timestamp": timestamp}
        self.log.error("Not collecting %s: %s", ascii(path)[1:-1], problem)
        return None

    def do_copy(self, src: str, dest: str, log=None) -> None:
        """Copy the submission folder ``src`` to ``dest``: plain files and folders only."""
        try:
            fd = os.open(src, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        except OSError as exc:
            why = "a symbolic link" if exc.errno == errno.ELOOP else exc.strerror
            self.log.error("Not collecting %s: %s", src, why)
            return
        partial = dest + ".partial"
        shutil.rmtree(partial, ignore_errors=True)
        os.makedirs(partial)
        try:
            try:
                self._copy_folder(fd, src, partial, [0], 0)
            finally:
                os.close(fd)
        except BaseException:
            shutil.rmtree(partial, ignore_errors=True)
            raise
        os.rename(partial, dest)

    def _copy_folder(self, fd: int, where: str, dest: str, total: list[int],
                     depth: int) -> None:
        exclude = self.coursedir.ignore or []
        include = self.coursedir.include or []
        for name in sorted(os.listdir(fd)):
            path = os.path.join(where, name)
            if any(fnmatch.fnmatch(name, g) for g in exclude):
                continue
            try:
                child = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=fd)
            except OSError as exc:
                why = "a symbolic link" if exc.errno == errno.ELOOP else exc.strerror
                self.log.warning("Not collecting %s: %s", path, why)
                continue
            try:
                st = os.fstat(child)
                if stat.S_ISDIR(st.st_mode):
                    if depth >= MAX_DEPTH:
                        self.log.warning("Not collecting %s: nested too deep", path)
                        continue
                    os.mkdir(os.path.join(dest, name))
                    self._copy_folder(child, path, os.path.join(dest, name), total, depth + 1)
                elif not stat.S_ISREG(st.st_mode):
                    self.log.warning("Not collecting %s: not a regular file", path)
                elif st.st_nlink != 1:
                    self.log.warning("Not collecting %s: a hard link", path)
                elif include and not any(fnmatch.fnmatch(name, g) for g in include):
                    continue
                elif st.st_size > 1000 * self.coursedir.max_file_size:
                    self.log.warning("Not collecting %s: over CourseDirectory.max_file_size "
                                     "(%s kB)", path, self.coursedir.max_file_size)
                else:
                    total[0] += st.st_size
                    if total[0] > 1000 * self.coursedir.max_dir_size:
                        raise RuntimeError(f"Directory size is too big: {where} is over "
                                           f"{1000 * self.coursedir.max_dir_size} bytes")
                    _copy_bytes(child, os.path.join(dest, name), st.st_size)
            finally:
                os.close(child)
