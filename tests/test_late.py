"""Late work (issue 12, part 7): due dates, submission times, the penalty, and where it shows.

One real run, built once for the module: a copy of the course with ps1_output_shapes due
2026-12-07 17:00 Europe/Berlin (16:00 UTC) in its ``nbgrader_config.py``, and three
submissions: ``ontime`` and ``late`` collected from an LMS zip whose entries carry their
upload times (``collect --times-from-zip Europe/Berlin``), ``verylate`` with a
``timestamp.txt`` in nbgrader's own format written by hand. ``ontime`` and ``verylate``
hand in alice's correct answers, ``late`` bob's partly wrong ones (so the penalty is a share
of a partial score); a fourth, ``garbled``, has a ``timestamp.txt`` that is no time. Graded
in the sandbox with ``python -m autograder grade``; then feedback and export. The oracles: the times as written here (seconds late computed in the
test), the policy as the config states it (10% per started day, at most 50%, 0 after 7
days), nbgrader's own gradebook values (``late_submission_penalty``, ``total_seconds_late``)
and nbgrader's own ``LateSubmissionPlugin`` for the methods they share. The rest are unit
tests of the policy (hypothesis over lateness), of reading times (against nbgrader's
``parse_utc``) and of collect's timestamps. (About 2.5 minutes on two busy cores: a
reference run, four sandboxed submissions and one ``nbgrader autograde``.)
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest
from bs4 import BeautifulSoup
from hypothesis import given
from hypothesis import strategies as st
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.plugins import LateSubmissionPlugin
from nbgrader.utils import parse_utc
from traitlets.config import Config

from autograder.cli import main
from autograder.collect import collect
from autograder.course import Course, CourseError
from autograder.late import (
    ApplyDueDates,
    LatePenalty,
    LateWorkError,
    format_duration,
    format_time,
    parse_time,
    read_timestamp,
    sync_due_dates,
)
from autograder.submissions import EXAMPLES, make_submission, parse_answers

ROOT = Path(__file__).resolve().parents[1]
A = "ps1_output_shapes"
DUE_UTC = dt.datetime(2026, 12, 7, 16, 0, 0)  # 17:00 in Berlin (CET, UTC+1)
# student: (example answers, submission time in UTC)
SUBMISSIONS = {
    "ontime": ("alice", dt.datetime(2026, 12, 7, 15, 59, 30)),
    "late": ("bob", dt.datetime(2026, 12, 7, 18, 5, 0)),  # 2 h 5 min: one started day
    "verylate": ("alice", dt.datetime(2026, 12, 15, 16, 0, 1)),  # past 7 days: 0 points
}
EXPECTED_FRACTION = {"ontime": 0.0, "late": 0.10, "verylate": 1.0}
pytestmark = pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning")


def _with_due_date(course: Course, text: str) -> Course:
    config = course.root / "nbgrader_config.py"
    config.write_text(config.read_text()
                      + f"\nc.CourseDeadlines.due_dates = {{{A!r}: {text!r}}}\n")
    return Course(course.root, db_url=course.db_url)


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Course:
    tmp = tmp_path_factory.mktemp("late")
    course = Course(ROOT).copy_to(tmp / "course", assignments=[A])
    course = _with_due_date(course, "2026-12-07 17:00:00 Europe/Berlin")
    assert main(["--root", str(course.root), "build", A]) == 0
    released = course.released_notebooks(A)[0]
    download = tmp / "download.zip"
    with zipfile.ZipFile(download, "w") as archive:
        for student, (example, when) in SUBMISSIONS.items():
            answers = parse_answers((EXAMPLES / A / f"{example}.py").read_text())
            data = nbformat.writes(make_submission(released, answers))
            if student == "verylate":
                course.submit(A, student, nbformat.reads(data, as_version=4), released.name)
                (course.folder("submitted") / student / A / "timestamp.txt").write_text(
                    when.strftime("%Y-%m-%d %H:%M:%S.%f UTC\n"))
                continue
            berlin = when + dt.timedelta(hours=1)  # the LMS's zip records local time
            info = zipfile.ZipInfo(f"{student}_1_{released.name}", berlin.timetuple()[:6])
            archive.writestr(info, data)
    assert main(["--root", str(course.root), "collect", str(download),
                 "--times-from-zip", "Europe/Berlin"]) == 0
    answers = parse_answers((EXAMPLES / A / "alice.py").read_text())
    course.submit(A, "garbled", make_submission(released, answers), released.name)
    (course.folder("submitted") / "garbled" / A / "timestamp.txt").write_text("last friday")
    assert main(["--root", str(course.root), "grade", A, "--workers", "1",
                 "--no-progress"]) == 0
    assert main(["--root", str(course.root), "feedback", A]) == 0
    assert main(["--root", str(course.root), "export"]) == 0
    return course


def _record(course: Course, student: str) -> dict:
    return json.loads((course.folder("autograded") / student / A / "grading.json").read_text())


def test_due_date_from_the_config_is_in_the_gradebook(course):
    with course.gradebook() as gb:
        assert gb.find_assignment(A).duedate == DUE_UTC


def test_collect_wrote_the_zip_times_in_nbgraders_format(course):
    for student in ("ontime", "late"):
        text = (course.folder("submitted") / student / A / "timestamp.txt").read_text()
        assert parse_utc(text.strip()) == SUBMISSIONS[student][1]  # nbgrader reads it
        assert text.strip().endswith(" UTC")


def test_penalties_in_the_gradebook_follow_the_policy(course):
    with course.gradebook() as gb:
        for student, (_, when) in SUBMISSIONS.items():
            submission = gb.find_submission(A, student)
            assert submission.timestamp == when
            assert submission.total_seconds_late == max((when - DUE_UTC).total_seconds(), 0)
            raw = float(submission.score)
            assert raw > 0
            expected = raw * EXPECTED_FRACTION[student]
            assert float(submission.late_submission_penalty) == pytest.approx(expected)
            notebook = gb.find_submission_notebook(A, A, student)
            stored = notebook.late_submission_penalty
            assert (stored or 0.0) == pytest.approx(expected)
            assert (stored is None) == (student == "ontime")  # nbgrader's "no penalty"


def test_grading_json_records_times_penalty_and_both_scores(course):
    with course.gradebook() as gb:
        raw = {s: float(gb.find_submission(A, s).score) for s in SUBMISSIONS}
    for student, (_, when) in SUBMISSIONS.items():
        record = _record(course, student)
        late = record["late"]
        assert parse_utc(late["timestamp"]) == when
        assert parse_utc(late["duedate"]) == DUE_UTC
        assert late["seconds_late"] == max((when - DUE_UTC).total_seconds(), 0)
        assert late["score_before"] == raw[student]
        assert late["penalty"] == pytest.approx(raw[student] * EXPECTED_FRACTION[student])
        assert late["score_after"] == pytest.approx(raw[student] - late["penalty"])
        assert record["score"] == pytest.approx(late["score_after"])
        assert "10% of the score per started 24 h" in late["policy"]
    assert _record(course, "late")["late_note"].startswith("2 h 5 min late: -")
    assert _record(course, "ontime")["late_note"] == ""


def test_an_unreadable_time_is_reported_and_costs_nothing(course, capsys):
    late = _record(course, "garbled")["late"]
    assert late["timestamp"] is None and late["penalty"] == 0.0
    assert "timestamp.txt 'last friday' cannot be read" in late["problem"]
    assert "write it like" in late["problem"] and "regrade with --force" in late["problem"]
    with course.gradebook() as gb:
        assert gb.find_submission(A, "garbled").timestamp is None
    assert main(["--root", str(course.root), "grade", A, "--student", "garbled",
                 "--no-progress"]) == 0
    assert "[lateness not checked: timestamp.txt 'last friday'" in capsys.readouterr().out


def test_grade_prints_the_score_after_the_penalty(course, capsys):
    assert main(["--root", str(course.root), "grade", A, "--no-progress"]) == 0  # all skipped
    lines = {ln.split()[0]: ln for ln in capsys.readouterr().out.splitlines() if ln[:1] != " "}
    with course.gradebook() as gb:
        late = gb.find_submission(A, "late")
        after = float(late.score) - float(late.late_submission_penalty)
    assert f"{after:6.1f} / " in lines["late"] and "[2 h 5 min late: -" in lines["late"]
    assert "   0.0 / " in lines["verylate"] and "[8 d late: -" in lines["verylate"]
    assert "late" not in lines["ontime"].split("ontime", 1)[1]


def test_feedback_says_how_late_and_what_it_cost(course):
    for student, (_, _) in SUBMISSIONS.items():
        page = course.folder("feedback") / student / A / f"{A}.html"
        soup = BeautifulSoup(page.read_text(), "html.parser")
        total = soup.select_one("p.total").get_text(" ", strip=True)
        late = soup.select_one("#late")
        record = _record(course, student)["late"]
        assert f"Score: {round(record['score_after'], 2)} /" in total
        if student == "ontime":
            assert late is None
            continue
        text = late.get_text(" ", strip=True)
        duration = "2 h 5 min" if student == "late" else "8 d"
        assert text == (f"Submitted {duration} late: \u2212{round(record['penalty'], 2)} points "
                        "(the score above is after it)")


def test_export_has_the_penalty_and_totals_after_it(course):
    with (course.root / "grades.csv").open() as f:
        rows = {r["student_id"]: r for r in csv.DictReader(f)}
    assert float(rows["(max)"][f"{A}/late_penalty"]) == 0.0
    with course.gradebook() as gb:
        for student in SUBMISSIONS:
            submission = gb.find_submission(A, student)
            row = rows[student]
            penalty = float(submission.late_submission_penalty)
            assert float(row[f"{A}/late_penalty"]) == pytest.approx(penalty)
            # nbgrader's own CSV: score = max(0, raw - penalty)
            assert float(row[f"{A}/total"]) == pytest.approx(
                max(0.0, float(submission.score) - penalty))
            assert float(row["total"]) == float(row[f"{A}/total"])


def test_report_table_is_after_the_penalty(course, capsys):
    assert main(["--root", str(course.root), "report"]) == 0
    out = capsys.readouterr().out
    verylate = next(ln for ln in out.splitlines() if ln.startswith("verylate"))
    assert verylate.split()[1:] == ["0", "0"]


def test_nbgrader_autograde_gives_the_same_penalty(course, tmp_path):
    """nbgrader's own command, in a copy whose gradebook lost the due date and the penalty:
    ApplyDueDates sets the date again and AssignLatePenalties uses the same policy."""
    with course.gradebook() as gb:
        submission = gb.find_submission(A, "late")
        expected = float(submission.late_submission_penalty)
        raw = float(submission.score)
    root = Path(shutil.copytree(course.root, tmp_path / "copy"))
    db = f"sqlite:///{root / 'gradebook.db'}"
    with Gradebook(db) as gb:
        gb.find_assignment(A).duedate = None
        gb.find_submission_notebook(A, A, "late").late_submission_penalty = None
        gb.db.commit()
    env = os.environ | {"PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    proc = subprocess.run([str(Path(sys.executable).parent / "nbgrader"), "autograde", A,
                           "--student", "late", "--force"], cwd=root, env=env,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    with Gradebook(db) as gb:
        submission = gb.find_submission(A, "late")
        assert gb.find_assignment(A).duedate == DUE_UTC
        assert float(submission.score) == raw
        assert float(submission.late_submission_penalty) == pytest.approx(expected)
        assert expected == pytest.approx(0.1 * raw)


# -- the policy ------------------------------------------------------------------------------

def _policy(**kw) -> LatePenalty:
    return LatePenalty(config=Config({"LatePenalty": kw}))


HOURS = 3600.0
DAY = 24 * HOURS


@given(seconds=st.floats(0, 30 * DAY), score=st.floats(0, 100))
def test_penalty_is_a_share_of_the_score_between_zero_and_all(seconds, score):
    policy = _policy()
    penalty = policy.late_submission_penalty("s", score, seconds)
    assert 0.0 <= penalty <= score
    if seconds <= 15 * 60:
        assert penalty == 0.0
    elif seconds > 7 * DAY:
        assert penalty == score
    else:
        assert penalty <= 0.5 * score


@given(a=st.floats(0, 10 * DAY), b=st.floats(0, 10 * DAY))
def test_penalty_never_shrinks_with_lateness(a, b):
    policy = _policy()
    assert policy.fraction(min(a, b)) <= policy.fraction(max(a, b))


@given(day=st.integers(0, 6), into=st.floats(1e-3, DAY))
def test_ten_percent_per_started_day_capped_at_half(day, into):
    seconds = day * DAY + into
    if seconds <= 15 * 60:
        return
    assert _policy().fraction(seconds) == pytest.approx(min(0.1 * (day + 1), 0.5))


def test_policy_options_and_nbgraders_own_methods():
    assert _policy(grace_minutes=0).fraction(1) == pytest.approx(0.1)
    hourly = _policy(percent_per_period=2, period_hours=1, max_percent=100, zero_after_hours=0)
    assert hourly.fraction(2 * HOURS + 5 * 60) == pytest.approx(0.06)
    assert hourly.fraction(400 * HOURS) == 1.0  # capped at max_percent, never past 1
    # "none" and "zero" mean what they mean in nbgrader's own plugin.
    for method in ("none", "zero"):
        ours = _policy(penalty_method=method)
        theirs = LateSubmissionPlugin(penalty_method=method)
        for seconds in (60.0, DAY, 30 * DAY):
            assert ours.late_submission_penalty("s", 7.0, seconds) == \
                theirs.late_submission_penalty("s", 7.0, seconds)


def test_durations_as_a_student_reads_them():
    assert [format_duration(s) for s in (0, 59, 60, 7500, 86400, 8 * DAY + 1)] == [
        "0 s", "59 s", "1 min", "2 h 5 min", "1 d", "8 d"]


# -- reading times ---------------------------------------------------------------------------

WHEN = st.datetimes(min_value=dt.datetime(1971, 1, 1), max_value=dt.datetime(2099, 1, 1))


@given(when=WHEN, zone=st.sampled_from(["UTC", "Europe/Berlin", "America/New_York", "CET"]))
def test_named_zones_read_as_nbgrader_reads_them(when, zone):
    text = f"{when:%Y-%m-%d %H:%M:%S.%f} {zone}"
    assert parse_time(text) == parse_utc(text)  # nbgrader's own reading
    assert parse_utc(format_time(parse_time(text))) == parse_time(text)  # round trip


@given(when=WHEN, zone=st.sampled_from(["+0530", "-0800", "+01:00"]))
def test_numeric_offsets_read_as_iso_8601(when, zone):
    # nbgrader's parse_utc reads "+0530" as 530 seconds; an offset is hours and minutes.
    text = f"{when:%Y-%m-%d %H:%M:%S.%f} {zone}"
    offset = f"{zone[:3]}:{zone[-2:]}"
    aware = dt.datetime.fromisoformat(f"{when.isoformat(timespec='microseconds')}{offset}")
    assert parse_time(text) == aware.astimezone(dt.UTC).replace(tzinfo=None)


@pytest.mark.parametrize("text, why", [
    ("2026-12-07 17:00:00", "has no time zone"),  # nbgrader would read this as UTC
    ("2026-12-07 17:00:00 Mars/Olympus", "unknown time zone"),  # ... and this too
    ("2026-12-07 17:00:00 ../../etc/passwd", "unknown time zone"),
    ("next tuesday", "cannot be read"),
    ("2026-13-07 17:00:00 UTC", "cannot be read"),
    ("\x00\x1b[31m", "cannot be read"),
])
def test_unusable_times_are_refused_with_the_fix(text, why):
    with pytest.raises(LateWorkError, match=why) as err:
        parse_time(text)
    assert "write it like" in str(err.value)


def test_abbreviations_nbgrader_writes_are_read_in_the_exchange_zone(tmp_path):
    # nbgrader submit with c.Exchange.timezone = "America/Los_Angeles" writes "PDT"
    text = "2026-07-01 12:00:00.000000 PDT"
    with pytest.raises(LateWorkError, match="c.Exchange.timezone"):
        parse_time(text)
    assert parse_time(text, zone="America/Los_Angeles") == dt.datetime(2026, 7, 1, 19, 0)
    with pytest.raises(LateWorkError):  # PDT is not Berlin's
        parse_time(text, zone="Europe/Berlin")
    (tmp_path / "timestamp.txt").write_text(text)
    assert read_timestamp(tmp_path, "America/Los_Angeles") == (dt.datetime(2026, 7, 1, 19), "")


def test_a_bad_timestamp_file_is_a_problem_not_a_crash(tmp_path):
    assert read_timestamp(tmp_path) == (None, "")  # no file: no time, no problem
    for content in (b"", b"yesterday", b"2026-12-07 17:00:00", b"\xff\xfe" * 500):
        (tmp_path / "timestamp.txt").write_bytes(content)
        when, problem = read_timestamp(tmp_path)
        assert when is None and "regrade with --force" in problem
    (tmp_path / "timestamp.txt").unlink()
    (tmp_path / "timestamp.txt").symlink_to("/etc/passwd")
    assert "not a regular file" in read_timestamp(tmp_path)[1]


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> str:
    """An empty gradebook (making one takes seconds: nbgrader runs alembic)."""
    Course(ROOT)  # puts the environment's scripts, alembic among them, on PATH
    url = f"sqlite:///{tmp_path_factory.mktemp('gradebook') / 'gradebook.db'}"
    with Gradebook(url):
        pass
    return url


def test_bad_due_date_in_the_config_stops_with_the_fix(db):
    config = Config({"CourseDeadlines": {"due_dates": {A: "2026-12-07 17:00"}}})
    with Gradebook(db) as gb, pytest.raises(CourseError, match="has no time zone") as err:
        sync_due_dates(gb, config, [A])
    assert "nbgrader_config.py: CourseDeadlines.due_dates['ps1_output_shapes']" in str(err.value)


def test_nbgraders_autograde_step_sets_the_configured_due_date(db):
    with Gradebook(db) as gb:
        gb.add_assignment(A, duedate="2026-01-01 00:00:00 UTC")
        gb.add_assignment("other", duedate="2026-01-01 00:00:00 UTC")
    config = Config({"CourseDeadlines": {"due_dates": {A: "2026-12-07 17:00:00 +0100",
                                                       "ghost": "2026-12-07 17:00:00 UTC"}}})
    for name in (A, "other", "ghost"):
        ApplyDueDates(config=config).preprocess(
            nbformat.v4.new_notebook(), {"nbgrader": {"assignment": name, "db_url": db}})
    with Gradebook(db) as gb:
        assert gb.find_assignment(A).duedate == DUE_UTC
        assert gb.find_assignment("other").duedate == dt.datetime(2026, 1, 1)  # not named
        with pytest.raises(MissingEntry):  # not in the gradebook: not made by a due date
            gb.find_assignment("ghost")


# -- times from an LMS zip -------------------------------------------------------------------

def _zip(path: Path, entries: dict[str, tuple[tuple, bytes]]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, (when, data) in entries.items():
            archive.writestr(zipfile.ZipInfo(name, when), data)
    return path


def test_zip_times_become_timestamps_and_a_new_notebook_drops_an_old_time(tmp_path):
    course = Course(ROOT).copy_to(tmp_path / "c", assignments=[A])
    nb = nbformat.writes(nbformat.v4.new_notebook()).encode()
    stamp = course.folder("submitted") / "ann" / A / "timestamp.txt"
    first = _zip(tmp_path / "1.zip", {f"ann_1_{A}.ipynb": ((2026, 7, 1, 12, 0, 0), nb),
                                      f"ben_1_{A}.ipynb": ((1980, 1, 1, 0, 0, 0), nb)})
    result = collect(course, first, times_from_zip="America/New_York")
    assert parse_utc(stamp.read_text()) == dt.datetime(2026, 7, 1, 16, 0, 0)  # EDT: UTC-4
    assert not (course.folder("submitted") / "ben" / A / "timestamp.txt").exists()
    assert any("ben" in n and "records no time" in n for n in result.notes)
    # The same notebook again, without times: it keeps its time.
    collect(course, first)
    assert stamp.is_file()
    # A new notebook without a time: the old time must not date it; the LMS's "late" in a
    # file name without a time is said, not ignored.
    second = _zip(tmp_path / "2.zip", {f"ann_2_{A}.ipynb": ((2026, 7, 9, 12, 0, 0), nb + b" "),
                                       f"cy_late_77_{A}.ipynb": ((2026, 7, 9, 12, 0, 0), nb)})
    result = collect(course, second, update=True)
    assert not stamp.exists()
    assert any("ann" in n and "removed timestamp.txt" in n for n in result.notes)
    assert any("cy" in n and "the LMS marked it late" in n and "--times-from-zip" in n
               for n in result.notes)


def test_unknown_zone_for_zip_times_is_a_usage_error(tmp_path, capsys):
    course = Course(ROOT).copy_to(tmp_path / "c", assignments=[A])
    archive = _zip(tmp_path / "d.zip", {f"ann_1_{A}.ipynb": ((2026, 7, 1, 12, 0, 0), b"{}")})
    assert main(["--root", str(course.root), "collect", str(archive),
                 "--times-from-zip", "Berlin"]) == 2
    assert "unknown time zone 'Berlin'" in capsys.readouterr().err
    assert not os.path.exists(course.folder("submitted"))
