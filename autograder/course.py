"""The course folder: nbgrader's configuration, API and gradebook for one course root.

The course root holds ``nbgrader_config.py`` and ``source/<assignment>/``; nbgrader's
generated folders (``release/``, ``submitted/``, ``autograded/``, ``feedback/``) and
``gradebook.db`` appear beside them. Everything goes through :class:`Course`, so that every
subcommand sees the same configuration whichever folder it is started from.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook
from nbgrader.apps import NbGraderAPI
from nbgrader.coursedir import CourseDirectory
from traitlets.config import Config, PyFileConfigLoader

from autograder.names import ALLOWED, check_student_id, student_id_problem

__all__ = ["Course", "CourseError"]

CONFIG_FILE = "nbgrader_config.py"


class CourseError(RuntimeError):
    """The course folder is not usable (no config, unknown assignment, ...)."""


def _tools_on_path() -> None:
    """Put this interpreter's scripts folder on PATH.

    nbgrader runs the ``alembic`` command to create a new gradebook; from an interpreter
    of a virtual environment that was not activated (``.venv/bin/python -m autograder``)
    it would not be found.
    """
    scripts = str(Path(sys.executable).parent)
    path = os.environ.get("PATH", "").split(os.pathsep)
    if scripts not in path:
        os.environ["PATH"] = os.pathsep.join([scripts, *path])


class Course:
    """One nbgrader course root.

    Args:
        root: the folder with ``nbgrader_config.py`` and ``source/``.
        db_url: a SQLAlchemy URL for the gradebook; default: the config's
            (``sqlite:///<root>/gradebook.db``).
    """

    def __init__(self, root: str | os.PathLike[str] = ".", *, db_url: str | None = None):
        _tools_on_path()
        self.root = Path(root).resolve()
        config_path = self.root / CONFIG_FILE
        if not config_path.is_file():
            raise CourseError(
                f"{self.root} is not a course root: {CONFIG_FILE} is missing. Run the command "
                f"from the repository root or pass --root PATH (the folder with {CONFIG_FILE} "
                "and source/)."
            )
        config = PyFileConfigLoader(CONFIG_FILE, path=str(self.root)).load_config()
        # The config names its own folder as the root; a copied course must use its new home.
        config.CourseDirectory.root = str(self.root)
        if db_url is not None:
            config.CourseDirectory.db_url = db_url
        elif "db_url" not in config.CourseDirectory:
            config.CourseDirectory.db_url = f"sqlite:///{self.root / 'gradebook.db'}"
        header = config.IncludeHeaderFooter.get("header")
        if header and not Path(header).is_absolute():
            config.IncludeHeaderFooter.header = str(self.root / header)
        self.config: Config = config
        self.coursedir = CourseDirectory(config=config)

    @property
    def db_url(self) -> str:
        return self.coursedir.db_url

    @property
    def course_id(self) -> str:
        return self.coursedir.course_id

    def folder(self, kind: str) -> Path:
        """One of nbgrader's folders: ``source``, ``release``, ``submitted``, ...."""
        name = getattr(self.coursedir, f"{kind}_directory")
        return self.root / name

    def api(self) -> NbGraderAPI:
        """nbgrader's Python API for this course (quiet: its log goes to our result dicts)."""
        api = NbGraderAPI(coursedir=self.coursedir, config=self.config)
        api.log.setLevel(logging.WARNING)
        return api

    @contextlib.contextmanager
    def gradebook(self) -> Iterator[Gradebook]:
        with Gradebook(self.db_url, self.course_id) as gb:
            yield gb

    def assignments(self) -> list[str]:
        """The assignments in ``source/``, sorted."""
        source = self.folder("source")
        return sorted(p.name for p in source.iterdir() if p.is_dir() and list(p.glob("*.ipynb")))

    def check_assignment(self, assignment: str) -> str:
        """Return ``assignment`` if ``source/`` has it, else raise with the valid names."""
        known = self.assignments()
        if assignment not in known:
            raise CourseError(
                f"unknown assignment {assignment!r}; source/ has: {', '.join(known) or 'none'}"
            )
        return assignment

    def copy_to(self, dest: Path, *, assignments: Sequence[str] | None = None) -> Course:
        """A scratch course at ``dest``: this one's config and sources, its own gradebook.

        Copies ``nbgrader_config.py``, the notebooks at the top of ``source/`` (the header)
        and ``assignments`` (default: all). The copy's gradebook is always
        ``<dest>/gradebook.db``, whatever the config names, so work in the copy (``demo``,
        ``validate``) never touches the real gradebook.
        """
        dest = Path(dest)
        (dest / "source").mkdir(parents=True, exist_ok=True)
        shutil.copy(self.root / CONFIG_FILE, dest / CONFIG_FILE)
        for notebook in self.folder("source").glob("*.ipynb"):
            shutil.copy(notebook, dest / "source" / notebook.name)
        for assignment in self.assignments() if assignments is None else assignments:
            shutil.copytree(self.folder("source") / self.check_assignment(assignment),
                            dest / "source" / assignment)
        return Course(dest, db_url=f"sqlite:///{dest.resolve() / 'gradebook.db'}")

    def source_notebooks(self, assignment: str) -> list[Path]:
        return sorted((self.folder("source") / assignment).glob("*.ipynb"))

    def released_notebooks(self, assignment: str) -> list[Path]:
        return sorted((self.folder("release") / assignment).glob("*.ipynb"))

    def submit(self, assignment: str, student: str, notebook: nbformat.NotebookNode,
               name: str) -> Path:
        """Write ``notebook`` as ``student``'s ``submitted/<student>/<assignment>/<name>``.

        For the demo, validation and tests, which make submissions themselves; an LMS
        download goes through ``collect``. ``student`` must be a safe student id.
        """
        folder = self.folder("submitted") / check_student_id(student) / assignment
        folder.mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook, folder / Path(name).name)
        return folder / Path(name).name

    def submitted_students(self, assignment: str) -> list[str]:
        """Students with a folder ``submitted/<student>/<assignment>/``, sorted.

        A folder whose name is not a safe student id (``autograder/names.py``), or that is a
        symbolic link, is never graded: a warning line on stderr says which and why.
        """
        submitted = self.folder("submitted")
        if not submitted.is_dir():
            return []
        students = []
        for p in sorted(submitted.iterdir()):
            if not (p / assignment).is_dir():
                continue
            problem = student_id_problem(p.name)
            if problem is not None:
                problem += f"; {ALLOWED}"
            elif p.is_symlink() or (p / assignment).is_symlink():
                problem = "it is a symbolic link, which collect never makes"
            if problem is not None:
                print(f"warning: not grading submitted/{ascii(p.name)[1:-1]}: {problem}",
                      file=sys.stderr)
                continue
            students.append(p.name)
        return students
