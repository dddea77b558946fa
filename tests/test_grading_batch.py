"""Parallel grading gives serial grading's results; a killed batch resumes; no sandbox, no
grading (unless --unsafe). Uses ps4_channels, the quickest assignment (~5 s a submission).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from autograder import sandbox
from autograder.cli import main
from autograder.course import Course, CourseError
from autograder.grading import grade
from autograder.submissions import EXAMPLES, make_submission, parse_answers

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT = "ps4_channels"
EXPECTED = {"alice": 14.0, "bob": 6.0, "carol": 3.0, "dan": 0.0}
pytestmark = pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning")


def _course(tmp_path: Path, n: int) -> tuple[Course, dict[str, float]]:
    """A scratch course with ``n`` submissions cycling through the example students."""
    course = Course(ROOT).copy_to(tmp_path / "course", assignments=[ASSIGNMENT])
    assert main(["--root", str(course.root), "build", ASSIGNMENT]) == 0
    released = course.released_notebooks(ASSIGNMENT)[0]
    names = sorted(EXPECTED)
    expected = {}
    for i in range(n):
        example = names[i % len(names)]
        student = f"s{i:02d}_{example}"
        answers = parse_answers((EXAMPLES / ASSIGNMENT / f"{example}.py").read_text())
        folder = course.folder("submitted") / student / ASSIGNMENT
        folder.mkdir(parents=True)
        nbformat.write(make_submission(released, answers), folder / released.name)
        expected[student] = EXPECTED[example]
    return course, expected


def _per_cell(course: Course) -> dict[str, dict[str, float]]:
    table = {}
    for record in sorted(course.folder("autograded").glob(f"*/{ASSIGNMENT}/grading.json")):
        saved = json.loads(record.read_text())
        cells = saved["notebooks"][f"{ASSIGNMENT}.ipynb"]["cells"]
        table[saved["student"]] = {k: v["points"] for k, v in cells.items()}
    return table


def test_two_workers_give_exactly_the_serial_results(tmp_path):
    serial, expected = _course(tmp_path / "serial", 20)
    parallel, _ = _course(tmp_path / "parallel", 20)
    one = grade(serial, ASSIGNMENT, workers=1, progress=False)
    two = grade(parallel, ASSIGNMENT, workers=2, progress=False)
    assert {r.student: r.score for r in one} == expected
    assert {r.student: r.score for r in two} == expected
    assert _per_cell(serial) == _per_cell(parallel)
    slots = {json.loads(p.read_text())["slot"]
             for p in parallel.folder("autograded").glob("*/*/grading.json")}
    assert len(slots) == 2  # both workers graded, each in its own sandbox slot


def _graded(course: Course) -> int:
    return len(list(course.folder("autograded").glob(f"*/{ASSIGNMENT}/grading.json")))


def test_a_killed_batch_finishes_on_the_next_run_without_duplicates(tmp_path):
    course, expected = _course(tmp_path, 6)
    cmd = [sys.executable, "-m", "autograder", "--root", str(course.root), "grade",
           ASSIGNMENT, "--workers", "1", "--no-progress"]
    proc = subprocess.Popen(cmd, start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 240
    while _graded(course) < 2 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    done_before = _graded(course)
    assert 2 <= done_before < 6
    time.sleep(1)  # the workers and their sandboxes die with the grader
    assert sandbox.Sandbox(0, sandbox.Limits()).processes() == []

    results = grade(course, ASSIGNMENT, workers=2, progress=False)
    assert {r.student: r.score for r in results} == expected
    assert sum(r.status == "skipped" for r in results) == done_before
    with course.gradebook() as gb:
        assert len(gb.find_assignment(ASSIGNMENT).submissions) == 6
    assert not list(course.folder("autograded").glob("*/*.partial"))

    again = grade(course, ASSIGNMENT, workers=2, force=True, progress=False)
    assert [r.status for r in again] == ["graded"] * 6
    assert {r.student: r.score for r in again} == expected
    with course.gradebook() as gb:
        assert len(gb.find_assignment(ASSIGNMENT).submissions) == 6


def test_no_sandbox_means_no_grading_unless_unsafe(tmp_path, monkeypatch, capsys):
    course, expected = _course(tmp_path, 1)
    real_which = sandbox.shutil.which
    monkeypatch.setattr(sandbox.shutil, "which",
                        lambda tool: None if tool == "bwrap" else real_which(tool))
    with pytest.raises(CourseError, match="bwrap is not installed.*--unsafe"):
        grade(course, ASSIGNMENT, workers=1, progress=False)
    assert main(["--root", str(course.root), "grade", ASSIGNMENT, "--no-progress"]) == 2
    assert "refusing to grade without a sandbox" in capsys.readouterr().err
    assert not course.folder("autograded").exists()
    monkeypatch.undo()
    results = grade(course, ASSIGNMENT, workers=1, unsafe=True, progress=False)
    assert {r.student: r.score for r in results} == expected
    record = next(course.folder("autograded").glob("*/*/grading.json")).read_text()
    assert "--unsafe" in json.loads(record)["sandbox"]
