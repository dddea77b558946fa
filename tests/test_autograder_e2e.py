"""The instructor's pipeline end to end, through nbgrader's real converters and gradebook.

A temporary course gets the repository's config and assignments; the example students'
answers become submissions in an LMS-style zip; then collect, grade, feedback, export
and report run as an instructor would run them, and every student's score is asserted
exactly. (24 notebooks run in real kernels: six assignments, four students.)
"""

from __future__ import annotations

import csv
import html
import json
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from autograder.cli import main
from autograder.course import Course
from autograder.submissions import write_lms_zip

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENTS = [
    "ps1_output_shapes",
    "ps2_pooling_as_convolution",
    "ps3_lenet_variants",
    "ps4_channels",
    "ps5_backprop",
    "ps6_transfer_learning",
]
# The examples' scores (autograder/examples/README.md says why each student loses points).
EXPECTED = {
    "ps1_output_shapes": {"alice": 23, "bob": 10, "carol": 5, "dan": 0},
    "ps2_pooling_as_convolution": {"alice": 19, "bob": 6, "carol": 9, "dan": 0},
    "ps3_lenet_variants": {"alice": 19, "bob": 12, "carol": 6, "dan": 0},
    "ps4_channels": {"alice": 14, "bob": 6, "carol": 3, "dan": 0},
    "ps5_backprop": {"alice": 25, "bob": 9, "carol": 10, "dan": 0},
    "ps6_transfer_learning": {"alice": 28, "bob": 19, "carol": 20, "dan": 0},
}
MAX = {  # the tests' points; written answers add WRITTEN (graded by hand, so not here yet)
    "ps1_output_shapes": 23,
    "ps2_pooling_as_convolution": 19,
    "ps3_lenet_variants": 19,
    "ps4_channels": 14,
    "ps5_backprop": 25,
    "ps6_transfer_learning": 28,
}
WRITTEN = {
    "ps1_output_shapes": 5,
    "ps2_pooling_as_convolution": 4,
    "ps3_lenet_variants": 2,
    "ps4_channels": 4,
    "ps5_backprop": 0,
    "ps6_transfer_learning": 0,
}
# Written answers the examples wrote (the others left the stub: "No response.", 0 points).
ANSWERED = {"alice": 4, "bob": 1, "carol": 0, "dan": 0}

pytestmark = pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning")


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    root = Course(ROOT).copy_to(tmp_path_factory.mktemp("course")).root
    for assignment in ASSIGNMENTS:
        assert main(["--root", str(root), "build", assignment]) == 0
    archive = root / "downloaded" / "lms.zip"
    write_lms_zip(root / "release", ASSIGNMENTS, archive)
    assert main(["--root", str(root), "collect", str(archive)]) == 0
    for assignment in ASSIGNMENTS:
        main(["--root", str(root), "grade", assignment, "--no-progress"])
        assert main(["--root", str(root), "feedback", assignment]) == 0
    assert main(["--root", str(root), "export"]) == 0
    assert main(["--root", str(root), "report"]) == 0
    return Course(root)


def test_every_student_gets_exactly_the_expected_score(course):
    with course.gradebook() as gb:
        got = {
            a: {s.id: float(gb.find_submission(a, s.id).score) for s in gb.students}
            for a in ASSIGNMENTS
        }
        maxima = {a: float(gb.find_assignment(a).max_score) for a in ASSIGNMENTS}
    assert got == EXPECTED
    assert maxima == {a: MAX[a] + WRITTEN[a] for a in ASSIGNMENTS}


def test_grading_records_device_and_time(course):
    record = course.folder("autograded") / "bob" / "ps3_lenet_variants" / "grading.json"
    text = record.read_text()
    assert '"device": "cpu' in text or '"device": "cuda' in text
    assert '"status": "graded"' in text


def test_written_answers_wait_for_a_person(course):
    with course.gradebook() as gb:
        for assignment in ASSIGNMENTS:
            for student in EXPECTED[assignment]:
                nb = gb.find_submission_notebook(assignment, assignment, student)
                waiting = {g.name for g in nb.grades if g.needs_manual_grade}
                assert all(name.startswith("written_") for name in waiting), waiting
                assert all(g.auto_score is None for g in nb.grades if g.name in waiting)
    record = course.folder("autograded") / "alice" / "ps1_output_shapes" / "grading.json"
    saved = json.loads(record.read_text())
    assert (saved["auto_score"], saved["written_max"], saved["to_grade"]) == (23, 5, 2)


def _hidden_lines(notebook: Path) -> set[str]:
    """Every substantial line of the hidden test regions of a source notebook."""
    lines = set()
    for cell in nbformat.read(notebook, as_version=4).cells:
        for block in re.findall(r"BEGIN HIDDEN TESTS(.*?)END HIDDEN TESTS", cell.source, re.S):
            lines |= {ln.strip() for ln in block.splitlines() if len(ln.strip()) > 25}
    return lines


def _visible_text(page: Path) -> str:
    """What a browser shows of an HTML page: tags removed, entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", page.read_text()))


def _rubric_lines(notebook: Path) -> set[str]:
    """Every substantial line of the written answers' rubrics in a source notebook."""
    lines = set()
    for cell in nbformat.read(notebook, as_version=4).cells:
        for block in re.findall(r"BEGIN MARK SCHEME(.*?)END MARK SCHEME", cell.source, re.S):
            lines |= {ln.strip() for ln in block.splitlines() if len(ln.strip()) > 25}
    return lines


def test_feedback_shows_messages_but_never_hidden_tests(course):
    for assignment in ASSIGNMENTS:
        released = "\n".join(c.source for c in nbformat.read(  # the text, not its JSON escapes
            course.folder("release") / assignment / f"{assignment}.ipynb", as_version=4).cells)
        source = course.folder("source") / assignment / f"{assignment}.ipynb"
        hidden = {line for line in _hidden_lines(source) if line not in released}
        assert len(hidden) > 10
        for student in EXPECTED[assignment]:
            text = _visible_text(
                course.folder("feedback") / student / assignment / f"{assignment}.html"
            )
            assert "hidden tests are not shown" in text
            leaked = [line for line in hidden if line in text]
            assert not leaked, f"{student}/{assignment} feedback shows hidden code: {leaked[:2]}"
            rubric = [line for line in _rubric_lines(source) if line in text]
            assert not rubric, f"{student}/{assignment} feedback shows the rubric: {rubric[:2]}"
    bob = _visible_text(
        course.folder("feedback") / "bob" / "ps1_output_shapes" / "ps1_output_shapes.html"
    )
    assert "a dilated 3x3 kernel spans 5 pixels" in bob  # a visible check's message
    assert "nn.Conv2d gives" in bob  # a hidden check's message, not its code
    carol = _visible_text(
        course.folder("feedback")
        / "carol"
        / "ps2_pooling_as_convolution"
        / "ps2_pooling_as_convolution.html"
    )
    assert "max_pool_via_unfold uses" in carol or "was called" in carol
    carol = _visible_text(
        course.folder("feedback") / "carol" / "ps5_backprop" / "ps5_backprop.html"
    )
    assert "conv2d_backward uses autograd" in carol  # autograd's right values score 0, with why


def test_export_has_every_test_cell_and_totals_that_match_the_gradebook(course):
    with (course.root / "grades.csv").open() as f:
        rows = list(csv.DictReader(f))
    by_student = {r["student_id"]: r for r in rows}
    assert set(by_student) == {"(max)", "alice", "bob", "carol", "dan"}
    sums = ("/auto", "/manual", "/late_penalty", "/total")
    for assignment, scores in EXPECTED.items():
        cells = [k for k in rows[0] if k.startswith(assignment + "/") and not k.endswith(sums)]
        tests = [c for c in cells if "/written_" not in c]
        assert len(tests) >= 4 and (len(cells) > len(tests)) == (WRITTEN[assignment] > 0)
        maxima = by_student["(max)"]
        assert sum(float(maxima[c]) for c in tests) == float(maxima[f"{assignment}/auto"]) \
            == MAX[assignment]
        assert float(maxima[f"{assignment}/manual"]) == WRITTEN[assignment]
        assert float(maxima[f"{assignment}/total"]) == MAX[assignment] + WRITTEN[assignment]
        for student, score in scores.items():
            row = by_student[student]
            assert sum(float(row[c]) for c in tests) == score == float(row[f"{assignment}/auto"])
            assert float(row[f"{assignment}/total"]) == score  # no written answer graded yet
    for student, answered in ANSWERED.items():  # graded by no one yet: empty, not 0
        row = by_student[student]
        assert int(row["ungraded"]) == answered
        assert (row["manual"] == "") == (answered > 0)
    assert by_student["dan"]["ps1_output_shapes/written_border_pixels"] == "0.0"
    assert by_student["alice"]["ps1_output_shapes/written_border_pixels"] == ""
    assert float(by_student["alice"]["total"]) == float(by_student["alice"]["auto"]) == 128.0
    assert float(by_student["bob"]["ps1_output_shapes/test_conv_output_shape_examples"]) == 0.0
    assert float(by_student["bob"]["ps1_output_shapes/test_conv_params_examples"]) == 1.0


def test_nbgrader_own_export_command_uses_the_per_cell_plugin(course, tmp_path):
    nbgrader = Path(sys.executable).with_name("nbgrader")
    out = tmp_path / "nbgrader.csv"
    subprocess.run(
        [str(nbgrader), "export", "--to", str(out)],
        cwd=course.root,
        check=True,
        capture_output=True,
    )
    assert "ps1_output_shapes/test_conv_output_shape_examples" in out.read_text().splitlines()[0]


def test_report_writes_one_histogram_per_assignment(course):
    for assignment in ASSIGNMENTS:
        png = course.root / "reports" / f"{assignment}_scores.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_regrading_is_skipped_unless_forced(course, capsys):
    assert (
        main(
            [
                "--root",
                str(course.root),
                "grade",
                "ps2_pooling_as_convolution",
                "--student",
                "bob",
                "--no-progress",
            ]
        )
        == 0
    )
    assert "already graded; --force regrades" in capsys.readouterr().out
