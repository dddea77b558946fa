"""Feedback a student can read (issue 11, part 6), on real grading of ps1_output_shapes.

Two example students are graded in the sandbox (alice: full marks, bob: a wrong answer in
most tasks) and ``python -m autograder feedback`` writes their HTML. The oracles are the
source notebook (test ids and docstrings, hidden regions) and the grader's own record
(``grading.json``: which tests lost points and why). The last test opens the feedback in
headless Chromium with every network request refused and checks that the formulas are
typeset; like tests/test_browser.py it is skipped only when ``CNNKIT_SKIP_BROWSER=1``.
(About a minute and a half on 2 cores: a reference run and two submissions.)
"""

from __future__ import annotations

import ast
import html
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from bs4 import BeautifulSoup

from autograder.cli import main
from autograder.course import Course
from autograder.preprocessors import HideHiddenTests, SummarizeTests
from autograder.submissions import EXAMPLES, make_submission, parse_answers
from cnnkit.observe import MIME

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT = "ps1_output_shapes"
STUDENTS = ["alice", "bob"]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
pytestmark = pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning")


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Course:
    course = Course(ROOT).copy_to(tmp_path_factory.mktemp("feedback") / "course",
                                  assignments=[ASSIGNMENT])
    assert main(["--root", str(course.root), "build", ASSIGNMENT]) == 0
    released = course.released_notebooks(ASSIGNMENT)[0]
    for student in STUDENTS:
        answers = parse_answers((EXAMPLES / ASSIGNMENT / f"{student}.py").read_text())
        course.submit(ASSIGNMENT, student, make_submission(released, answers), released.name)
    assert main(["--root", str(course.root), "grade", ASSIGNMENT, "--workers", "1",
                 "--no-progress"]) == 0
    assert main(["--root", str(course.root), "feedback", ASSIGNMENT]) == 0
    return course


def _page(course: Course, student: str) -> Path:
    return course.folder("feedback") / student / ASSIGNMENT / f"{ASSIGNMENT}.html"


def _soup(course: Course, student: str) -> BeautifulSoup:
    return BeautifulSoup(_page(course, student).read_text(), "html.parser")


def _record(course: Course, student: str) -> dict:
    path = course.folder("autograded") / student / ASSIGNMENT / "grading.json"
    return json.loads(path.read_text())


def _source_tests() -> list[tuple[str, str]]:
    """(grade_id, first docstring line) of every test cell of the instructor's notebook."""
    nb = nbformat.read(ROOT / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    tests = []
    for cell in nb.cells:
        nbg = cell.metadata.get("nbgrader", {})
        if nbg.get("grade") and not nbg.get("solution"):
            doc = ast.get_docstring(ast.parse(cell.source))
            tests.append((nbg["grade_id"], doc.strip().splitlines()[0]))
    return tests


def _lost(record: dict) -> dict[str, tuple[float, str]]:
    """grade_id -> (points lost, reason) for every test the grader took points from."""
    cells = record["notebooks"][f"{ASSIGNMENT}.ipynb"]["cells"]
    return {k: (c["max_points"] - c["points"], c["reason"])
            for k, c in cells.items() if c["points"] < c["max_points"]}


@pytest.mark.parametrize("student", STUDENTS)
def test_each_test_is_headed_by_its_name_and_docstring(course, student):
    soup = _soup(course, student)
    headings = [(h.select_one("code.test-name").get_text(), h.select_one(".test-doc").get_text())
                for h in soup.select("h3.test-heading")]
    expected = _source_tests()
    assert len(expected) >= 8
    assert headings == expected
    assert "Test cell" not in soup.get_text()
    for grade_id, _doc in expected:  # the summary's links lead to the headings
        assert soup.find("h3", id=grade_id) is not None


@pytest.mark.parametrize("student", STUDENTS)
def test_the_top_lists_exactly_the_tests_that_lost_points_and_why(course, student):
    soup, record = _soup(course, student), _record(course, student)
    rows = {row["data-grade-id"]: row for row in soup.select("#lost-points tr.lost")}
    lost = _lost(record)
    unanswered = {g for g, c in record["notebooks"][f"{ASSIGNMENT}.ipynb"]["written"].items()
                  if not c["answered"]}  # a written answer left as the stub: 0, no response
    assert set(rows) == set(lost) | unanswered
    for grade_id in unanswered:
        assert rows[grade_id].select_one("pre.reason").get_text() == "No response."
    docs = dict(_source_tests())
    for grade_id, (points, reason) in lost.items():
        row = rows[grade_id]
        assert row.select_one("code.test-name").get_text() == grade_id
        assert row.select_one(".test-doc").get_text() == docs[grade_id]
        assert row.select_one(".points-lost").get_text().startswith(f"{points:.1f} of ")
        assert reason and row.select_one("pre.reason").get_text() == reason
    score = soup.select_one("#summary .total").get_text(" ", strip=True)
    assert score == f"Score: {record['score']:.1f} / {record['max_score']:.1f}"
    text = str(soup)  # the summary comes before the notebook itself
    assert text.index('id="summary"') < text.index('id="notebook"')
    written = {row["data-grade-id"]: row for row in soup.select("#written-answers tbody tr")}
    assert set(written) == set(record["notebooks"][f"{ASSIGNMENT}.ipynb"]["written"])
    for grade_id, row in written.items():  # a person grades them; until then they wait
        waiting = grade_id not in unanswered
        assert ("not graded yet" in row.select_one(".answer-score").get_text()) == waiting
    if student == "alice":
        assert not lost and soup.select_one("#summary .full-marks") is not None
        assert soup.select_one("#pending").get_text(" ", strip=True) == (
            "2 written answers not graded yet: 5.0 points are not in this score.")
    else:
        assert len(lost) >= 3  # bob's wrong answers (autograder/examples/README.md)
        own = rows["test_conv_output_shape_examples"].select_one("pre.error").get_text()
        assert "a dilated 3x3 kernel spans 5 pixels" in own  # the visible check's message


def test_reasons_come_from_the_notebook_alone_without_the_grader_record(course, tmp_path):
    """A notebook graded elsewhere (no grading.json) still says why: its error outputs."""
    graded = course.folder("autograded") / "bob" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    nb = nbformat.read(graded, as_version=4)
    cells = _record(course, "bob")["notebooks"][f"{ASSIGNMENT}.ipynb"]["cells"]
    for cell in nb.cells:  # the scores as nbgrader's GetGrades puts them
        nbg = cell.metadata.get("nbgrader", {})
        if nbg.get("grade_id") in cells:
            nbg["score"] = cells[nbg["grade_id"]]["points"]
            nbg["points"] = cells[nbg["grade_id"]]["max_points"]
    note = "**Grader's note:** kernel died in cell 9; the tests after it were not run."
    nb.cells.insert(0, nbformat.v4.new_markdown_cell(note, metadata={"autograder_note": True}))
    resources = {"nbgrader": {"notebook": ASSIGNMENT}, "metadata": {"path": str(tmp_path)}}
    _, resources = SummarizeTests().preprocess(nb, resources)
    summary = resources["feedback"]
    assert summary.notes == (note,)
    lost = _lost(_record(course, "bob"))
    assert {t.grade_id for t in summary.lost} == set(lost)
    for test in summary.lost:
        cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id")
                    == test.grade_id)
        errors = [o for o in cell.outputs if o.output_type == "error"]
        verdicts = [o.evalue for o in errors if o.ename == "NotPassed"]
        own = [f"{o.ename}: {o.evalue}".rstrip(": ") for o in errors if o.ename != "NotPassed"]
        assert test.reason, test.grade_id
        assert test.reason == (verdicts[0] if verdicts else own[0][:600].rstrip()
                               + (" ..." if len(own[0]) > 600 else ""))


def _hidden_lines(course: Course) -> set[str]:
    """Every substantial line of the hidden test regions that the release does not show."""
    source = course.source_notebooks(ASSIGNMENT)[0]
    released = course.released_notebooks(ASSIGNMENT)[0].read_text()
    lines = set()
    for cell in nbformat.read(source, as_version=4).cells:
        for block in re.findall(r"BEGIN HIDDEN TESTS(.*?)END HIDDEN TESTS", cell.source, re.S):
            lines |= {ln.strip() for ln in block.splitlines() if len(ln.strip()) > 25}
    return {line for line in lines if line not in released}


@pytest.mark.parametrize("student", STUDENTS)
def test_no_hidden_test_code_and_nothing_of_the_grader_leaks(course, student):
    page = _page(course, student).read_text()
    visible = html.unescape(re.sub(r"<[^>]+>", "", page))
    hidden = _hidden_lines(course)
    assert len(hidden) > 10
    leaked = [line for line in hidden if line in visible]
    assert not leaked, f"hidden test code in the feedback: {leaked[:2]}"
    assert "hidden tests are not shown" in visible
    record = _record(course, student)
    for internal in (record["sandbox"], record["device"], MIME, "grading.json",
                     str(course.root), "Traceback (most recent call last)", "\x1b["):
        assert internal not in page, internal


@pytest.mark.parametrize("student", STUDENTS)
def test_the_page_needs_no_network(course, student):
    soup = _soup(course, student)
    assert not soup.find_all("script", src=True)
    assert "mathjax" not in str(soup).lower()
    for tag in soup.find_all(["link", "img", "iframe", "script"]):
        for attr in ("src", "href"):
            assert not str(tag.get(attr, "")).startswith(("http:", "https:", "//")), tag
    assert len(soup.find_all("math")) >= 15  # the notebook's formulas, as MathML


def test_nbgrader_own_generate_feedback_command_gives_the_same_page(course, tmp_path):
    """`nbgrader generate_feedback` (and the formgrader's button) read the same config."""
    nbgrader = Path(sys.executable).with_name("nbgrader")
    before = _page(course, "bob").read_text()
    subprocess.run([str(nbgrader), "generate_feedback", ASSIGNMENT, "--student", "bob",
                    "--force"], cwd=course.root, check=True, capture_output=True)
    assert _page(course, "bob").read_text() == before


def test_formulas_are_typeset_in_a_browser_without_network(course):
    if os.environ.get("CNNKIT_SKIP_BROWSER") == "1":
        pytest.skip("CNNKIT_SKIP_BROWSER=1: the browser tests were switched off explicitly")
    from browser_helpers import CHROMIUM, CHROMIUM_ARGS
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} not found: `apt-get install chromium`, or set "
                    "CNNKIT_SKIP_BROWSER=1 to skip the browser checks explicitly.", pytrace=False)
    page_path = _page(course, "bob")
    formulas = len(_soup(course, "bob").find_all("math"))
    refused = []

    def route(request_route):
        if request_route.request.url.startswith("file:"):
            request_route.continue_()
        else:
            refused.append(request_route.request.url)
            request_route.abort()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 900})
            page.route("**/*", route)
            page.goto(page_path.as_uri())
            boxes = page.evaluate("""() => [...document.querySelectorAll('math')].map(m => {
                const r = m.getBoundingClientRect();
                return {tex: m.getAttribute('alttext'), display: getComputedStyle(m).display,
                        width: r.width, height: r.height};
            })""")
            text = page.inner_text("#notebook")
            floor = page.locator("math[display=block]").first
            floor.evaluate("m => m.scrollIntoView({block: 'center'})")
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / f"feedback_{ASSIGNMENT}.png"))
        finally:
            browser.close()
    assert refused == []  # nothing was even asked of the network
    assert len(boxes) == formulas >= 15
    # Chromium lays a <math> out as MathML ("math"/"block math"), not as an unknown inline tag.
    assert all(b["display"] in ("math", "block math") and b["width"] > 0 for b in boxes)
    inline_height = min(b["height"] for b in boxes if b["tex"] == "n_h")
    stacked = [b for b in boxes if "\\frac" in b["tex"] and "lfloor" in b["tex"]]
    assert stacked and stacked[0]["height"] > 1.8 * inline_height  # a built fraction
    assert "$$" not in text and "\\frac" not in text and "\\lfloor" not in text


def test_hidden_tests_go_whatever_the_student_typed():
    """nbgrader's ClearHiddenTests, subclassed: a test cell's hidden region becomes one
    placeholder line and its traceback the message; a delimiter a student typed into an
    answer cell stays and stops nothing; a test cell whose regions do not pair shows
    nothing of its source (no grading needed: the preprocessor on a built notebook)."""
    def cell(source, **nbgrader):
        out = nbformat.v4.new_code_cell(source, metadata={"nbgrader": {
            "grade_id": f"c{len(nb.cells)}", "locked": False, "points": 1, **nbgrader}})
        out.outputs = [nbformat.v4.new_output("error", ename="AssertionError", evalue="no",
                                              traceback=["\x1b[31msecret = 42\x1b[0m"])]
        nb.cells.append(out)
        return out

    nb = nbformat.v4.new_notebook()
    test = cell("assert f(1) == 1\n### BEGIN HIDDEN TESTS\nsecret = 42\n### END HIDDEN TESTS",
                grade=True, solution=False)
    answer = cell("def f(x):\n    # BEGIN HIDDEN TESTS (the student's joke)\n    return x",
                  grade=True, solution=True)
    unpaired = cell("assert f(2) == 2\n### BEGIN HIDDEN TESTS\nsecret = 42", grade=True,
                    solution=False)
    plain = nbformat.v4.new_code_cell("x = 1  # BEGIN HIDDEN TESTS")
    nb.cells.append(plain)
    HideHiddenTests().preprocess(nb, {})
    assert test.source == "assert f(1) == 1\n# (hidden tests are not shown)"
    assert answer.source.endswith("(the student's joke)\n    return x")
    assert unpaired.source == "# (hidden tests are not shown)"
    assert plain.source == "x = 1  # BEGIN HIDDEN TESTS"
    for graded in (test, answer, unpaired):
        assert graded.outputs[0].traceback == ["AssertionError: no"]
