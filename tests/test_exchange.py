"""A course run the JupyterHub way, through nbgrader's exchange, end to end.

The instructor releases ps4_channels to an exchange folder (``nbgrader
release_assignment``); two students fetch it, answer (one correctly, one partly wrong) and
submit it with nbgrader's own commands; the instructor collects (``nbgrader collect``),
grades with the sandboxed grader (``python -m autograder grade``), writes the feedback
(``python -m autograder feedback``) and releases it (``nbgrader release_feedback``); each
student fetches their feedback (``nbgrader fetch_feedback``).

Run as root (CI, a JupyterHub server), the students are two real users made for the test
(``cnnstu_a``, ``cnnstu_b``, removed afterwards) with private home folders, so nbgrader's
permission model is exercised for real: who owns what in the exchange, and what one
student can list or read of the other's. Run as anyone else, both students are the current
user with their own home folders and an explicit ``--student`` id; the whole flow still
runs, the checks between users are skipped. (About 45 s of CPU, 3 to 4 min of wall time
on a loaded 2-core machine: the solution and two submissions run in real kernels.)
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import pwd
import re
import shutil
import stat
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

from autograder.course import Course
from autograder.submissions import EXAMPLES, make_submission, parse_answers

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT = "ps4_channels"
COURSE_ID = "cnn-course"  # nbgrader_config.py's CourseDirectory.course_id
NBGRADER = Path(sys.executable).with_name("nbgrader")
# The students' unix names (= their nbgrader ids) and the example answers each hands in:
# alice is right everywhere (14/14), bob averages over the channels instead of summing.
STUDENTS = {"cnnstu_a": "alice", "cnnstu_b": "bob"}
AS_ROOT = os.geteuid() == 0 and bool(shutil.which("runuser")) and bool(shutil.which("useradd"))

pytestmark = pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning")


@dataclass
class Student:
    """One student: runs nbgrader from their own home folder, as their own user if root."""

    name: str
    home: Path
    exchange: Path

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        # A clean environment, as a student's JupyterHub server has: nothing of the
        # instructor's (JUPYTER_*, database URLs) leaks into the student's nbgrader.
        env = ["env", "-i", f"HOME={self.home}", "PATH=/usr/bin:/bin", "LANG=C.UTF-8"]
        user = ["runuser", "-u", self.name, "--"] if AS_ROOT else []
        # Not root: both students are the current user, so each names their id.
        who = [] if AS_ROOT else [f"--student={self.name}"]
        return _run([*user, *env, str(NBGRADER), *args, f"--course={COURSE_ID}",
                     f"--Exchange.root={self.exchange}", *who], cwd=self.home, check=check)

    def python(self, code: str, *args: str) -> subprocess.CompletedProcess[str]:
        """Run Python ``code`` as this student (``sys.argv[1:]`` = ``args``)."""
        user = ["runuser", "-u", self.name, "--"] if AS_ROOT else []
        return subprocess.run([*user, sys.executable, "-c", code, *args],
                              capture_output=True, text=True)

    def can_read(self, path: Path) -> bool:
        """Whether this student can list (a folder) or read (a file) ``path``."""
        done = self.python("import os,sys; p=sys.argv[1]; "
                           "os.listdir(p) if os.path.isdir(p) else open(p).read()", str(path))
        if done.returncode and "PermissionError" not in done.stderr:
            raise AssertionError(f"could not check {path} as {self.name}: {done.stderr}")
        return done.returncode == 0


def _run(cmd: list[str], *, cwd: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    if check and done.returncode:
        raise AssertionError(f"{' '.join(cmd)} failed ({done.returncode}):\n"
                             f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return done


@contextlib.contextmanager
def _user(name: str, tmp: Path):
    """A real user with a private home folder (root), or just a home folder (not root)."""
    if not AS_ROOT:
        home = tmp / name
        home.mkdir()
        yield home
        return
    made = False
    try:  # left over from a run that was killed: reuse it, with an empty home folder
        home = Path(pwd.getpwnam(name).pw_dir)
        for old in home.iterdir():
            if old.is_dir() and not old.is_symlink():
                shutil.rmtree(old)
            else:
                old.unlink()
    except KeyError:
        _run(["useradd", "--create-home", "--shell", "/usr/sbin/nologin", name], cwd=tmp)
        made, home = True, Path(pwd.getpwnam(name).pw_dir)
    home.chmod(0o700)  # as JupyterHub's spawners make it: one student's files are theirs
    try:
        yield home
    finally:
        if made:
            _run(["userdel", "--remove", name], cwd=tmp, check=False)


@pytest.fixture
def exchange():
    """nbgrader's exchange folder: world-writable with the sticky bit, reachable by all
    (pytest's own temporary folders are private to the user who runs the tests)."""
    path = Path(tempfile.mkdtemp(prefix="cnn-exchange-"))
    path.chmod(0o1777)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def students(tmp_path, exchange):
    with contextlib.ExitStack() as stack:
        if AS_ROOT:  # the users are machine-wide: one run of this test at a time
            lock = stack.enter_context(open("/tmp/cnn-course-exchange-test.lock", "w"))
            fcntl.flock(lock, fcntl.LOCK_EX)
        yield {name: Student(name, stack.enter_context(_user(name, tmp_path)), exchange)
               for name in STUDENTS}


def _answer(notebook: Path, example: str) -> None:
    """Write an example student's answers into their fetched notebook (in place, so the
    file keeps its owner)."""
    answers = parse_answers((EXAMPLES / ASSIGNMENT / f"{example}.py").read_text())
    nbformat.write(make_submission(notebook, answers), notebook)


def _misbehave(students: dict[str, Student], submissions: dict[str, Path],
               course: Course) -> list[str]:
    """What students may do to the exchange after submitting, nbgrader's own collect
    falling for it: links in their own (world-writable) submission folder to files only
    the instructor can read (it copies their content), a "submission" in another student's
    name (it warns and takes it), a folder whose name holds no time (it stops, collecting
    nobody's), one whose name is no safe student id. Returns what collect must log."""
    b = students["cnnstu_b"]
    source = course.folder("source") / ASSIGNMENT
    if AS_ROOT:
        assert not b.can_read(source / f"{ASSIGNMENT}.ipynb")  # the solutions, hidden tests
    links = ("import os,sys; d=sys.argv[1]; os.symlink(sys.argv[2], d + '/solution.ipynb'); "
             "os.symlink(sys.argv[3], d + '/course_source')")
    done = b.python(links, str(submissions[b.name]), str(source / f"{ASSIGNMENT}.ipynb"),
                    str(course.folder("source")))
    assert done.returncode == 0, done.stderr
    later = "2099-01-01 00:00:00.000000 UTC"
    names = ["new student+{a}+" + later + "+notastudent", "junk+{a}+not-a-time+notatime"]
    if AS_ROOT:  # the owner tells cnnstu_a from cnnstu_b only when they are two users
        names.append("cnnstu_b+{a}+" + later + "+impersonated")
    folders = [str(submissions[b.name].parent / n.format(a=ASSIGNMENT)) for n in names]
    plant = ("import os,sys\nfor d in sys.argv[2:]:\n    os.mkdir(d)\n"
             "    open(d + '/' + sys.argv[1] + '.ipynb', 'w').write('{}')")
    done = students["cnnstu_a"].python(plant, ASSIGNMENT, *folders)
    assert done.returncode == 0, done.stderr
    expected = [f"{submissions[b.name].name}/solution.ipynb: a symbolic link",
                f"{submissions[b.name].name}/course_source: a symbolic link",
                "+notastudent: it contains ' '", "+notatime: its name is not <student>"]
    if AS_ROOT:
        expected.append("names student 'cnnstu_b' but belongs to 'cnnstu_a'")
    return expected


def _score(html: str) -> str:
    found = re.search(r'class="total lead">Score: <strong>([^<]+)</strong>', html)
    assert found, "the feedback page has no total score"
    return found.group(1)


def test_a_course_runs_through_nbgraders_exchange(tmp_path, exchange, students):
    course = Course(ROOT).copy_to(tmp_path / "course", assignments=[ASSIGNMENT])
    root = course.root
    # The instructor's side of the exchange lives in the course's own config.
    with (root / "nbgrader_config.py").open("a") as f:
        f.write(f"\nc.Exchange.root = {str(exchange)!r}\n")
    python = [sys.executable, "-m", "autograder", "--root", str(root)]
    _run([*python, "build", ASSIGNMENT], cwd=root)
    _run([str(NBGRADER), "release_assignment", ASSIGNMENT], cwd=root)

    # Students: fetch, answer, submit.
    for name, student in students.items():
        student.run("fetch_assignment", ASSIGNMENT)
        fetched = student.home / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
        assert fetched.is_file(), f"{name} fetched nothing"
        _answer(fetched, STUDENTS[name])
        student.run("submit", ASSIGNMENT)
    inbound = exchange / COURSE_ID / "inbound"
    submissions = {p.name.split("+")[0]: p for p in inbound.iterdir()}
    assert set(submissions) == set(STUDENTS)
    hostile = _misbehave(students, submissions, course)

    # Instructor: collect (autograder/exchange.py's SafeCollect, set in nbgrader_config.py),
    # grade in the sandbox, write and release the feedback.
    collect = [str(NBGRADER), "collect", ASSIGNMENT]
    if not AS_ROOT:  # both students are one unix user: no owner tells them apart
        collect.append("--ExchangeCollect.check_owner=False")
    done = _run(collect, cwd=root)
    for name in STUDENTS:
        folder = course.folder("submitted") / name / ASSIGNMENT
        assert sorted(p.name for p in folder.iterdir()) == [
            f"{ASSIGNMENT}.ipynb", "submission_secret.txt", "timestamp.txt"]
    for why in hostile:
        assert why in done.stdout + done.stderr, (why, done.stderr)
    assert sorted(p.name for p in course.folder("submitted").iterdir()) == sorted(STUDENTS)
    graded = _run([*python, "grade", ASSIGNMENT, "--no-progress"], cwd=root).stdout
    printed = {m.group(1): float(m.group(2))
               for m in re.finditer(r"^(\S+)\s+([\d.]+) / ([\d.]+)", graded, re.MULTILINE)}
    assert set(printed) == set(STUDENTS), graded
    _run([*python, "feedback", ASSIGNMENT], cwd=root)
    _run([str(NBGRADER), "release_feedback", ASSIGNMENT], cwd=root)

    # The gradebook holds what grade printed; right answers get every auto-graded point
    # (the written answers wait for the instructor).
    with course.gradebook() as gb:
        for name in STUDENTS:
            submission = gb.find_submission(ASSIGNMENT, name)
            assert float(submission.score) == printed[name]
            assert submission.timestamp is not None  # nbgrader submit's timestamp.txt
            lost = [g.name for nb in submission.notebooks for g in nb.grades
                    if g.cell_type == "code" and g.auto_score != g.max_score]
            assert (not lost) == (STUDENTS[name] == "alice"), (name, lost)
        tests_max = sum(float(g.max_score) for nb in submission.notebooks for g in nb.grades
                        if g.cell_type == "code")
    assert printed == {"cnnstu_a": tests_max, "cnnstu_b": 6.0}  # bob's example: 6 of 14

    # Students: each fetches exactly their own feedback, with their own score.
    pages = {}
    for name, student in students.items():
        student.run("fetch_feedback", ASSIGNMENT)
        fetched = sorted((student.home / ASSIGNMENT / "feedback").glob("*/*.html"))
        assert [p.name for p in fetched] == [f"{ASSIGNMENT}.html"], (name, fetched)
        pages[name] = fetched[0].read_text()
        written = course.folder("feedback") / name / ASSIGNMENT / f"{ASSIGNMENT}.html"
        assert pages[name] == written.read_text()
        assert float(_score(pages[name]).split("/")[0]) == printed[name]
    assert pages["cnnstu_a"] != pages["cnnstu_b"]

    if not AS_ROOT:
        return
    # nbgrader's permission model, between real users. The files in the exchange are
    # world-readable: what hides them is that nobody but the instructor can list the
    # inbound or the released feedback, and their names cannot be guessed (a submission's
    # ends in 12 random characters; a feedback page's is keyed with a secret that only the
    # submitter's private cache and the instructor hold). Each student owns their
    # submission and cannot read the other's home folder.
    a, b = students["cnnstu_a"], students["cnnstu_b"]
    released = exchange / COURSE_ID / "feedback"
    assert stat.S_IMODE(inbound.stat().st_mode) & 0o004 == 0
    assert stat.S_IMODE(released.stat().st_mode) & 0o004 == 0
    for name, path in submissions.items():
        assert pwd.getpwuid(path.stat().st_uid).pw_name == name
        assert re.fullmatch(rf"{name}\+{ASSIGNMENT}\+[^+]+\+[\w-]{{12}}", path.name), path.name
    for me, other in ((a, b), (b, a)):
        assert me.can_read(me.home / ASSIGNMENT / "feedback")
        assert not me.can_read(inbound)
        assert not me.can_read(released)
        assert not me.can_read(other.home)
        assert not me.can_read(other.home / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
