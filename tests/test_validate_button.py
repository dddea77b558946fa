"""nbgrader's **Validate** button in JupyterLab, as a student and as an instructor press it.

A scratch course builds ``ps1_output_shapes`` with nbgrader. The student's folder holds
what a student has: the course's ``nbgrader_config.py`` (students run JupyterLab on the
repository, and nbgrader's Validate reads that file from the server's folder) and three
copies of the released notebook, no ``source/`` and no gradebook:

- ``right.ipynb``: every answer cell holds the instructor's solution;
- ``wrong.ipynb``: the same, but ``conv_output_shape`` ignores dilation (the corpus entry
  ``wrong_conv_no_dilation``), so one visible test fails with its assertion message;
- ``untouched.ipynb``: the release as it is, every stub still raising NotImplementedError.

In JupyterLab on that folder and headless Chromium, each notebook is opened and its
toolbar's Validate button clicked; the test reads nbgrader's "Validation Results" dialog:
success for the right answers; for the wrong one exactly the visible test that fails, with
its source and assertion message and no hidden test's code (the release has none); for the
untouched one every visible test, each with NotImplementedError, and every written answer
still unanswered. A screenshot of each
dialog goes to ``test-artifacts/screenshots/validate_<name>.png`` (git-ignored).

The instructor's side: nbgrader's Validate runs a notebook unsandboxed, with the
privileges of whoever pressed it. In the instructor's JupyterLab (the course root), the
button on a submission in ``submitted/`` must not run the student's code: the course's
``nbgrader_config.py`` makes Validate refuse there (``autograder/validate_guard.py``), and
``nbgrader validate`` on the command line refuses too. The submission writes a file when
its code runs; the test checks that it never did.

About two minutes on two busy cores (two JupyterLab servers; three validations and one
refusal in Chromium, one refusal and one validation on the command line).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbgrader.utils import is_grade, is_solution

from autograder.cli import main
from autograder.corpus import load_corpus, submission
from autograder.course import Course
from autograder.merge import solution_answers
from autograder.submissions import make_submission
from autograder.validate_guard import RefuseStudentWork, ValidationRefused

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT = "ps1_output_shapes"
NOTEBOOK = f"{ASSIGNMENT}.ipynb"
BIN = Path(sys.executable).parent
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
WRONG = "wrong_conv_no_dilation"  # autograder/corpus/ps1_output_shapes/
WRONG_MESSAGE = "AssertionError: a dilated 3x3 kernel spans 5 pixels"
VALIDATE_TIMEOUT_S = 180  # one validation: a fresh kernel runs the whole notebook

pytestmark = pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning")


def _env() -> dict[str, str]:
    """The venv's scripts first on PATH, as an activated venv (and `make lab`) has them."""
    return os.environ | {"PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Course:
    """A scratch course with ps1 built (release/), no submissions yet."""
    course = Course(ROOT).copy_to(tmp_path_factory.mktemp("validate") / "course",
                                  assignments=[ASSIGNMENT])
    assert main(["--root", str(course.root), "build", ASSIGNMENT]) == 0
    return course


def _tests(course: Course) -> tuple[list[str], list[str]]:
    """The grade_ids of the visible and of the hidden test cells (from source/)."""
    source = nbformat.read(course.source_notebooks(ASSIGNMENT)[0], as_version=4)
    tests = [c for c in source.cells if c.cell_type == "code" and is_grade(c)
             and not is_solution(c)]
    visible = [c.metadata.nbgrader.grade_id for c in tests if "BEGIN HIDDEN" not in c.source]
    hidden = [c.metadata.nbgrader.grade_id for c in tests if "BEGIN HIDDEN" in c.source]
    return visible, hidden


def _written(course: Course) -> list[str]:
    """The grade_ids of the written answers (markdown cells graded by hand)."""
    source = nbformat.read(course.source_notebooks(ASSIGNMENT)[0], as_version=4)
    return [c.metadata.nbgrader.grade_id for c in source.cells
            if c.cell_type == "markdown" and is_grade(c) and is_solution(c)]


def _hidden_code(course: Course) -> list[str]:
    """A line of code from each hidden test block, to look for where it must not be."""
    source = nbformat.read(course.source_notebooks(ASSIGNMENT)[0], as_version=4)
    lines = []
    for cell in source.cells:
        hidden = cell.source.split("### BEGIN HIDDEN TESTS")[1:]
        for block in hidden:
            body = block.split("### END HIDDEN TESTS")[0]
            lines.append(next(ln.strip() for ln in body.splitlines() if ln.startswith("def ")))
    assert lines, "ps1 has hidden tests"
    return lines


@pytest.fixture(scope="module")
def student_home(course, tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("student")
    folder = home / ASSIGNMENT
    folder.mkdir()
    shutil.copy(course.root / "nbgrader_config.py", home / "nbgrader_config.py")
    released = course.released_notebooks(ASSIGNMENT)[0]
    source = course.source_notebooks(ASSIGNMENT)[0]
    [wrong] = [e for e in load_corpus(ASSIGNMENT) if e.name == WRONG]
    solution = dict(solution_answers(nbformat.read(source, as_version=4)).answers)
    nbformat.write(make_submission(released, solution), folder / "right.ipynb")
    nbformat.write(submission(released, source, wrong), folder / "wrong.ipynb")
    shutil.copy(released, folder / "untouched.ipynb")
    text = released.read_text()
    assert "BEGIN HIDDEN TESTS" not in text and not any(c in text for c in _hidden_code(course))
    return home


@pytest.fixture(scope="module")
def chromium():
    if os.environ.get("CNNKIT_SKIP_BROWSER") == "1":
        pytest.skip("CNNKIT_SKIP_BROWSER=1: the browser tests were switched off explicitly")
    from browser_helpers import CHROMIUM, CHROMIUM_ARGS
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} not found: `apt-get install chromium`, or set "
                    "CNNKIT_SKIP_BROWSER=1 to skip the browser tests explicitly", pytrace=False)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def student_lab(student_home, chromium, tmp_path_factory):
    """The student's JupyterLab, with nbgrader's server extensions as installed in .venv."""
    from browser_helpers import JupyterLab

    with JupyterLab(student_home, tmp_path_factory.mktemp("student-lab"), env=_env()) as lab:
        yield lab


def _press_validate(chromium, lab, path: str, screenshot: str) -> dict:
    """Open ``path`` in JupyterLab, click Validate, and read the dialog that opens."""
    from browser_helpers import NotebookPage

    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        notebook = NotebookPage(page, lab, path)
        notebook.open()
        button = page.locator(".jp-NotebookPanel-toolbar .validate-button")
        button.get_by_text("Validate", exact=True).click()
        dialog = page.locator(".jp-Dialog")
        dialog.wait_for(timeout=VALIDATE_TIMEOUT_S * 1000)
        # the screenshot shows the end of the results: the (last) error message
        dialog.locator(".jp-Dialog-body").evaluate("b => { b.scrollTop = b.scrollHeight; }")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"validate_{screenshot}.png"))
        if not dialog.locator("#validation-message").count():  # e.g. "Validation failed"
            raise AssertionError(f"Validate showed no results: {dialog.inner_text()!r}")
        result = dialog.locator("#validation-message").evaluate(
            """m => ({classes: [...m.classList], text: m.innerText,
                      failed: [...m.querySelectorAll('.jp-RenderedText pre')]
                              .map(p => p.innerText)})"""
        )
        result["title"] = dialog.locator(".jp-Dialog-header").inner_text()
        return result
    except Exception as error:
        raise AssertionError(f"{error}\n--- JupyterLab's log:\n{lab.log_tail()}") from None
    finally:
        context.close()
        lab.shutdown_kernels()


def test_right_answers_pass(chromium, student_lab):
    shown = _press_validate(chromium, student_lab, f"{ASSIGNMENT}/right.ipynb", "right")
    assert shown["title"] == "Validation Results"
    assert "validation-success" in shown["classes"], shown
    assert shown["text"].strip() == "Success! Your notebook passes all the tests."


def test_a_wrong_answer_shows_the_visible_test_it_fails(chromium, student_lab, course):
    shown = _press_validate(chromium, student_lab, f"{ASSIGNMENT}/wrong.ipynb", "wrong")
    assert "validation-failed" in shown["classes"], shown
    text = shown["text"]
    assert text.count("The following cell failed:") == 1, text
    source, error = shown["failed"]  # the failing cell's source, then its error
    assert source.startswith('"""conv_output_shape: the lecture\'s examples'), source
    assert "_test_conv_output_shape_examples()" in source
    assert WRONG_MESSAGE in error, error
    [entry] = [e for e in load_corpus(ASSIGNMENT) if e.name == WRONG]
    _, hidden = _tests(course)
    assert entry.fails & set(hidden), "the mistake is also caught by a hidden test"
    assert not any(line in text for line in _hidden_code(course)), text


def test_untouched_stubs_fail_every_visible_test(chromium, student_lab, course):
    shown = _press_validate(chromium, student_lab, f"{ASSIGNMENT}/untouched.ipynb", "untouched")
    assert "validation-failed" in shown["classes"], shown
    visible, _ = _tests(course)
    failed = shown["failed"]
    cells = list(zip(failed[::2], failed[1::2], strict=True))  # (source, error) per cell
    assert len(cells) == shown["text"].count("The following cell failed:")
    tests = [(s, e) for s, e in cells if "NotImplementedError" in e]
    # every visible test, in notebook order; the hidden tests' cells are empty and pass
    assert [re.search(r"_test_\w+", s).group(0)[1:] for s, _ in tests] == visible
    # and every written answer (manually graded markdown) still holds its stub
    unanswered = [s for s, e in cells if "You did not provide a response." in e]
    assert len(unanswered) == len(_written(course)) and len(tests) + len(unanswered) == len(cells)
    assert all("YOUR ANSWER HERE" in s for s in unanswered), unanswered


# -- the instructor's JupyterLab: Validate never runs a submission ----------------------


@pytest.fixture(scope="module")
def marker(course, tmp_path_factory) -> Path:
    """mallory's submission: right answers, and a first answer that writes ``marker``."""
    marker = tmp_path_factory.mktemp("mallory") / "ran-unsandboxed"
    released = course.released_notebooks(ASSIGNMENT)[0]
    source = course.source_notebooks(ASSIGNMENT)[0]
    answers = dict(solution_answers(nbformat.read(source, as_version=4)).answers)
    answers["conv_output_shape"] = (f"open({str(marker)!r}, 'w').write('as the instructor')\n"
                                    + answers["conv_output_shape"])
    course.submit(ASSIGNMENT, "mallory", make_submission(released, answers), NOTEBOOK)
    return marker


def test_instructors_validate_button_refuses_a_submission(chromium, course, marker,
                                                          tmp_path_factory):
    from browser_helpers import JupyterLab

    path = f"submitted/mallory/{ASSIGNMENT}/{NOTEBOOK}"
    with JupyterLab(course.root, tmp_path_factory.mktemp("instructor-lab"), env=_env()) as lab:
        shown = _press_validate(chromium, lab, path, "instructor_submission")
    text = shown["text"]
    assert text.startswith("There was an error running the validate command:"), text
    assert "refusing to validate a notebook in submitted/" in text, text
    assert "python -m autograder grade" in text
    assert not marker.exists(), "Validate ran the student's code with the instructor's privileges"


def test_nbgrader_validate_refuses_a_submission_but_checks_the_release(course, marker):
    def validate(path: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(BIN / "nbgrader"), "validate", path], cwd=course.root,
                              env=_env(), capture_output=True, text=True, timeout=300)

    refused = validate(f"submitted/mallory/{ASSIGNMENT}/{NOTEBOOK}")
    output = refused.stdout + refused.stderr
    assert refused.returncode != 0, output[-3000:]
    assert "refusing to validate a notebook in submitted/" in output, output[-3000:]
    assert not marker.exists(), "nbgrader validate ran the student's code unsandboxed"
    # the instructor's own release is validated as before (its stubs fail)
    release = validate(f"release/{ASSIGNMENT}/{NOTEBOOK}")
    output = release.stdout + release.stderr
    assert "refusing" not in output and "VALIDATION FAILED ON" in output, output[-3000:]


@pytest.mark.parametrize("where, refused", [
    ("submitted/alice/ps1", True),
    ("autograded/alice/ps1", True),
    ("feedback/alice/ps1", True),
    ("downloaded/ps1/extracted", True),
    ("submitted", True),
    ("release/ps1", False),
    ("source/ps1", False),
    ("ps1", False),
    ("submitted-notes", False),
])
def test_the_guard_refuses_exactly_the_student_folders(tmp_path, monkeypatch, where, refused):
    guard = RefuseStudentWork(tmp_path)
    (tmp_path / where).mkdir(parents=True)
    monkeypatch.chdir(tmp_path / where)
    if refused:
        with pytest.raises(ValidationRefused, match="python -m autograder grade"):
            guard(cell=None, cell_index=0)
    else:
        guard(cell=None, cell_index=0)


def test_the_guard_sees_through_a_link(tmp_path, monkeypatch):
    (tmp_path / "submitted" / "alice").mkdir(parents=True)
    (tmp_path / "mine").symlink_to(tmp_path / "submitted" / "alice")
    monkeypatch.chdir(tmp_path / "mine")
    with pytest.raises(ValidationRefused):
        RefuseStudentWork(tmp_path)(cell=None, cell_index=0)
