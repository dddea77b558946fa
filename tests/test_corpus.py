"""The fair-grades corpus through the real grader (``autograder/corpus.py``).

Every assignment's corpus of alternative answers is graded in one batch, in sandboxes,
exactly as students are: each ``correct`` entry must score full marks and each ``wrong``
entry must fail exactly the test cells it names. A fast test checks first that every
task has at least three correct and two wrong alternatives.
"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from nbgrader.utils import is_grade, is_solution

from autograder.corpus import MIN_CORRECT, MIN_WRONG, coverage, load_corpus, submission
from autograder.course import Course
from autograder.grading import build, grade
from autograder.record import RECORD

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENTS = Course(ROOT).assignments()

pytestmark = pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning")


def _test_cells(source: Path) -> dict[str, float]:
    nb = nbformat.read(source, as_version=4)
    return {c.metadata["nbgrader"]["grade_id"]: float(c.metadata["nbgrader"].get("points", 0))
            for c in nb.cells if is_grade(c) and not is_solution(c)}


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_task_has_enough_alternatives(assignment):
    course = Course(ROOT)
    [source] = course.source_notebooks(assignment)
    entries = load_corpus(assignment)
    counts = coverage(entries, source)
    short = {task: n for task, n in counts.items()
             if n["correct"] < MIN_CORRECT or n["wrong"] < MIN_WRONG}
    assert not short, f"tasks with too few corpus answers (need {MIN_CORRECT}/{MIN_WRONG}): {short}"
    tests = _test_cells(source)
    for entry in entries:
        unknown = entry.fails - set(tests)
        assert not unknown, f"{entry.name}: 'fails' names no test cell {sorted(unknown)}"
    solution = {c.metadata["nbgrader"]["grade_id"]: c.source.strip()
                for c in nbformat.read(source, as_version=4).cells
                if is_solution(c)}
    for entry in entries:
        same = [g for g, code in entry.answers.items() if code.strip() == solution.get(g)]
        assert not same, f"{entry.name} repeats the solution verbatim for {same}"


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Course:
    course = Course(ROOT).copy_to(tmp_path_factory.mktemp("corpus"))
    for assignment in ASSIGNMENTS:
        build(course, assignment)
    return course


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_corpus_grades_exactly_as_declared(scratch, assignment):
    entries = load_corpus(assignment)
    [source] = scratch.source_notebooks(assignment)
    [released] = scratch.released_notebooks(assignment)
    for entry in entries:
        scratch.submit(assignment, entry.student, submission(released, source, entry),
                       released.name)
    results = grade(scratch, assignment, students=[e.student for e in entries], force=True,
                    progress=False, workers=2)
    by_student = {r.student: r for r in results}
    tests = _test_cells(source)
    total = sum(tests.values())
    wrongly = []
    for entry in entries:
        result = by_student[entry.student]
        record = json.loads(
            (scratch.folder("autograded") / entry.student / assignment / RECORD).read_text())
        cells = record["notebooks"][released.name]["cells"]
        failed = {g for g, c in cells.items() if c["points"] < c["max_points"]}
        expected_score = total - sum(tests[g] for g in entry.fails)
        if failed != set(entry.fails) or result.score != expected_score:
            reasons = {g: cells[g]["reason"] for g in sorted(failed ^ set(entry.fails))
                       if g in cells}
            wrongly.append(f"{entry.kind} {entry.name} ({entry.summary}): failed "
                           f"{sorted(failed)}, expected {sorted(entry.fails)}; score "
                           f"{result.score} != {expected_score}; reasons {reasons}")
    assert not wrongly, "\n".join(wrongly)
