"""nbgrader's Validate never runs a student's submission with the instructor's privileges.

nbgrader's ``Validator`` (the **Validate** button of JupyterLab's notebook toolbar, the
Assignments tab's Validate, and ``nbgrader validate``) runs a notebook top to bottom with
its ``Execute`` step: in a kernel of whoever asked, unsandboxed. For a student checking
their own notebook that is what it is for, and so it is for an instructor checking
``source/`` or ``release/``. On a notebook in the course's ``submitted/``, ``autograded/``,
``feedback/`` or ``downloaded/`` folders it would run a student's code outside the sandbox,
with access to the gradebook and the hidden tests. ``nbgrader_config.py`` therefore sets
:class:`RefuseStudentWork` as the ``on_cell_start`` hook (nbclient's hook, called before a
cell runs) of the ``Execute`` step that the ``Validator`` creates
(``c.Validator.Execute``: ``nbgrader autograde``'s steps are not affected). The
``Validator`` runs its steps in the notebook's folder, so the hook sees where the notebook
is; there it raises :class:`ValidationRefused` before the first cell runs, with the
command that grades the submission in the sandbox instead.

What this does not cover: the hook runs once the kernel has started (in the notebook's
folder, as opening the notebook in JupyterLab also does); a submission copied elsewhere
and validated there; a JupyterLab started outside the course root (nbgrader's Validate
reads ``nbgrader_config.py`` from the server's working folder only); and opening a
submission in JupyterLab and running it by hand.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from autograder.course import CourseError

__all__ = ["RefuseStudentWork", "ValidationRefused", "STUDENT_WORK"]

# nbgrader's folders that hold students' files (CourseDirectory's defaults; ``downloaded``
# is where ``nbgrader zip_collect`` and ``python -m autograder collect`` read LMS files).
STUDENT_WORK = ("submitted", "autograded", "feedback", "downloaded")


class ValidationRefused(CourseError):
    """nbgrader was asked to validate a student's submission; the message says what to run."""


class RefuseStudentWork:
    """``on_cell_start`` hook: refuse to run a notebook under ``root``'s student folders."""

    def __init__(self, root: str | os.PathLike[str], folders: Sequence[str] = STUDENT_WORK):
        root = Path(root).resolve()
        self.folders = tuple(root / name for name in folders)

    def __call__(self, **_: Any) -> None:
        here = Path.cwd().resolve()  # the Validator runs its steps in the notebook's folder
        for folder in self.folders:
            if here == folder or here.is_relative_to(folder):
                raise ValidationRefused(  # short lines: JupyterLab's dialog does not wrap
                    f"refusing to validate a notebook in {folder.name}/: nbgrader's Validate\n"
                    "runs it unsandboxed, with your privileges, and a student's code runs\n"
                    "only in the grading sandbox. Grade it with `python -m autograder grade\n"
                    "<assignment>` (or the formgrader's Autograde button) from the course\n"
                    "root, and read the result with `python -m autograder feedback`.\n"
                    f"(the notebook's folder: {here})"
                )
