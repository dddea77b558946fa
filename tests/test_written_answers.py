"""Written answers (manually graded answer cells) through the whole pipeline, ps1 only.

nbgrader's gradebook is the oracle. In a scratch course alice answers both written
questions of ps1 and dan leaves them as the release's stubs; one grading run, then:

- the grader scores only the test cells; alice's written answers wait for a person
  (no automatic score, ``needs_manual_grade``), dan's get nbgrader's 0 and "No response.";
- the graded notebook carries each question's rubric (the formgrader shows it), the
  student version and the feedback never do;
- manual scores and a comment set through nbgrader's API (as the formgrader does) count
  in the score, survive ``grade --force``, and appear in ``export`` with the automatic
  and the manual points apart and together; the feedback shows them, or "not graded yet";
- a resubmitted, changed answer keeps its old manual score but is flagged for review.
Static checks (no grading): validate refuses a rubric outside a read-only cell.
"""

from __future__ import annotations

import contextlib
import csv
import html
import io
import json
import re
from pathlib import Path

import nbformat
import pytest

from autograder.cli import main
from autograder.course import Course
from autograder.report import report
from autograder.submissions import EXAMPLES, make_submission, parse_answers
from autograder.validate import static_checks

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT = NOTEBOOK = "ps1_output_shapes"
WRITTEN = {"written_border_pixels": 2.0, "written_convolution_commutes": 3.0}
AUTO_MAX = 23.0  # the test cells' points; alice earns all of them

pytestmark = pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning")


def _rubric_lines(source: Path) -> set[str]:
    """The substantial lines of every mark-scheme region of a source notebook."""
    lines = set()
    for cell in nbformat.read(source, as_version=4).cells:
        for block in re.findall(r"BEGIN MARK SCHEME(.*?)END MARK SCHEME", cell.source, re.S):
            lines |= {ln.strip() for ln in block.splitlines() if len(ln.strip()) > 25}
    return lines


def _submit(course: Course, student: str, extra: dict[str, str] | None = None) -> None:
    [released] = course.released_notebooks(ASSIGNMENT)
    answers = parse_answers((EXAMPLES / ASSIGNMENT / f"{student}.py").read_text())
    course.submit(ASSIGNMENT, student, make_submission(released, answers | (extra or {})),
                  released.name)


def _cli(course: Course, *args: str) -> int:
    return main(["--root", str(course.root), *args])


def _export(course: Course, said: str = "") -> dict[str, dict[str, str]]:
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        assert _cli(course, "export") == 0
    assert said in buffer.getvalue(), buffer.getvalue()
    with (course.root / "grades.csv").open() as f:
        return {row["student_id"]: row for row in csv.DictReader(f)}


def _grades(course: Course, student: str) -> dict[str, tuple]:
    with course.gradebook() as gb:
        nb = gb.find_submission_notebook(NOTEBOOK, ASSIGNMENT, student)
        return {g.name: (g.auto_score, g.manual_score, g.needs_manual_grade) for g in nb.grades}


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Course:
    course = Course(ROOT).copy_to(tmp_path_factory.mktemp("written"), assignments=[ASSIGNMENT])
    assert _cli(course, "build", ASSIGNMENT) == 0
    for student in ("alice", "dan"):
        _submit(course, student)
    return course


@pytest.fixture(scope="module")
def first_grading(course) -> str:
    """The first grading run's output (what the instructor reads)."""
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        assert _cli(course, "grade", ASSIGNMENT, "--no-progress", "--workers", "2") == 0
    return buffer.getvalue()


def test_only_tests_are_scored_and_written_answers_wait_for_a_person(course, first_grading):
    out = first_grading
    alice = next(ln for ln in out.splitlines() if ln.startswith("alice "))
    assert "tests 23 / 23; 2 written answers to grade by hand (5 points)" in alice, out
    assert "23.0 / 28.0" in alice
    assert "2 written answers of 1 students need manual grading" in out
    grades = _grades(course, "alice")
    for grade_id in WRITTEN:
        assert grades[grade_id] == (None, None, True)
    assert not any(needs for g, (_, _, needs) in grades.items() if g not in WRITTEN)
    dan = _grades(course, "dan")
    assert {g: dan[g] for g in WRITTEN} == {g: (0.0, None, False) for g in WRITTEN}
    with course.gradebook() as gb:
        assert gb.find_comment("written_border_pixels", NOTEBOOK, ASSIGNMENT,
                               "dan").comment == "No response."
        assert float(gb.find_submission(ASSIGNMENT, "alice").score) == AUTO_MAX
        assert float(gb.find_assignment(ASSIGNMENT).max_score) == AUTO_MAX + 5
    saved = json.loads((course.folder("autograded") / "alice" / ASSIGNMENT / "grading.json")
                       .read_text())
    assert saved["auto_score"] == saved["auto_max"] == AUTO_MAX
    assert saved["written_max"] == 5.0 and saved["to_grade"] == 2
    assert not set(WRITTEN) & set(saved["notebooks"][f"{NOTEBOOK}.ipynb"]["cells"])
    with course.gradebook() as gb:
        _table, _pngs, [summary] = report(gb, course.root / "reports")
    assert summary.endswith("; 2 written answers not graded yet (counted as 0: formgrader, "
                            "Manual Grading)"), summary


def test_the_rubric_reaches_the_grader_but_never_the_student(course, first_grading):
    rubric = _rubric_lines(course.folder("source") / ASSIGNMENT / f"{NOTEBOOK}.ipynb")
    assert len(rubric) >= 5
    released = (course.folder("release") / ASSIGNMENT / f"{NOTEBOOK}.ipynb").read_text()
    graded = (course.folder("autograded") / "alice" / ASSIGNMENT / f"{NOTEBOOK}.ipynb")
    graded_text = "\n".join(c.source for c in nbformat.read(graded, as_version=4).cells)
    assert all(line in graded_text for line in rubric)  # what the formgrader renders
    assert _cli(course, "feedback", ASSIGNMENT) == 0
    for student in ("alice", "dan"):
        page = (course.folder("feedback") / student / ASSIGNMENT / f"{NOTEBOOK}.html")
        text = html.unescape(re.sub(r"<[^>]+>", "", page.read_text()))
        assert not [ln for ln in rubric if ln in released or ln in text]
        assert "MARK SCHEME" not in text
    alice = (course.folder("feedback") / "alice" / ASSIGNMENT / f"{NOTEBOOK}.html").read_text()
    assert "2 written answers not graded yet: 5.0 points are not in this score" in alice
    assert alice.count("not graded yet (") == 2  # the table of written answers
    assert alice.count("Not graded yet (") == 2  # each answer's heading
    assert 'id="lost-points"' not in alice  # waiting is not losing


def test_manual_grades_count_survive_a_regrade_and_are_exported(course, first_grading):
    before = _export(course, "2 written answers are not graded yet: empty in the CSV")
    assert before["(max)"][f"{ASSIGNMENT}/auto"] == "23.0"
    assert before["(max)"][f"{ASSIGNMENT}/manual"] == "5.0"
    assert before["(max)"][f"{ASSIGNMENT}/total"] == "28.0"
    assert before["(max)"]["ungraded"] == "2"
    alice, dan = before["alice"], before["dan"]
    assert alice[f"{ASSIGNMENT}/written_border_pixels"] == ""  # not graded yet
    assert (alice[f"{ASSIGNMENT}/auto"], alice[f"{ASSIGNMENT}/manual"],
            alice[f"{ASSIGNMENT}/total"], alice["ungraded"]) == ("23.0", "", "23.0", "2")
    assert (dan[f"{ASSIGNMENT}/written_border_pixels"], dan[f"{ASSIGNMENT}/manual"],
            dan["manual"], dan["ungraded"]) == ("0.0", "0.0", "0.0", "0")
    header = list(alice)
    assert header.index(f"{ASSIGNMENT}/written_convolution_commutes") \
        < header.index(f"{ASSIGNMENT}/auto") < header.index(f"{ASSIGNMENT}/manual") \
        < header.index(f"{ASSIGNMENT}/total")

    with course.gradebook() as gb:  # what the formgrader's score boxes and comment do
        gb.find_grade("written_border_pixels", NOTEBOOK, ASSIGNMENT, "alice").manual_score = 1.5
        gb.find_grade("written_convolution_commutes", NOTEBOOK, ASSIGNMENT,
                      "alice").manual_score = 3.0
        for grade_id in WRITTEN:
            gb.find_grade(grade_id, NOTEBOOK, ASSIGNMENT, "alice").needs_manual_grade = False
        gb.find_comment("written_border_pixels", NOTEBOOK, ASSIGNMENT,
                        "alice").manual_comment = "Name what reflect padding assumes."
        gb.db.commit()
    assert _cli(course, "grade", ASSIGNMENT, "--force", "--no-progress", "--workers", "2") == 0
    grades = _grades(course, "alice")
    assert grades["written_border_pixels"] == (None, 1.5, False)
    assert grades["written_convolution_commutes"] == (None, 3.0, False)
    with course.gradebook() as gb:
        assert float(gb.find_submission(ASSIGNMENT, "alice").score) == AUTO_MAX + 4.5

    after = _export(course)["alice"]
    assert after[f"{ASSIGNMENT}/written_border_pixels"] == "1.5"
    assert (after[f"{ASSIGNMENT}/auto"], after[f"{ASSIGNMENT}/manual"],
            after[f"{ASSIGNMENT}/total"]) == ("23.0", "4.5", "27.5")
    assert (after["auto"], after["manual"], after["total"], after["ungraded"]) == (
        "23.0", "4.5", "27.5", "0")

    assert _cli(course, "feedback", ASSIGNMENT, "--student", "alice") == 0
    page = (course.folder("feedback") / "alice" / ASSIGNMENT / f"{NOTEBOOK}.html").read_text()
    text = html.unescape(re.sub(r"<[^>]+>", "", page))
    assert "not graded yet" not in text
    assert "Score: 27.5 / 28.0" in text
    assert "Name what reflect padding assumes." in text
    assert "1.5 / 2.0" in text  # the written answers' table


def test_a_changed_answer_keeps_its_manual_score_but_is_flagged_for_review(
        course, first_grading):
    with course.gradebook() as gb:
        gb.find_grade("written_border_pixels", NOTEBOOK, ASSIGNMENT, "dan").manual_score = 0.5
        gb.db.commit()
    _submit(course, "dan", {"written_border_pixels": "Pad with zeros; the map keeps its size."})
    assert _cli(course, "grade", ASSIGNMENT, "--student", "dan", "--force",
                "--no-progress", "--workers", "1") == 0
    grades = _grades(course, "dan")
    assert grades["written_border_pixels"] == (None, 0.5, True)  # a person must look again
    assert grades["written_convolution_commutes"] == (0.0, None, False)  # still no response


def test_validate_refuses_a_rubric_the_grader_would_never_see(tmp_path):
    source = ROOT / "source" / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
    checks = static_checks(source)
    assert all(c.ok for c in checks), [c.line() for c in checks if not c.ok]
    listed = next(c for c in checks if "written answers to grade by hand" in c.name)
    assert "written_border_pixels (2)" in listed.detail
    assert listed.name.endswith("2 written answers to grade by hand (2 rubrics)")
    nb = nbformat.read(source, as_version=4)
    answer = next(c for c in nb.cells if c.metadata.nbgrader.get("grade_id") ==
                  "written_border_pixels")
    answer.source += "\n=== BEGIN MARK SCHEME ===\n1 point: anything\n=== END MARK SCHEME ==="
    question = next(c for c in nb.cells if c.metadata.nbgrader.get("grade_id") ==
                    "md_written_convolution_commutes")
    question.source = question.source.replace("=== END MARK SCHEME ===", "")
    broken = tmp_path / f"{NOTEBOOK}.ipynb"
    nbformat.write(nb, broken)
    [ids] = [c for c in static_checks(broken) if c.name.endswith("cell ids and points")]
    assert not ids.ok
    assert "cell written_border_pixels has a mark scheme but is not read-only" in ids.detail
    assert "md_written_convolution_commutes: BEGIN MARK SCHEME and END MARK SCHEME do not " \
           "pair" in ids.detail
