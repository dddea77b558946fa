"""Example submissions: students' answers turned into real notebooks from the release.

``autograder/examples/<assignment>/<student>.py`` holds one student's answers, split into
chunks by ``# %% <grade_id>`` lines, one chunk per solution cell it answers. A submission
is the *released* notebook with those cells replaced, so examples never go stale: when an
assignment changes, the next build changes every example submission with it, and an
answer for a cell that no longer exists is an error, not silently dropped.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import nbformat

__all__ = ["EXAMPLES", "ExampleError", "make_submission", "example_students", "write_lms_zip"]

EXAMPLES = Path(__file__).resolve().parent / "examples"
_CHUNK = re.compile(r"^# %% (?P<grade_id>[\w-]+)\s*$", re.MULTILINE)


class ExampleError(ValueError):
    """An example answers a cell the released notebook does not have."""


def parse_answers(text: str) -> dict[str, str]:
    """``{grade_id: code}`` from a student file (the text before the first marker is ignored)."""
    parts = _CHUNK.split(text)
    chunks = zip(parts[1::2], parts[2::2], strict=True)
    return {grade_id: code.strip() + "\n" for grade_id, code in chunks}


def example_students(assignment: str, examples: Path = EXAMPLES) -> list[str]:
    return sorted(p.stem for p in (examples / assignment).glob("*.py"))


def make_submission(released: Path, answers: dict[str, str]) -> nbformat.NotebookNode:
    """The released notebook with each answered solution cell's source replaced."""
    nb = nbformat.read(released, as_version=4)
    solution_ids = {
        c.metadata["nbgrader"]["grade_id"]: c
        for c in nb.cells
        if c.metadata.get("nbgrader", {}).get("solution")
    }
    unknown = sorted(set(answers) - set(solution_ids))
    if unknown:
        raise ExampleError(
            f"{released.name} has no solution cell {', '.join(unknown)}; its solution cells "
            f"are {', '.join(sorted(solution_ids))}"
        )
    for grade_id, code in answers.items():
        solution_ids[grade_id].source = code.rstrip("\n")
    return nb


def write_lms_zip(
    course_release: Path, assignments: list[str], dest: Path, examples: Path = EXAMPLES
) -> list[str]:
    """Write every example submission into a zip named like an LMS download.

    Entries are ``<student>_<attempt>_<notebook>.ipynb``, the pattern that
    ``python -m autograder collect`` reads. Returns the entry names.
    """
    names = []
    dest.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(dest, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for assignment in assignments:
            notebooks = sorted((course_release / assignment).glob("*.ipynb"))
            for student in example_students(assignment, examples):
                answers = parse_answers((examples / assignment / f"{student}.py").read_text())
                for attempt, released in enumerate(notebooks, start=1):
                    nb = make_submission(released, answers)
                    name = f"{student}_{attempt}_{released.name}"
                    archive.writestr(name, nbformat.writes(nb))
                    names.append(name)
    return names
