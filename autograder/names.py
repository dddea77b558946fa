"""Student ids: the one rule for every name that becomes a folder under ``submitted/``.

A student id reaches the file system (``submitted/<student>/``, ``autograded/<student>/``,
``feedback/<student>/``) and the gradebook, so it must be a plain, safe name everywhere:
1 to 64 ASCII letters, digits and ``. _ - @ +``, starting with a letter or digit. That
rules out ``.``, ``..`` and hidden names, path separators, names a command line would read
as an option (``-x``), control and look-alike Unicode characters, and names a file system
would shorten. ``collect`` (file names and folder layouts), ``grade --student``,
``feedback --student`` and :meth:`autograder.course.Course.submitted_students` all use it.
"""

from __future__ import annotations

import re

__all__ = ["ALLOWED", "MAX_LENGTH", "UnsafeStudentId", "check_student_id", "student_id_problem"]

MAX_LENGTH = 64
ALLOWED = (
    f"a student id is 1 to {MAX_LENGTH} of the ASCII letters, digits and . _ - @ +, "
    "starting with a letter or digit"
)
_CHARS = re.compile(r"[A-Za-z0-9._@+-]")


class UnsafeStudentId(ValueError):
    """A name that must not become a student id (folder name, gradebook id)."""


def _show(name: str) -> str:
    """``name`` quoted, with anything unprintable escaped (it may be hostile)."""
    return repr(name) if isinstance(name, str) and name.isprintable() else ascii(name)


def student_id_problem(name: str) -> str | None:
    """What is wrong with ``name`` as a student id, or ``None`` when it is safe."""
    if not isinstance(name, str):
        return f"a student id is a string, not {type(name).__name__}"
    if not name:
        return "it is empty"
    if len(name) > MAX_LENGTH:
        return f"it is {len(name)} characters long, more than {MAX_LENGTH}"
    bad = sorted({c for c in name if not _CHARS.fullmatch(c)})
    if bad:
        return "it contains " + ", ".join(_show(c) for c in bad)
    if not name[0].isalnum():
        return f"it starts with {name[0]!r}"
    return None


def check_student_id(name: str) -> str:
    """Return ``name`` if it is a safe student id, else raise :class:`UnsafeStudentId`.

    Args:
        name: a student id from a file name, a folder name or the command line.

    Raises:
        UnsafeStudentId: saying what is wrong with ``name`` and what is allowed.
    """
    problem = student_id_problem(name)
    if problem is not None:
        raise UnsafeStudentId(f"{_show(name)} is not a safe student id: {problem}; {ALLOWED}")
    return name
