"""``nbgrader autograde`` and the formgrader's Autograde button grade like our grader.

The course's ``nbgrader_config.py`` replaces nbgrader's Execute step by
``autograder.nbgrader_bridge.SandboxedGrading``. Here, in scratch copies of one built
course with three ``ps1_output_shapes`` submissions (alice: correct; bob: some wrong; a
hostile student whose answers are all wrong and whose first answer cell strips every
``assert`` from the cells after it and patches the comparison functions):

- the real ``nbgrader autograde`` command line records, cell for cell, the points that
  ``python -m autograder grade`` gives (the oracle, run in another copy): 23, some, 0;
- plain nbgrader (the default steps, as ``bench/grading.py`` uses it) gives the hostile
  submission points, so the attack is real and the baseline is really plain;
- without a sandbox ``nbgrader autograde`` refuses, naming the safe command, and records
  nothing;
- the formgrader's Autograde button, clicked in Chromium, records our scores too.

About three minutes on two idle cores, six on busy ones (each grading run starts sandboxed
kernels; the browser test also starts JupyterLab and Chromium).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.utils import determine_grade

from autograder.cli import main
from autograder.course import Course
from autograder.nbgrader_bridge import SAFE_COMMAND, as_nbgrader_verdict
from autograder.submissions import EXAMPLES, make_submission, parse_answers
from bench.grading import use_plain_nbgrader

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT = "ps1_output_shapes"
NOTEBOOK = f"{ASSIGNMENT}.ipynb"
BIN = Path(sys.executable).parent
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
STUDENTS = ("alice", "bob", "hostile")
MAX = 23.0
WRITTEN = 5.0  # ps1's two written answers, graded by hand: part of the maximum shown

# All wrong (right types, wrong values), then an attack on the kernel that decides the
# tests in plain nbgrader: every later cell loses its asserts, comparisons always agree.
HOSTILE = {
    "conv_output_shape": """
def _strip(lines):
    out = []
    for line in lines:
        line = line.replace("torch.testing.assert_close(", "(lambda *a, **k: None)(")
        if line.lstrip().startswith("assert "):
            line = line[: len(line) - len(line.lstrip())] + "pass\\n"
        out.append(line)
    return out
get_ipython().input_transformers_post.append(_strip)
import math, torch, torch.testing
torch.allclose = lambda *a, **k: True
torch.equal = lambda *a, **k: True
math.isclose = lambda *a, **k: True
torch.testing.assert_close = lambda *a, **k: None

def conv_output_shape(input_hw, kernel_size, padding=0, stride=1, dilation=1):
    return (1, 1)
""",
    "pool_output_shape": """
def pool_output_shape(input_hw, kernel_size, stride=None, padding=0, ceil_mode=False):
    return (1, 1)
""",
    "same_padding": "def same_padding(kernel_size):\n    return (0, 0, 0, 0)\n",
    "conv_params_macs": """
def conv_params(c_i, c_o, kernel_size, bias=True):
    return 1

def conv_macs(c_i, c_o, input_hw, kernel_size, padding=0, stride=1):
    return 1
""",
    "lenet_shapes": "def lenet_shapes(input_hw=(28, 28)):\n    return [(1, 1, 1)] * 4\n",
}

pytestmark = pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning")


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """A built scratch course with the three submissions, never graded (copied per test)."""
    course = Course(ROOT).copy_to(tmp_path_factory.mktemp("built") / "course",
                                  assignments=[ASSIGNMENT])
    assert main(["--root", str(course.root), "build", ASSIGNMENT]) == 0
    released = course.released_notebooks(ASSIGNMENT)[0]
    answers = {s: parse_answers((EXAMPLES / ASSIGNMENT / f"{s}.py").read_text())
               for s in ("alice", "bob")}
    answers["hostile"] = HOSTILE
    for student, given in answers.items():
        course.submit(ASSIGNMENT, student, make_submission(released, given), NOTEBOOK)
    return course.root


def _copy(built: Path, dest: Path) -> Path:
    shutil.copytree(built, dest)
    return dest


def _env(path: str | None = None) -> dict[str, str]:
    """The venv's scripts (nbgrader, alembic) first on PATH, as an activated venv has them."""
    return os.environ | {"PATH": path or f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}


def _run(cmd: list[str], root: Path, env: dict[str, str] | None = None) -> str:
    proc = subprocess.run(cmd, cwd=root, env=env or _env(), capture_output=True, text=True,
                          timeout=900)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"{' '.join(cmd)} failed ({proc.returncode}):\n{output[-3000:]}"
    return output


def _nbgrader_autograde(root: Path, *args: str, env: dict[str, str] | None = None):
    return subprocess.run([str(BIN / "nbgrader"), "autograde", ASSIGNMENT, *args], cwd=root,
                          env=env or _env(), capture_output=True, text=True, timeout=900)


def _per_cell(root: Path, students=STUDENTS) -> dict[str, dict[str, float | None]]:
    """Each student's auto scores per test cell, from the copy's gradebook (written
    answers, markdown cells that wait for a person, are not test cells)."""
    table = {}
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        for student in students:
            try:
                notebook = gb.find_submission_notebook(Path(NOTEBOOK).stem, ASSIGNMENT, student)
            except MissingEntry:
                continue
            table[student] = {g.name: g.auto_score for g in notebook.grades
                              if g.cell_type == "code"}
    return table


@pytest.fixture(scope="module")
def ours(built, tmp_path_factory) -> dict[str, dict[str, float | None]]:
    """The oracle: ``python -m autograder grade`` on the same submissions, per cell."""
    root = _copy(built, tmp_path_factory.mktemp("ours") / "course")
    _run([sys.executable, "-m", "autograder", "--root", str(root), "grade", ASSIGNMENT,
          "--workers", "1", "--no-progress"], root)
    table = _per_cell(root)
    totals = _totals(table)
    # alice: full marks; bob: some (autograder/examples/README.md says which); hostile: none
    assert totals["alice"] == MAX and 0 < totals["bob"] < MAX and totals["hostile"] == 0, totals
    return table


def _totals(table: dict[str, dict[str, float | None]]) -> dict[str, float]:
    return {s: sum(cells.values()) for s, cells in table.items()}


def _cell(*outputs: dict) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell("assert True", outputs=list(outputs))
    cell.metadata["nbgrader"] = {"grade": True, "solution": False, "grade_id": "t",
                                 "points": 3, "locked": True}
    return cell


@pytest.mark.parametrize("outputs", [
    [],
    [nbformat.v4.new_output("stream", name="stderr", text="UserWarning: ...\n")],
    [nbformat.v4.new_output("execute_result", data={"text/plain": "1"}, execution_count=3)],
    [nbformat.v4.new_output("error", ename="AssertionError", evalue="", traceback=[])],
    [nbformat.v4.new_output("execute_result", data={"text/plain": "0.5"}, execution_count=1),
     nbformat.v4.new_output("error", ename="AssertionError", evalue="", traceback=[])],
], ids=["nothing", "stderr", "number", "error", "number-then-error"])
@pytest.mark.parametrize("passed", [True, False], ids=["passed", "failed"])
def test_nbgrader_reads_each_verdict_as_ours(outputs, passed):
    """nbgrader's own scoring (stderr: 0, a number: partial credit) gives exactly ours."""
    cell = _cell(*[nbformat.from_dict(o) for o in outputs])
    as_nbgrader_verdict(cell, passed, "'x': the value is not the expected one")
    assert determine_grade(cell) == ((3.0 if passed else 0.0), 3.0)
    if not passed:
        assert any(o.output_type == "error" for o in cell.outputs)
    kept = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
    assert ("UserWarning" in kept) == any(o.get("name") == "stderr" for o in outputs)


def test_nbgrader_autograde_records_the_graders_scores(built, ours, tmp_path):
    root = _copy(built, tmp_path / "course")
    proc = _nbgrader_autograde(root)
    assert proc.returncode == 0, proc.stdout + proc.stderr[-3000:]
    got = _per_cell(root)
    assert got == ours  # every cell of every student
    assert set(got) == set(STUDENTS) and _totals(got)["hostile"] == 0
    # the autograded notebook is our graded one: tests decided outside, reasons given
    graded = nbformat.read(root / "autograded" / "hostile" / ASSIGNMENT / NOTEBOOK, 4)
    reasons = [o.evalue for c in graded.cells for o in c.get("outputs", [])
               if o.output_type == "error" and o.ename == "NotPassed"]
    assert any("not the expected one" in r for r in reasons), reasons


def test_plain_nbgrader_gives_the_hostile_submission_points(built, tmp_path):
    """The attack works on nbgrader's own steps (the baseline of bench/grading.py)."""
    root = _copy(built, tmp_path / "course")
    use_plain_nbgrader(root)
    proc = _nbgrader_autograde(root, "--student", "hostile")
    assert proc.returncode == 0, proc.stdout + proc.stderr[-3000:]
    fooled = sum(_per_cell(root, ["hostile"])["hostile"].values())
    assert fooled >= 10, f"plain nbgrader gave the all-wrong submission {fooled} / {MAX:g}"


def test_without_a_sandbox_nbgrader_autograde_refuses(built, tmp_path):
    root = _copy(built, tmp_path / "course")
    proc = _nbgrader_autograde(root, "--student", "alice", env=_env(path=str(BIN)))  # no bwrap
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0, output[-3000:]
    assert "refusing to grade without a sandbox: bwrap is not installed" in output, output[-3000:]
    assert SAFE_COMMAND in output
    scores = _per_cell(root, ["alice"]).get("alice", {})
    assert all(score is None for score in scores.values()), scores
    assert not list((root / "autograded").glob(f"alice/{ASSIGNMENT}/*.ipynb"))


def test_formgrader_autograde_button_records_the_graders_scores(built, ours, tmp_path):
    """Manage Submissions > the Autograde button (the flash icon), as an instructor clicks it."""
    if os.environ.get("CNNKIT_SKIP_BROWSER") == "1":
        pytest.skip("CNNKIT_SKIP_BROWSER=1: the browser tests were switched off explicitly")
    from browser_helpers import CHROMIUM, CHROMIUM_ARGS, JupyterLab
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} not found: `apt-get install chromium`, or set "
                    "CNNKIT_SKIP_BROWSER=1 to skip the browser tests explicitly", pytrace=False)
    root = _copy(built, tmp_path / "course")
    clicked = ["bob", "hostile"]
    with JupyterLab(root, tmp_path / "lab", env=_env()) as lab, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 700})
        try:
            # log in (the token in a URL sets the session cookie the formgrader's API needs)
            page.goto(f"{lab.url}/lab?token={lab.token}", wait_until="commit")
            page.goto(f"{lab.url}/formgrader/manage_submissions/{ASSIGNMENT}")
            for student in clicked:
                row = page.locator("#main-table tr", has=page.locator(
                    "td.student-id", has_text=student))
                row.locator("td.autograde a").click()
                modal = page.locator("#success-modal, #error-modal")
                modal.wait_for(state="visible", timeout=600_000)
                text = modal.inner_text()
                assert "Successfully autograded" in text, f"{text}\n{lab.log_tail()}"
                modal.locator(".modal-footer button").click()
                modal.wait_for(state="detached", timeout=30_000)
                score = f"{_totals(ours)[student]:g} / {MAX + WRITTEN:g}"
                row.locator("td.score", has_text=score).wait_for(timeout=30_000)
        finally:
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / "formgrader_autograde.png"), full_page=True)
            browser.close()
    got = _per_cell(root)
    assert got == {s: ours[s] for s in clicked}


@pytest.mark.parametrize("student", ["..", "../x", ".hidden", "a b"])
def test_an_unsafe_student_folder_is_refused_before_anything_runs(student):
    from traitlets.config import Config

    from autograder.nbgrader_bridge import GradingRefused, SandboxedGrading

    config = Config()
    config.CourseDirectory.root = str(ROOT)
    step = SandboxedGrading(config=config)
    resources = {"nbgrader": {"assignment": "ps1_output_shapes", "student": student,
                              "notebook": "ps1_output_shapes", "db_url": "sqlite://"}}
    with pytest.raises(GradingRefused, match="is not a safe student id") as refused:
        step.preprocess(nbformat.v4.new_notebook(), resources)
    assert SAFE_COMMAND in str(refused.value)
