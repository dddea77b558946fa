"""Issue 5's matrix: hostile and broken submissions in one batch with well-behaved ones.

One ``grade --workers 2`` run over 30 submissions of ``ps4_channels`` (about two
minutes): every student's score is asserted exactly, then what each attack left behind
(the gradebook, the source notebooks, processes, the network, output sizes).
"""

from __future__ import annotations

import hashlib
import json
import socket
import threading
from pathlib import Path

import nbformat
import psutil
import pytest
from hostile import ASSIGNMENT, NOTEBOOK, build_matrix, write_submissions

from autograder.cli import main
from autograder.course import Course
from autograder.grading import feedback, grade
from autograder.sandbox import BASE_UID, MAX_SLOTS, Limits

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning")


class _Listener:
    """A TCP server on the grader's loopback that counts who got through."""

    def __init__(self):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.5)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while not self.done.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.accepted += 1
            conn.close()

    def close(self):
        self.done.set()
        self.thread.join()
        self.sock.close()


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    root = Course(ROOT).copy_to(tmp_path_factory.mktemp("adversarial"),
                                assignments=[ASSIGNMENT]).root
    assert main(["--root", str(root), "build", ASSIGNMENT]) == 0
    listener = _Listener()
    matrix = build_matrix(root / "release", root, listener.port)
    write_submissions(matrix, root / "submitted")
    source = root / "source" / ASSIGNMENT / NOTEBOOK
    before = _sha(source)
    course = Course(root)
    try:
        # 2 GB for all of a sandbox's processes (a kernel with torch needs ~0.6 GB) makes the
        # memory hog meet the limit in seconds; 30 s per cell is ample on a loaded machine.
        results = grade(course, ASSIGNMENT, workers=2, timeout=30,
                        limits=Limits(memory_mb=2048), progress=False)
    finally:
        listener.close()
    return {"course": course, "matrix": matrix, "results": {r.student: r for r in results},
            "source_sha": (before, _sha(source)), "listener": listener}


def _graded(batch, student: str) -> nbformat.NotebookNode:
    path = batch["course"].folder("autograded") / student / ASSIGNMENT / NOTEBOOK
    return nbformat.read(path, as_version=4)


def _text(nb: nbformat.NotebookNode) -> str:
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            parts.append(out.get("text", "") + out.get("evalue", ""))
    return "\n".join(parts)


def test_every_submission_gets_exactly_its_score(batch):
    got = {s: r.score for s, r in batch["results"].items()}
    expected = {s: float(score) for s, (_, score) in batch["matrix"].items()}
    assert got == expected
    # 14 points of tests (all a submission can earn here) and 4 of written answers, which
    # wait for a person: no attack scores them
    assert all(r.status == "graded" and r.max_score == 18 and r.auto_max == 14
               for r in batch["results"].values())


def test_gradebook_holds_the_same_scores_and_nothing_else(batch):
    with batch["course"].gradebook() as gb:
        students = sorted(s.id for s in gb.students)
        scores = {s: float(gb.find_submission(ASSIGNMENT, s).score) for s in students}
        manual = [g.manual_score for s in students
                  for nb in gb.find_submission(ASSIGNMENT, s).notebooks for g in nb.grades]
        assert float(gb.find_assignment(ASSIGNMENT).max_score) == 18  # 4 of written answers
    assert students == sorted(batch["matrix"])
    assert scores == {s: float(score) for s, (_, score) in batch["matrix"].items()}
    assert set(manual) == {None}


@pytest.mark.parametrize(("student", "reason"), [
    ("m01_os_exit", "kernel died"),
    ("m02_infinite_loop", "timed out after 30 s"),
    ("m10_corrupt_json", "corrupt notebook: ps4_channels.ipynb is not valid JSON"),
    ("m10_missing_notebook", "missing notebook: ps4_channels.ipynb was not submitted"),
    ("m19_memory_hog", "memory limit"),
])
def test_the_summary_gives_the_reason(batch, student, reason):
    result = batch["results"][student]
    assert reason in result.reason
    assert reason in result.line()


def test_a_dead_kernel_keeps_the_points_before_it(batch):
    nb = _graded(batch, "m01_os_exit")
    assert "kernel died" in nb.cells[0].source  # the grader's note for the student
    text = _text(nb)
    assert "not run: kernel died" in text


def test_restored_cells_are_the_instructors(batch):
    for student in ("m04_duplicated_test", "m05_deleted_tests", "m06_edited_tests",
                    "m07_inflated_points", "m08_renamed_grade_id"):
        nb = _graded(batch, student)
        tests = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")
                 and not c.metadata["nbgrader"].get("solution")]
        ids = [c.metadata["nbgrader"]["grade_id"] for c in tests]
        assert len(ids) == len(set(ids)) == 8, student
        assert sum(c.metadata["nbgrader"]["points"] for c in tests) == 14, student
        assert all("### BEGIN HIDDEN TESTS" in c.source or "observe(" in c.source
                   for c in tests), student


def test_output_is_capped_by_bytes_in_notebook_and_feedback(batch):
    course = batch["course"]
    path = course.folder("autograded") / "m11_big_print" / ASSIGNMENT / NOTEBOOK
    assert path.stat().st_size < 1_000_000
    assert "more bytes were not kept" in _text(_graded(batch, "m11_big_print"))
    written, failed = feedback(course, ASSIGNMENT, students=["m11_big_print"])
    assert not failed and written
    assert all(p.stat().st_size < 2_000_000 for p in written)


def test_feedback_is_written_for_every_student_with_reasons(batch):
    course = batch["course"]
    written, failed = feedback(course, ASSIGNMENT)
    assert failed == []
    assert len(written) == len(batch["matrix"])
    page = (course.folder("feedback") / "m10_corrupt_json" / ASSIGNMENT
            / "ps4_channels.html").read_text()
    assert "corrupt notebook" in page


def test_sandbox_could_not_see_or_touch_the_course(batch):
    before, after = batch["source_sha"]
    assert before == after
    text = _text(_graded(batch, "m16_snoop"))
    assert "READ" not in text and "WROTE" not in text
    assert text.count("denied:") == 7
    assert "home: no /root" in text or "home: []" in text


def test_network_is_blocked(batch):
    text = _text(_graded(batch, "m20_network"))
    assert "CONNECTED" not in text
    assert text.count("blocked:") == 3
    assert batch["listener"].accepted == 0


def test_no_process_of_any_submission_is_left(batch):
    uids = range(BASE_UID, BASE_UID + MAX_SLOTS)
    left = []
    for proc in psutil.process_iter(["uids", "cmdline", "status"]):
        if proc.info["status"] == psutil.STATUS_ZOMBIE:
            continue  # exited; only the reaping is left (to init, if the worker has gone)
        cmdline = " ".join(proc.info.get("cmdline") or [])
        if proc.info["uids"] and proc.info["uids"].real in uids:
            left.append(cmdline)
        elif any(tag in cmdline for tag in ("4243", "4244", "4245")):
            left.append(cmdline)
    assert left == []


def test_fork_bomb_and_huge_allocation_failed_inside_the_sandbox(batch):
    assert "fork stopped after" in _text(_graded(batch, "m19_fork_bomb"))
    assert "allocation failed" in _text(_graded(batch, "m19_huge_alloc"))


def test_the_grader_reads_the_code_for_forbidden_names(batch):
    record = batch["course"].folder("autograded") / "m24_patched_forbidden_check" / ASSIGNMENT
    cells = json.loads((record / "grading.json").read_text())["notebooks"][NOTEBOOK]["cells"]
    assert "corr2d uses conv2d (the grader read your code)" in cells["test_corr2d_vs_torch"][
        "reason"]
    assert cells["test_corr2d_example"]["points"] == 1


def test_forged_results_are_ignored(batch):
    record = batch["course"].folder("autograded") / "m21_fake_results" / ASSIGNMENT
    assert '"score": 0.0' in (record / "grading.json").read_text()


def test_script_outputs_are_not_kept(batch):
    nb = _graded(batch, "m25_script_output")
    data = [o.get("data", {}) for c in nb.cells for o in c.get("outputs", [])]
    assert all(set(d) <= {"text/plain", "text/latex", "image/png", "image/jpeg"} for d in data)
    notes = [d.get("text/plain", "") for d in data]
    assert any("not shown: text/html" in n for n in notes)
    assert any("not shown: application/javascript" in n for n in notes)
    assert "__pwned" not in json.dumps(data)
