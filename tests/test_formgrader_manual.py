"""The formgrader, as an instructor uses it after ``python -m autograder grade``.

In a scratch copy of the course with two graded submissions of one assignment (alice:
correct, bob: some wrong; both wrote something in the assignment's written-answer cells),
Chromium, through nbgrader's formgrader in JupyterLab:

- *Manage Submissions* lists every submission with the score the grader recorded, and
  "needs manual grading" while a written answer has no score (and only then: cells our
  grader scored need no manual grade);
- *Manual Grading* > bob's submission shows each test cell's points (the placeholder of
  its score box) exactly as ``grading.json`` has them;
- a score and a comment typed for bob's written answer, and *Full credit* clicked on one
  of his failed tests, are saved (the gradebook, read with nbgrader's API, has them);
- ``python -m autograder grade --force`` regrades both, and the manual scores and the
  comment survive it (the gradebook and the reloaded page), bob still "graded";
- ``python -m autograder export`` and ``nbgrader export`` count the manual points; alice's
  ungraded written answers are empty fields;
- when bob resubmits with the overridden test now passing, the override waits for a review
  (its score kept) and his unchanged written answers keep their grades;
- mallory's HTML and JavaScript (outputs, written answers) run nothing on her grading page.

Measured: 5 min 47 s on two cores at a load of 14 (other work; about 1 min of CPU): three
grading runs of three students, one JupyterLab, one Chromium.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

from autograder.course import Course
from autograder.submissions import EXAMPLES, make_submission, parse_answers

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT = "ps1_output_shapes"  # the cheapest to grade (a few seconds per student)
NOTEBOOK = ASSIGNMENT
BIN = Path(sys.executable).parent
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
STUDENTS = ("alice", "bob")
WRITTEN_SCORE = 1.5
COMMENT = "Right idea; say why the kernel shrinks the map by k - 1."

pytestmark = [
    pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning"),
    pytest.mark.skipif(os.environ.get("CNNKIT_SKIP_BROWSER") == "1",
                       reason="CNNKIT_SKIP_BROWSER=1: the browser tests were switched off"),
]


def _written_cells(notebook: Path) -> dict[str, float]:
    """``{grade_id: points}`` of the manually graded written answers (markdown cells)."""
    nb = nbformat.read(notebook, as_version=4)
    return {c.metadata.nbgrader["grade_id"]: float(c.metadata.nbgrader["points"])
            for c in nb.cells
            if c.cell_type == "markdown" and c.metadata.get("nbgrader", {}).get("grade")
            and c.metadata.nbgrader.get("solution")}


def _env() -> dict[str, str]:
    """The venv's scripts (nbgrader, alembic) first on PATH, as an activated venv has them."""
    return os.environ | {"PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}


def _run(cmd: list[str], root: Path) -> str:
    proc = subprocess.run(cmd, cwd=root, env=_env(), capture_output=True, text=True,
                          timeout=900)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"{' '.join(cmd)} failed ({proc.returncode}):\n{output[-3000:]}"
    return output


def _grade(root: Path, *extra: str) -> str:
    return _run([sys.executable, "-m", "autograder", "--root", str(root), "grade", ASSIGNMENT,
                 "--workers", "1", "--no-progress", *extra], root)


def _recorded(root: Path, student: str) -> dict[str, float]:
    """Each test cell's points as the grader recorded them in ``grading.json``."""
    saved = json.loads((root / "autograded" / student / ASSIGNMENT / "grading.json").read_text())
    cells = saved["notebooks"][f"{NOTEBOOK}.ipynb"]["cells"]
    return {grade_id: float(cell["points"]) for grade_id, cell in cells.items()}


def _gradebook(root: Path, student: str) -> dict:
    """What nbgrader's API reads from the gradebook (the oracle)."""
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        notebook = gb.find_submission_notebook(NOTEBOOK, ASSIGNMENT, student)
        return {
            "score": float(notebook.score),
            "needs_manual_grade": bool(notebook.needs_manual_grade),
            "grades": {g.name: {"auto": g.auto_score, "manual": g.manual_score,
                                "needs_manual_grade": g.needs_manual_grade}
                       for g in notebook.grades},
            "comments": {c.name: c.manual_comment for c in notebook.comments},
        }


def _attack(tag: str) -> str:
    """JavaScript that, run in a page of the server, writes ``pwned_<tag>.txt`` into the
    course root through the server's own API (the instructor's session, its XSRF cookie)."""
    return ("fetch('/api/contents/pwned_" + tag + ".txt',{method:'PUT',headers:{"
            "'Content-Type':'application/json','X-XSRFToken':decodeURIComponent("
            "(document.cookie.match(/_xsrf=([^;]+)/)||[])[1]||'')},body:JSON.stringify("
            "{type:'file',format:'text',content:'" + tag + "'})});document.title='PWNED'")


# mallory's answers put HTML and JavaScript where the formgrader shows them: outputs of
# her first answer cell (run in the sandbox) and her written answers (HTML in Markdown).
# Rendered as they are, each writes its file into the course root through the instructor's
# session (seen before autograder/sanitize.py made graded notebooks inert).
MALLORY_CODE = f"""
from IPython.display import HTML, Javascript, display
display(HTML({'<img src=x onerror="' + _attack('html') + '">'!r}))
display(Javascript({_attack('js')!r}))

def conv_output_shape(input_hw, kernel_size, padding=0, stride=1, dilation=1):
    return (1, 1)
"""
MALLORY_WRITTEN = 'Padding keeps the size. <img src=x onerror="{}">'


def _answer(student: str) -> str:
    return f"{student}'s answer: a k x k kernel without padding loses k - 1 rows and columns."


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    """A scratch course: the assignment built, alice's, bob's and mallory's submissions
    graded once."""
    course = Course(ROOT).copy_to(tmp_path_factory.mktemp("formgrader") / "course",
                                  assignments=[ASSIGNMENT])
    written = _written_cells(course.source_notebooks(ASSIGNMENT)[0])
    assert written, f"{ASSIGNMENT} has no written-answer cell to grade by hand"
    _run([sys.executable, "-m", "autograder", "--root", str(course.root), "build", ASSIGNMENT],
         course.root)
    released = course.released_notebooks(ASSIGNMENT)[0]
    for student in STUDENTS:
        answers = parse_answers((EXAMPLES / ASSIGNMENT / f"{student}.py").read_text())
        answers |= {grade_id: _answer(student) for grade_id in written}
        course.submit(ASSIGNMENT, student, make_submission(released, answers),
                      f"{NOTEBOOK}.ipynb")
    answers = {"conv_output_shape": MALLORY_CODE}
    answers |= {grade_id: MALLORY_WRITTEN.format(_attack(grade_id)) for grade_id in written}
    course.submit(ASSIGNMENT, "mallory", make_submission(released, answers),
                  f"{NOTEBOOK}.ipynb")
    _grade(course.root)
    return course.root


@pytest.fixture(scope="module")
def formgrader(course, tmp_path_factory):
    """``(lab, page)``: JupyterLab serving the scratch course, and a Chromium page logged in
    to it (one of each for the module)."""
    from browser_helpers import CHROMIUM, CHROMIUM_ARGS, JupyterLab
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} not found: `apt-get install chromium`, or set "
                    "CNNKIT_SKIP_BROWSER=1 to skip the browser tests explicitly", pytrace=False)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with JupyterLab(course, tmp_path_factory.mktemp("lab"), env=_env()) as lab, \
            sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(30_000)
            # the token in a URL sets the session cookie the formgrader's API needs
            page.goto(f"{lab.url}/lab?token={lab.token}", wait_until="commit")
            yield lab, page
        finally:
            browser.close()


def _points(value: float) -> str:
    """A score as the formgrader writes it (JavaScript's shortest form: 23, 1.5)."""
    return f"{value:g}"


def test_manual_grades_in_the_formgrader_survive_a_regrade(course, formgrader, tmp_path):
    from playwright.sync_api import expect

    root = course
    written = _written_cells(root / "source" / ASSIGNMENT / f"{NOTEBOOK}.ipynb")
    written_id, *others = written  # the first typed by hand, the others: Full credit
    recorded = {s: _recorded(root, s) for s in STUDENTS}
    auto = {s: sum(recorded[s].values()) for s in STUDENTS}
    before = {s: _gradebook(root, s) for s in STUDENTS}
    for s in STUDENTS:  # the grader's points are the gradebook's; the written cell waits
        assert {k: g["auto"] for k, g in before[s]["grades"].items() if k in recorded[s]} \
            == recorded[s]
        assert before[s]["grades"][written_id]["auto"] is None
        assert before[s]["grades"][written_id]["needs_manual_grade"]
        assert {k for k, g in before[s]["grades"].items() if g["needs_manual_grade"]} \
            == set(written), "cells the grader scored must not need a manual grade"
    failed = [k for k, v in recorded["bob"].items() if v == 0]
    assert failed and auto["alice"] > auto["bob"] > 0, (auto, recorded["bob"])
    override = failed[0]  # bob's first failed test, given full credit by hand
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        max_score = float(gb.find_submission(ASSIGNMENT, "bob").max_score)
        override_max = float(gb.find_grade_cell(override, NOTEBOOK, ASSIGNMENT).max_score)

    lab, page = formgrader
    try:
        def submissions_row(student: str):
            page.goto(f"{lab.url}/formgrader/manage_submissions/{ASSIGNMENT}")
            return page.locator("#main-table tr", has=page.locator(
                "td.student-id", has_text=student))

        # Manage Submissions: every submission, its score, waiting for a written grade
        for student in STUDENTS:
            row = submissions_row(student)
            expect(row.locator("td.score")).to_have_text(
                f"{_points(auto[student])} / {_points(max_score)}")
            expect(row.locator("td.status")).to_have_text("needs manual grading")
        page.screenshot(path=str(SCREENSHOTS / "formgrader_submissions.png"), full_page=True)

        # Manual Grading > the notebook > bob's submission
        page.goto(f"{lab.url}/formgrader/gradebook/{ASSIGNMENT}/{NOTEBOOK}")
        row = page.locator("#main-table tr", has=page.locator("a.name-shown",
                                                              has_text="bob"))
        expect(row.locator("td.written-score")).to_have_text(
            f"0 / {_points(sum(written.values()))}")
        row.locator("td.name a").first.click()
        page.wait_for_url("**/formgrader/submissions/**")
        grading_url = page.url

        def score_box(grade_id: str):
            return page.locator(f"input.score#{grade_id}")

        # every test cell shows the grader's points (placeholder) out of its maximum
        for grade_id, points in recorded["bob"].items():
            expect(score_box(grade_id)).to_have_attribute("placeholder", _points(points))
        expect(score_box(written_id)).to_have_class("score tabbable needs_manual_grade")

        # type a score and a comment for the written answer, as an instructor does
        def saved(kind: str):
            return page.expect_response(lambda r: f"/formgrader/api/{kind}/" in r.url
                                        and r.request.method == "PUT" and r.ok)

        with saved("grade"):
            score_box(written_id).fill(_points(WRITTEN_SCORE))
            score_box(written_id).press("Tab")
        with saved("comment"):
            comment = page.locator(f"textarea.comment#{written_id}-comment")
            comment.fill(COMMENT)
            comment.press("Tab")
        for grade_id in [*others, override]:
            cell = page.locator(".nbgrader_cell", has=score_box(grade_id))
            with saved("grade"):
                cell.locator("button.full-credit").click()
        for grade_id in others:
            expect(score_box(grade_id)).to_have_value(_points(written[grade_id]))
        expect(score_box(override)).to_have_value(_points(override_max))
        page.locator(".nbgrader_cell", has=score_box(written_id)).screenshot(
            path=str(SCREENSHOTS / "formgrader_manual_grade.png"))

        expected = (auto["bob"] + WRITTEN_SCORE + sum(written[k] for k in others)
                    + override_max)
        graded = _gradebook(root, "bob")
        assert graded["grades"][written_id]["manual"] == WRITTEN_SCORE
        assert graded["comments"][written_id] == COMMENT
        assert graded["grades"][override]["manual"] == override_max
        assert not graded["needs_manual_grade"]
        assert graded["score"] == pytest.approx(expected)
        expect(submissions_row("bob").locator("td.status")).to_have_text("graded")

        # a regrade keeps what the instructor did
        out = _grade(root, "--force")
        assert "3 graded, 0 failed" in out, out
        assert {s: _recorded(root, s) for s in STUDENTS} == recorded
        regraded = _gradebook(root, "bob")
        assert regraded["grades"][written_id]["manual"] == WRITTEN_SCORE
        assert regraded["comments"][written_id] == COMMENT
        assert regraded["grades"][override]["manual"] == override_max
        assert regraded["grades"][override]["auto"] == 0.0  # the grader's verdict stays
        # nothing changed, so nothing waits for a review: bob stays graded
        assert not regraded["needs_manual_grade"], regraded["grades"]
        assert regraded["score"] == pytest.approx(expected)
        assert _gradebook(root, "alice")["grades"][written_id]["needs_manual_grade"]

        page.goto(grading_url)
        expect(score_box(written_id)).to_have_value(_points(WRITTEN_SCORE))
        expect(page.locator(f"textarea.comment#{written_id}-comment")).to_have_value(COMMENT)
        expect(score_box(override)).to_have_value(_points(override_max))
        row = submissions_row("bob")
        expect(row.locator("td.score")).to_have_text(
            f"{_points(expected)} / {_points(max_score)}")
        expect(row.locator("td.status")).to_have_text("graded")
        expect(submissions_row("alice").locator("td.status")).to_have_text(
            "needs manual grading")
        page.screenshot(path=str(SCREENSHOTS / "formgrader_after_regrade.png"),
                        full_page=True)
    except BaseException:
        page.screenshot(path=str(SCREENSHOTS / "formgrader_failed.png"), full_page=True)
        raise

    # export: ours and nbgrader's own command count the manual points
    for cmd, dest in (([sys.executable, "-m", "autograder", "--root", str(root), "export",
                        "--to", str(tmp_path / "ours.csv")], tmp_path / "ours.csv"),
                      ([str(BIN / "nbgrader"), "export", "--to", str(tmp_path / "nb.csv")],
                       tmp_path / "nb.csv")):
        _run(cmd, root)
        rows = {r["student_id"]: r for r in csv.DictReader(dest.read_text().splitlines())}
        bob = {k.removeprefix(f"{ASSIGNMENT}/"): v for k, v in rows["bob"].items()}
        assert float(bob[written_id]) == WRITTEN_SCORE, bob
        assert [float(bob[k]) for k in others] == [written[k] for k in others], bob
        assert float(bob[override]) == override_max, bob
        manual = WRITTEN_SCORE + sum(written[k] for k in others)
        assert float(bob["manual"]) == pytest.approx(manual), bob
        assert float(bob["auto"]) == pytest.approx(auto["bob"] + override_max)
        assert float(bob["total"]) == pytest.approx(expected)
        # alice's written answers wait for a grader: empty fields, counted
        alice = {k.removeprefix(f"{ASSIGNMENT}/"): v for k, v in rows["alice"].items()}
        assert [alice[k] for k in written] == [""] * len(written), alice
        assert int(alice["ungraded"]) == len(written), alice

    # bob resubmits with his failed test's function fixed: the verdict under the override
    # changed, so it waits for a review (the score set by hand still counts until then)
    answers = parse_answers((EXAMPLES / ASSIGNMENT / "alice.py").read_text())
    answers |= {grade_id: _answer("bob") for grade_id in written}
    course = Course(root)
    course.submit(ASSIGNMENT, "bob", make_submission(course.released_notebooks(ASSIGNMENT)[0],
                                                     answers), f"{NOTEBOOK}.ipynb")
    _grade(root, "--force", "--student", "bob")
    resubmitted = _gradebook(root, "bob")
    assert resubmitted["grades"][override] == {"auto": override_max, "manual": override_max,
                                               "needs_manual_grade": True}
    assert resubmitted["grades"][written_id]["manual"] == WRITTEN_SCORE
    assert {k for k, g in resubmitted["grades"].items() if g["needs_manual_grade"]} \
        == {override}, "the written answers did not change: their grades stand"


def test_a_students_html_does_not_run_in_the_formgrader(course, formgrader):
    """mallory's HTML and JavaScript outputs and written answers, on her grading page, run
    nothing; her written answer shows as the text she typed."""
    from playwright.sync_api import expect

    root, (lab, page) = course, formgrader
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        submission = gb.find_submission_notebook(NOTEBOOK, ASSIGNMENT, "mallory").id
    written = _written_cells(root / "source" / ASSIGNMENT / f"{NOTEBOOK}.ipynb")
    page.goto(f"{lab.url}/formgrader/submissions/{submission}/")
    for grade_id, points in _recorded(root, "mallory").items():
        # the page's own scripts ran: each test's points are in its score box
        expect(page.locator(f"input.score#{grade_id}")).to_have_attribute(
            "placeholder", _points(points))
    # the written answer is there, as the text she typed
    answer = page.locator(".nbgrader_cell", has=page.locator(
        f"input.score#{next(iter(written))}"))
    expect(answer).to_contain_text("Padding keeps the size. <img src=x onerror=")
    page.wait_for_timeout(2000)  # time for a fetch() to land, had one started
    answer.screenshot(path=str(SCREENSHOTS / "formgrader_hostile_html.png"))
    assert page.title() != "PWNED"
    assert not sorted(p.name for p in root.glob("pwned_*")), "mallory's script ran"
