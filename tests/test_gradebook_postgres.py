"""The gradebook on a real PostgreSQL server (``--db postgresql://...``), several graders.

The fixture starts a throw-away server on localhost (Debian's ``postgresql`` package, which
``make test`` installs as root): ``initdb`` into a temporary folder, ``pg_ctl start`` on a free port,
stopped at the end. Two grader processes then write one gradebook at the same time.
"""

from __future__ import annotations

import csv
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from test_grading_batch import ASSIGNMENT, _course

from autograder.cli import main
from autograder.course import Course

pytestmark = pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning")


def _pg_bin() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not found:
        pytest.fail("PostgreSQL is not installed: apt-get install postgresql (make test does, as root)")
    return found[-1].parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def postgres_url():
    pg = _pg_bin()
    folder = Path(tempfile.mkdtemp(prefix="cnn-course-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:  # the server refuses to run as root
        shutil.chown(folder, "postgres", "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    data, port = folder / "data", _free_port()
    run = lambda *cmd: subprocess.run([*as_user, *cmd], check=True, capture_output=True)  # noqa: E731
    run(str(pg / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync")
    run(str(pg / "pg_ctl"), "-D", str(data), "-l", str(folder / "log"), "-w", "-o",
        f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off", "start")
    try:
        run(str(pg / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres",
            "gradebook")
        yield f"postgresql://postgres@127.0.0.1:{port}/gradebook"
    finally:
        run(str(pg / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop")
        shutil.rmtree(folder, ignore_errors=True)


def test_two_graders_share_one_postgresql_gradebook(tmp_path, postgres_url):
    course, expected = _course(tmp_path, 4)
    students = sorted(expected)
    # The instructor builds against the shared gradebook: it records the assignment's cells.
    assert main(["--root", str(course.root), "--db", postgres_url, "build", ASSIGNMENT]) == 0
    base = [sys.executable, "-m", "autograder", "--root", str(course.root), "--db",
            postgres_url, "grade", ASSIGNMENT, "--workers", "1", "--no-progress"]
    graders = [
        subprocess.Popen(base + [arg for s in half for arg in ("--student", s)],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for half in (students[:2], students[2:])
    ]
    outputs = [g.communicate(timeout=600)[0] for g in graders]
    assert [g.returncode for g in graders] == [0, 0], outputs

    on_pg = Course(course.root, db_url=postgres_url)
    with on_pg.gradebook() as gb:
        got = {s: float(gb.find_submission(ASSIGNMENT, s).score) for s in students}
        assert len(gb.find_assignment(ASSIGNMENT).submissions) == 4
    assert got == expected
    assert not (course.root / "gradebook.db").exists() or _sqlite_empty(course)

    out = tmp_path / "grades.csv"
    assert main(["--root", str(course.root), "--db", postgres_url, "export", "--to",
                 str(out)]) == 0
    with out.open() as f:
        rows = list(csv.DictReader(f))
    assert {r["student_id"] for r in rows if r["student_id"] != "(max)"} == set(students)


def _sqlite_empty(course: Course) -> bool:
    import sqlite3

    with sqlite3.connect(course.root / "gradebook.db") as con:
        tables = {r[0] for r in con.execute("select name from sqlite_master")}
        return "submitted_assignment" not in tables or not con.execute(
            "select count(*) from submitted_assignment").fetchone()[0]
