"""The fair-grades corpus: alternative answers whose grades are known in advance.

``autograder/corpus/<assignment>/<name>.py`` holds one answer set, in the examples'
format (``# %% <grade_id>`` starts the answer for the solution cell with that id) after a
short header::

    \"\"\"lazy layers: LeNet written the textbook's way (nn.LazyConv2d, nn.LazyLinear).\"\"\"
    # kind: correct
    # %% build_lenet5
    def build_lenet5(): ...

or, for an answer that must lose points::

    \"\"\"same_padding puts the extra row on top (the other convention).\"\"\"
    # kind: wrong
    # fails: test_same_padding_examples test_same_padding_vs_torch
    # %% same_padding
    ...

A solution cell that a file does not answer gets the instructor's solution, so a wrong
file isolates one mistake. A ``correct`` entry must score full marks; a ``wrong`` entry
must fail exactly the test cells its ``fails`` line names, and no other.
``tests/test_corpus.py`` grades every assignment's corpus in one batch through the real
grader and asserts both; :func:`coverage` says whether each task has enough of each kind.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import nbformat
from nbgrader.utils import is_solution

from autograder.merge import solution_answers
from autograder.submissions import ExampleError, make_submission, parse_answers

__all__ = ["CORPUS", "CorpusEntry", "CorpusError", "coverage", "load_corpus", "submission"]

CORPUS = Path(__file__).resolve().parent / "corpus"
MIN_CORRECT, MIN_WRONG = 3, 2  # per task (solution cell), issue "Fair grades"

_KIND = re.compile(r"^# kind: *(correct|wrong) *$", re.MULTILINE)
_FAILS = re.compile(r"^# fails: *(.+?) *$", re.MULTILINE)
_DOC = re.compile(r'^\s*"""(.+?)(?:"""|$)', re.MULTILINE)


class CorpusError(ValueError):
    """A corpus file is malformed (no kind, a wrong answer without ``fails``, ...)."""


@dataclasses.dataclass(frozen=True)
class CorpusEntry:
    """One answer set: ``correct`` (full marks) or ``wrong`` (fails exactly ``fails``)."""

    assignment: str
    name: str
    kind: str
    summary: str
    answers: dict[str, str]
    fails: frozenset[str] = frozenset()

    @property
    def student(self) -> str:
        """The student id this entry is graded under (``<kind>-<name>``)."""
        return f"{self.kind}-{self.name}"


def _parse(assignment: str, path: Path) -> CorpusEntry:
    text = path.read_text()
    head = text.split("\n# %% ", 1)[0]
    kind, doc, fails = _KIND.search(head), _DOC.search(head), _FAILS.search(head)
    where = f"{path.relative_to(CORPUS.parent)}"
    if not kind or not doc:
        raise CorpusError(f"{where}: needs a one-line docstring and a '# kind: correct|wrong' line")
    answers = parse_answers(text)
    if not answers:
        raise CorpusError(f"{where}: answers no cell (no '# %% <grade_id>' line)")
    failing = frozenset(fails.group(1).split()) if fails else frozenset()
    if kind.group(1) == "wrong" and not failing:
        raise CorpusError(f"{where}: a wrong answer needs '# fails: <test grade_id> ...'")
    if kind.group(1) == "correct" and failing:
        raise CorpusError(f"{where}: a correct answer fails nothing; remove its 'fails' line")
    return CorpusEntry(assignment, path.stem, kind.group(1), doc.group(1).strip(), answers,
                       failing)


def load_corpus(assignment: str, corpus: Path = CORPUS) -> list[CorpusEntry]:
    """Every entry of ``assignment``'s corpus, sorted by student id."""
    files = sorted((corpus / assignment).glob("*.py"))
    return sorted((_parse(assignment, p) for p in files), key=lambda e: e.student)


def _solution_ids(notebook: nbformat.NotebookNode) -> list[str]:
    return [c.metadata["nbgrader"]["grade_id"] for c in notebook.cells
            if is_solution(c) and c.cell_type == "code"]


def submission(released: Path, source: Path, entry: CorpusEntry) -> nbformat.NotebookNode:
    """The released notebook answered with the instructor's solution, then ``entry``'s."""
    answers = dict(solution_answers(nbformat.read(source, as_version=4)).answers)
    unknown = sorted(set(entry.answers) - set(answers))
    if unknown:
        raise ExampleError(f"corpus {entry.assignment}/{entry.name}.py answers no cell "
                           f"{', '.join(unknown)}; the solution cells are {', '.join(answers)}")
    answers.update(entry.answers)
    return make_submission(released, answers)


def coverage(entries: list[CorpusEntry], source: Path) -> dict[str, dict[str, int]]:
    """Per solution cell of ``source``: how many correct and wrong entries answer it."""
    ids = _solution_ids(nbformat.read(source, as_version=4))
    counts = {i: {"correct": 0, "wrong": 0} for i in ids}
    for entry in entries:
        for grade_id in entry.answers:
            if grade_id in counts:
                counts[grade_id][entry.kind] += 1
    return counts
