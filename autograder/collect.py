"""``collect PATH``: submissions from a folder or an LMS zip into nbgrader's layout.

nbgrader grades ``submitted/<student>/<assignment>/<notebook>.ipynb``. Learning
management systems hand out one zip (or folder) of files named after the student, e.g.
``alice_2_ps1_output_shapes.ipynb`` or ``alice_late_12345_ps1_output_shapes-1.ipynb``.
Each file name is matched with nbgrader's own :class:`FileNameCollectorPlugin`; the
notebook name tells the assignment. A folder may also be laid out as
``<student>/<notebook>.ipynb`` or ``<student>/<assignment>/<notebook>.ipynb``.
"""

from __future__ import annotations

import dataclasses
import tempfile
import zipfile
from pathlib import Path, PurePosixPath

from nbgrader.plugins import FileNameCollectorPlugin

from autograder.course import Course

__all__ = ["DEFAULT_PATTERN", "Collected", "collect"]

# student id, then LMS noise (late flag, numeric ids), then the notebook's own name, then an
# optional "-N" that LMSs append to a resubmitted file.
DEFAULT_PATTERN = (
    r"^(?P<student_id>[A-Za-z0-9.@+]+)_(?:late_)?(?:\d+_)*(?P<file_id>[A-Za-z0-9_]+?)"
    r"(?:-\d+)?\.ipynb$"
)


@dataclasses.dataclass
class Collected:
    """What ``collect`` did: files placed, files it could not place and why."""

    placed: list[tuple[str, str, Path]] = dataclasses.field(default_factory=list)
    unplaced: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    students: set[str] = dataclasses.field(default_factory=set)


def _notebook_index(course: Course) -> dict[str, str]:
    """``{notebook name: assignment}`` over every assignment in ``source/``."""
    return {nb.stem: a for a in course.assignments() for nb in course.source_notebooks(a)}


def _candidates(path: Path, workdir: Path) -> list[tuple[str, Path]]:
    """``(name shown in reports, file)`` for every file under a folder or inside a zip."""
    if path.is_file() and zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                if info.is_dir() or info.filename.startswith("__MACOSX/"):
                    continue
                parts = PurePosixPath(info.filename).parts
                if ".." in parts or PurePosixPath(info.filename).is_absolute():
                    continue  # never extract outside the work folder
                archive.extract(info, workdir)
        root = workdir
    elif path.is_dir():
        root = path
    else:
        raise FileNotFoundError(f"{path} is neither a folder nor a zip file")
    files = sorted(
        p for p in root.rglob("*") if p.is_file() and ".ipynb_checkpoints" not in p.parts
    )
    return [(str(p.relative_to(root)), p) for p in files]


def _place(
    rel: str, file: Path, index: dict[str, str], plugin: FileNameCollectorPlugin
) -> tuple[str, str, str] | str:
    """``(student, assignment, notebook)`` for one file, or the reason it cannot be placed."""
    parts = PurePosixPath(rel).parts
    if file.suffix != ".ipynb":
        return "not a notebook"
    if len(parts) >= 2 and file.stem in index:  # <student>/[<assignment>/]<notebook>.ipynb
        student = parts[0]
        if len(parts) == 3 and parts[1] != index[file.stem]:
            return f"folder {parts[1]!r} but notebook {file.stem!r} belongs to {index[file.stem]!r}"
        return student, index[file.stem], file.stem
    info = plugin.collect(file.name)
    if not info:
        return "file name does not match the pattern <student>_..._<notebook>.ipynb"
    notebook = info["file_id"]
    # LMS noise and notebook names both use "_": try the longest known notebook suffix.
    for name in sorted(index, key=len, reverse=True):
        if notebook == name or notebook.endswith("_" + name):
            return info["student_id"], index[name], name
    return f"no assignment has a notebook named like {notebook!r}"


def collect(
    course: Course, path: Path, *, pattern: str = DEFAULT_PATTERN, update: bool = False
) -> Collected:
    """Copy submissions from ``path`` into ``submitted/`` and register their students."""
    index = _notebook_index(course)
    plugin = FileNameCollectorPlugin(named_regexp=pattern)
    result = Collected()
    with tempfile.TemporaryDirectory(prefix="collect-") as work:
        for rel, file in _candidates(Path(path), Path(work)):
            where = _place(rel, file, index, plugin)
            if isinstance(where, str):
                result.unplaced.append((rel, where))
                continue
            student, assignment, notebook = where
            dest = course.folder("submitted") / student / assignment / f"{notebook}.ipynb"
            data = file.read_bytes()
            if dest.exists() and dest.read_bytes() != data and not update:
                result.unplaced.append(
                    (
                        rel,
                        f"{dest.relative_to(course.root)} already holds a different "
                        "submission; pass --update to replace it",
                    )
                )
                continue
            if any(d == dest for _, _, d in result.placed):
                result.unplaced.append(
                    (rel, f"a second file for {student}/{notebook}; kept the first")
                )
                continue
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(data)
            result.placed.append((rel, student, dest))
            result.students.add(student)
    with course.gradebook() as gb:
        for student in sorted(result.students):
            gb.update_or_create_student(student)
    return result
