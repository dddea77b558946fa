"""What travels between the grading command, the workers and the record: frozen,
picklable dataclasses, each with one set of defaults.

- :class:`WorkerConfig`: how every worker of a batch runs a notebook (limits, threads);
- :class:`Bundle`: one assignment as the workers need it, and nothing more: the release,
  the source's test and question cells (no solutions) and the reference observations,
  named by the SHA-256 of its content (workers cache it by that name);
- :class:`Job`: one student's submission as bytes, and the digest of its bundle;
- :class:`Outcome` (of :class:`NotebookOutcome`, :class:`CellScore`, :class:`Written`):
  what a worker found, sent back as JSON (:meth:`Outcome.to_json`); the grading command
  alone writes it into the gradebook (``autograder/record.py``);
- :class:`ReferenceRun`: the observations of the instructor's solution.

No worker reads the course folder: everything it needs is in these.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any

import nbformat
from nbgrader.utils import is_solution

from autograder.limits import Limits

__all__ = ["Bundle", "CellScore", "Job", "NotebookOutcome", "NotebookSpec", "Outcome",
           "ReferenceRun", "WorkerConfig", "Written", "strip_solutions"]

BUNDLE_VERSION = "1"  # bump when the bundle's meaning changes (workers re-fetch)


@dataclass(frozen=True)
class WorkerConfig:
    """How every worker of one batch runs a notebook."""

    limits: Limits = Limits()
    unsafe: bool = False  # no sandbox (grade --unsafe, local only)
    threads: int = 1  # BLAS/OpenMP threads per kernel (the cores shared between workers)
    extra_arguments: tuple[str, ...] = ()  # the kernel's (c.Execute.extra_arguments)


@dataclass(frozen=True)
class NotebookSpec:
    """One notebook of an assignment, as the worker needs it (notebooks as JSON text)."""

    name: str
    template: str  # the released (student) notebook
    tests: str  # the source notebook with its solution cells emptied (strip_solutions)
    references: dict[str, Any] = field(default_factory=dict)  # grade_id -> observations


@dataclass(frozen=True)
class Bundle:
    """Everything a worker needs to grade one assignment; ``digest`` names the content."""

    assignment: str
    notebooks: tuple[NotebookSpec, ...]
    digest: str = ""

    @staticmethod
    def content_digest(assignment: str, notebooks: tuple[NotebookSpec, ...]) -> str:
        payload = json.dumps([BUNDLE_VERSION, assignment, [asdict(n) for n in notebooks]],
                             sort_keys=True)
        return hashlib.sha256(payload.encode()).hexdigest()

    @classmethod
    def make(cls, assignment: str, notebooks: list[NotebookSpec]) -> Bundle:
        specs = tuple(notebooks)
        return cls(assignment, specs, cls.content_digest(assignment, specs))

    def verified(self) -> Bundle:
        """This bundle, if its content is what its digest says (else ValueError)."""
        if self.content_digest(self.assignment, self.notebooks) != self.digest:
            raise ValueError(f"the bundle of {self.assignment} does not match its digest "
                             f"{self.digest[:12]} (changed in transit?)")
        return self

    def only(self, name: str) -> Bundle:
        """The bundle of one of its notebooks (nbgrader grades one notebook at a time)."""
        return Bundle.make(self.assignment, [self.spec(name)])

    def spec(self, name: str) -> NotebookSpec:
        for notebook in self.notebooks:
            if notebook.name == name:
                return notebook
        raise KeyError(f"{name} is not a notebook of {self.assignment}")


def strip_solutions(source: nbformat.NotebookNode) -> str:
    """``source`` as JSON without the solutions: its answer cells are emptied (the grader
    needs the tests, hidden ones included, and the question cells, not the answers)."""
    out = nbformat.from_dict(json.loads(json.dumps(source)))
    for cell in out.cells:
        if is_solution(cell):
            cell.source = ""
    return nbformat.writes(out)


@dataclass(frozen=True)
class Job:
    """One student's submission: each notebook's bytes (None: not submitted)."""

    student: str
    assignment: str
    bundle_digest: str
    files: tuple[tuple[str, bytes | None], ...]

    def file(self, name: str) -> bytes | None:
        return dict(self.files).get(name)


@dataclass(frozen=True)
class CellScore:
    points: float
    max_points: float
    reason: str = ""  # why it scored 0, "" when it passed


@dataclass(frozen=True)
class Written:
    """A written answer (a manually graded answer cell): graded by a person."""

    max_points: float
    answered: bool


@dataclass(frozen=True)
class NotebookOutcome:
    cells: dict[str, CellScore]
    written: dict[str, Written]
    notebook: str  # the graded notebook, JSON text, inert (autograder/sanitize.py)
    reason: str = ""  # why the run stopped early, or what happened to the file
    notes: tuple[str, ...] = ()
    kernel_seconds: float = 0.0
    cells_seconds: float = 0.0
    peak_mb: float = 0.0
    truncated: dict[int, int] = field(default_factory=dict)  # cell index -> bytes dropped
    leftover_processes: int = 0
    not_shown: tuple[str, ...] = ()  # what make_inert changed (autograder/sanitize.py)

    def details(self) -> dict[str, Any]:
        """Everything but the notebook, as JSON-ready data (grading.json)."""
        data = asdict(self)
        del data["notebook"]
        return data

    def graded_notebook(self) -> nbformat.NotebookNode:
        return nbformat.reads(self.notebook, as_version=4)


@dataclass(frozen=True)
class Outcome:
    """What one worker found for one submission."""

    student: str
    notebooks: dict[str, NotebookOutcome] = field(default_factory=dict)
    error: str = ""  # the grader could not grade it (not the student's fault): not recorded
    seconds: float = 0.0
    worker_mb: float | None = None
    slot: int | None = None
    device: str = ""  # where the test cells ran: "cuda (NVIDIA H200)" or "cpu (...)"
    worker: str = ""  # which worker (a Dask worker's address; "local" for the local pool)

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> Outcome:
        data = json.loads(text)
        notebooks = {}
        for name, nb in data.pop("notebooks").items():
            nb["cells"] = {k: CellScore(**v) for k, v in nb["cells"].items()}
            nb["written"] = {k: Written(**v) for k, v in nb["written"].items()}
            nb["notes"], nb["not_shown"] = tuple(nb["notes"]), tuple(nb["not_shown"])
            nb["truncated"] = {int(k): v for k, v in nb["truncated"].items()}
            notebooks[name] = NotebookOutcome(**nb)
        return cls(notebooks=notebooks, **data)

    @property
    def tests(self) -> list[CellScore]:
        return [c for nb in self.notebooks.values() for c in nb.cells.values()]


@dataclass(frozen=True)
class ReferenceRun:
    """The observations of the instructor's solution in one notebook."""

    references: dict[str, Any]
    problems: tuple[str, ...] = ()
    kernel_seconds: float = 0.0
