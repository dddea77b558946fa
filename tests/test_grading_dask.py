"""Grading on a real Dask cluster (``grade --scheduler``, ``autograder/cluster.py``).

The test starts a real ``dask scheduler`` and real ``dask worker`` processes on
localhost, in a folder of their own. Run as root, they run as another user
(``cnngrader``, made for the test) who cannot read the course root: everything a worker
needs must come in its tasks. The workers:

- ``w1``: a plain grading worker;
- ``w2``: started with ``--resources GPU=1`` (this machine has no GPU: the routing is what
  is tested, the tests still run on the CPU and say so);
- ``w3``: started with ``--resources SANDBOX=2`` (two submissions at once in one worker
  process): it refuses to grade, says why, and gets no task.

The scheduler allows 2 failures per task (``DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES``):
a submission that kills three workers is graded 0 with that reason.
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import nbformat
import pytest

from autograder.cli import main
from autograder.course import Course, CourseError
from autograder.grading import grade
from autograder.submissions import EXAMPLES, make_submission, parse_answers

distributed = pytest.importorskip("distributed")

ROOT = Path(__file__).resolve().parents[1]
LIGHT, OTHER = "ps4_channels", "ps1_output_shapes"
EXAMPLE_STUDENTS = ("alice", "bob", "carol", "dan")
USER = "cnngrader"
AS_ROOT = os.geteuid() == 0 and bool(shutil.which("runuser")) and bool(shutil.which("useradd"))
DASK = str(Path(sys.executable).parent / "dask")
pytestmark = [pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning"),
              pytest.mark.filterwarnings("ignore::ResourceWarning"),
              pytest.mark.filterwarnings("ignore::DeprecationWarning")]


def _as_user() -> list[str]:
    return ["runuser", "-u", USER, "--"] if AS_ROOT else []


class Cluster:
    """A scheduler and named workers, each a real process (workers under a nanny)."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.procs: dict[str, subprocess.Popen] = {}
        self.env = {**os.environ, "HOME": str(folder), "DASK_TEMPORARY_DIRECTORY": str(folder),
                    "DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": "2",
                    "DASK_DISTRIBUTED__ADMIN__LOG_LENGTH": "0"}
        for key in ("PYTHONPATH", "NBGRADER_EXECUTION"):
            self.env.pop(key, None)
        self.address = ""

    def _start(self, name: str, args: list[str]) -> None:
        log = (self.folder / f"{name}.log").open("w")
        self.procs[name] = subprocess.Popen([*_as_user(), DASK, *args], cwd=self.folder,
                                            env=self.env, stdout=log, stderr=log,
                                            start_new_session=True)

    def start(self) -> None:
        sched_file = self.folder / "scheduler.json"
        self._start("scheduler", ["scheduler", "--host", "127.0.0.1", "--port", "0",
                                  "--no-dashboard", "--scheduler-file", str(sched_file)])
        deadline = time.monotonic() + 120
        while not sched_file.is_file() or not sched_file.read_text().strip():
            assert time.monotonic() < deadline, (self.folder / "scheduler.log").read_text()
            time.sleep(0.2)
        time.sleep(0.2)
        self.address = json.loads(sched_file.read_text())["address"]
        for name, resources in (("w1", "SANDBOX=1"), ("w2", "SANDBOX=1 GPU=1"),
                                ("w3", "SANDBOX=2")):
            self._start(name, ["worker", self.address, "--name", name, "--nthreads", "1",
                               "--resources", resources,
                               "--no-dashboard", "--memory-limit", "3GB",
                               "--local-directory", str(self.folder / name)])
        with self.client() as client:
            client.wait_for_workers(3, timeout=180)

    def client(self) -> distributed.Client:
        return distributed.Client(self.address, timeout=60, set_as_default=False)

    def stop(self) -> None:
        for proc in self.procs.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()

    def logs(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text()[-3000:]}"
                         for p in sorted(self.folder.glob("*.log")))


@pytest.fixture(scope="module")
def cluster():
    # Not under pytest's tmp folder: that one is 0700 root's, the cluster's user must reach
    # its own folder. The course roots stay there, out of the cluster's reach.
    folder = Path(f"/tmp/cnn-course-dask-{os.getpid()}")
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(mode=0o700)
    if AS_ROOT:
        try:
            pwd.getpwnam(USER)
        except KeyError:
            subprocess.run(["useradd", "--no-create-home", "--shell", "/usr/sbin/nologin",
                            USER], check=True)
        os.chown(folder, pwd.getpwnam(USER).pw_uid, pwd.getpwnam(USER).pw_gid)
    found = Cluster(folder)
    try:
        found.start()
        yield found
    finally:
        found.stop()
        shutil.rmtree(folder, ignore_errors=True)


def _course(tmp_path: Path, assignments: dict[str, int]) -> Course:
    """A scratch course with ``n`` submissions of each assignment (example students)."""
    course = Course(ROOT).copy_to(tmp_path / "course", assignments=list(assignments))
    for assignment, n in assignments.items():
        assert main(["--root", str(course.root), "build", assignment]) == 0
        released = course.released_notebooks(assignment)[0]
        for i in range(n):
            example = EXAMPLE_STUDENTS[i % len(EXAMPLE_STUDENTS)]
            answers = parse_answers((EXAMPLES / assignment / f"{example}.py").read_text())
            folder = course.folder("submitted") / f"s{i:02d}_{example}" / assignment
            folder.mkdir(parents=True)
            nbformat.write(make_submission(released, answers), folder / released.name)
    return course


def _records(course: Course, assignment: str) -> dict[str, dict]:
    return {p.parent.parent.name: json.loads(p.read_text())
            for p in course.folder("autograded").glob(f"*/{assignment}/grading.json")}


def _per_cell(course: Course, assignment: str) -> dict[str, dict[str, float]]:
    return {student: {g: c["points"] for nb in r["notebooks"].values()
                      for g, c in nb["cells"].items()}
            for student, r in _records(course, assignment).items()}


def test_the_cluster_cannot_read_the_course(cluster, tmp_path):
    course = _course(tmp_path, {})
    if not AS_ROOT:
        pytest.skip("run as root to run the cluster as another user")
    probe = subprocess.run([*_as_user(), sys.executable, "-c",
                            f"open({str(course.root / 'nbgrader_config.py')!r}).read()"],
                           capture_output=True, text=True, cwd=cluster.folder)
    assert probe.returncode != 0 and "PermissionError" in probe.stderr


def test_twenty_submissions_of_two_assignments_grade_exactly_as_one_local_worker(
        cluster, tmp_path, capfd):
    course = _course(tmp_path, {LIGHT: 10, OTHER: 10})
    local = {}
    for assignment in (LIGHT, OTHER):
        grade(course, assignment, workers=1, progress=False)
        local[assignment] = _per_cell(course, assignment)
        assert len(local[assignment]) == 10
    capfd.readouterr()
    for assignment in (LIGHT, OTHER):
        results = grade(course, assignment, scheduler=cluster.address, force=True,
                        progress=False)
        assert [r.status for r in results] == ["graded"] * 10, [r.line() for r in results]
        assert _per_cell(course, assignment) == local[assignment]
        records = _records(course, assignment).values()
        workers = {r["worker"] for r in records}
        assert workers == {"w1", "w2"}, workers  # both graded; w3 (SANDBOX=2) took none
        assert all(r["device"].startswith("cpu") for r in records)
        assert all("Dask" in r["pool"] for r in records)
    err = capfd.readouterr().err
    assert "declares SANDBOX=2, but a worker process grades one submission at a time" in err


def _grade_in_thread(course: Course, assignment: str,
                     address: str) -> tuple[threading.Thread, list]:
    out: list = []

    def run():
        try:
            out.extend(grade(course, assignment, scheduler=address, progress=False))
        except Exception as exc:  # noqa: BLE001 - reported by the test
            out.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, out


def _kill_when_running(cluster: Cluster, match, *, times: int, deadline_s: float) -> list[str]:
    """SIGKILL the worker process running a grading task whose key ``match``es, ``times``
    times (each once its task has been on the worker for half a second, well inside the
    2 s or more a ps4 submission takes); returns the names killed. Only the worker that
    runs the task is asked for its pid: a call to all workers would wait for one that is
    restarting, and the task could finish meanwhile."""
    killed: list[str] = []
    seen: dict[str, float] = {}
    deadline = time.monotonic() + deadline_s
    with cluster.client() as client:
        while len(killed) < times and time.monotonic() < deadline:
            names = {a: str(w["name"]) for a, w in
                     client.scheduler_info(n_workers=-1)["workers"].items()}
            for address, keys in client.processing().items():
                if not any(match(str(k)) for k in keys):
                    seen.pop(address, None)
                    continue
                if time.monotonic() - seen.setdefault(address, time.monotonic()) < 0.5:
                    continue
                try:  # the worker process, not its nanny (which restarts it)
                    pid = client.run(os.getpid, workers=[address])[address]
                except Exception:  # noqa: BLE001 - it left or finished meanwhile
                    continue
                os.kill(pid, signal.SIGKILL)
                killed.append(names.get(address, address))
                seen.pop(address, None)
            time.sleep(0.1)
    return killed


def test_a_worker_killed_mid_batch_loses_and_duplicates_nothing(cluster, tmp_path):
    course = _course(tmp_path, {LIGHT: 8})
    thread, out = _grade_in_thread(course, LIGHT, cluster.address)
    killed = _kill_when_running(cluster, lambda k: k.startswith("cnn-course-grade-"),
                                times=1, deadline_s=300)
    thread.join(timeout=600)
    assert killed, (out, cluster.logs()[-3000:])
    assert not thread.is_alive()
    assert len(out) == 8 and all(not isinstance(r, Exception) for r in out), out
    assert sorted(r.student for r in out) == sorted(_records(course, LIGHT))
    assert all(r.status == "graded" for r in out), [r.line() for r in out]
    expected = {"alice": 14.0, "bob": 6.0, "carol": 3.0, "dan": 0.0}
    assert {r.student: r.score for r in out} == {
        r.student: expected[r.student.split("_")[1]] for r in out}
    with course.gradebook() as gb:  # one submission per student, one grade per cell
        assert len(gb.assignment_submissions(LIGHT)) == 8
        for submission in gb.assignment_submissions(LIGHT):
            ids = [g.name for nb in submission.notebooks for g in nb.grades]
            assert len(ids) == len(set(ids))


def test_a_submission_that_kills_three_workers_scores_zero_and_the_batch_goes_on(
        cluster, tmp_path):
    course = _course(tmp_path, {LIGHT: 4})
    # What kills the workers is played by the test: each worker that runs this student's
    # task is SIGKILLed, as a submission that crashes the process grading it would.
    poison = "s99_poison"
    folder = course.folder("submitted") / poison / LIGHT
    folder.mkdir(parents=True)
    shutil.copy(course.folder("submitted") / "s00_alice" / LIGHT / f"{LIGHT}.ipynb", folder)
    thread, out = _grade_in_thread(course, LIGHT, cluster.address)
    killed = _kill_when_running(cluster, lambda k: f"-{poison}-" in k, times=3,
                                deadline_s=400)
    thread.join(timeout=600)
    assert len(killed) == 3, (killed, cluster.logs())
    results = {r.student: r for r in out}
    assert results[poison].status == "graded" and results[poison].score == 0.0
    assert "stopped 3 grading workers" in results[poison].reason
    assert {s: r.score for s, r in results.items() if s != poison} == {
        "s00_alice": 14.0, "s01_bob": 6.0, "s02_carol": 3.0, "s03_dan": 0.0}
    record = _records(course, LIGHT)[poison]
    cells = record["notebooks"][f"{LIGHT}.ipynb"]["cells"]
    assert cells and all(c["points"] == 0 and "stopped 3" in c["reason"] for c in cells.values())


def test_an_assignment_that_wants_a_gpu_goes_to_the_gpu_worker(cluster, tmp_path):
    course = _course(tmp_path, {LIGHT: 4})
    config = course.root / "nbgrader_config.py"
    config.write_text(config.read_text() + f"\nc.ClusterGrading.gpu_assignments = [{LIGHT!r}]\n")
    results = grade(Course(course.root), LIGHT, scheduler=cluster.address, progress=False)
    assert [r.status for r in results] == ["graded"] * 4
    records = _records(course, LIGHT).values()
    assert {r["worker"] for r in records} == {"w2"}  # the only worker with a GPU resource
    assert all(r["device"].startswith("cpu") for r in records)  # its tests ran on the CPU
    assert all("GPU tasks on 1 worker" in r["pool"] for r in records)


def test_no_reachable_scheduler_is_a_clear_error(tmp_path):
    course = _course(tmp_path, {LIGHT: 1})
    config = course.root / "nbgrader_config.py"
    config.write_text(config.read_text() + "\nc.ClusterGrading.connect_timeout_s = 2.0\n")
    course = Course(course.root)
    with pytest.raises(CourseError, match="cannot reach the Dask scheduler"):
        grade(course, LIGHT, scheduler="tcp://127.0.0.1:9", progress=False)
    with pytest.raises(CourseError, match="always grades in the sandbox"):
        grade(course, LIGHT, scheduler="tcp://127.0.0.1:9", unsafe=True, progress=False)


def test_a_killed_grading_command_resumes_on_the_cluster(cluster, tmp_path):
    course = _course(tmp_path, {LIGHT: 6})
    cmd = [sys.executable, "-m", "autograder", "--root", str(course.root), "grade", LIGHT,
           "--scheduler", cluster.address, "--no-progress"]
    proc = subprocess.Popen(cmd, start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while len(_records(course, LIGHT)) < 2 and time.monotonic() < deadline:
        assert proc.poll() is None, "the batch ended before it could be killed"
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    before = set(_records(course, LIGHT))
    assert 2 <= len(before) < 6
    results = grade(course, LIGHT, scheduler=cluster.address, progress=False)
    assert {r.student for r in results if r.status == "skipped"} == before
    assert all(r.status in ("graded", "skipped") for r in results)
    assert len(_records(course, LIGHT)) == 6
    with course.gradebook() as gb:
        assert len(gb.assignment_submissions(LIGHT)) == 6
