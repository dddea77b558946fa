"""Due dates and late work, on nbgrader's own late-submission seams.

Three pieces, each in nbgrader's terms so that ``python -m autograder grade`` and plain
``nbgrader autograde`` (``nbgrader_config.py``) give the same penalty:

- **Due dates** live in one place, :class:`CourseDeadlines` in ``nbgrader_config.py``
  (``c.CourseDeadlines.due_dates = {"ps1_output_shapes": "2026-12-07 17:00:00 Europe/Berlin"}``),
  every date with an explicit time zone. :func:`sync_due_dates` writes them into the
  gradebook's ``Assignment.duedate`` (naive UTC, as nbgrader stores it) on ``build`` and
  ``grade``, and :class:`ApplyDueDates` does so in nbgrader's autograde pipeline. An
  assignment the config does not name keeps whatever the gradebook has (``nbgrader db
  assignment add NAME --duedate=...`` or the formgrader); one it names is set from it.
- **Submission times** come from ``submitted/<student>/<assignment>/timestamp.txt``
  (nbgrader's file: written by ``nbgrader collect``, or by ``python -m autograder collect
  --times-from-zip TZ`` from an LMS zip). :func:`parse_time` reads one and refuses a time
  without a zone or one that does not parse, with a message that names the fix; such a
  submission is graded as if it had no time (no penalty), and the record says why.
- **The policy** is :class:`LatePenalty`, a :class:`~nbgrader.plugins.LateSubmissionPlugin`
  named by ``c.AssignLatePenalties.plugin_class``; nbgrader's ``AssignLatePenalties``
  calls it per notebook with the notebook's score and the submission's
  ``total_seconds_late`` (due date plus any extension) and stores the result, clamped to
  ``[0, score]``, in ``SubmittedNotebook.late_submission_penalty``. ``grade`` runs that same
  preprocessor (:func:`apply_penalties`). nbgrader's ``submission.score`` stays the raw score;
  the score after the penalty is ``score - late_submission_penalty``, as in nbgrader's own
  CSV export and feedback.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import math
import re
from pathlib import Path

import dateutil.parser
import dateutil.tz
import nbformat
from nbconvert.exporters.exporter import ResourcesDict
from nbformat.notebooknode import NotebookNode
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.plugins import LateSubmissionPlugin
from nbgrader.preprocessors import AssignLatePenalties, NbGraderPreprocessor
from traitlets import Dict, Enum, Float, Unicode, validate
from traitlets.config import Config, Configurable

from autograder.course import CONFIG_FILE, CourseError

__all__ = [
    "ApplyDueDates", "CourseDeadlines", "LatePenalty", "Lateness", "LateWorkError",
    "apply_penalties", "format_duration", "format_time", "parse_time", "sync_due_dates",
]

TIMESTAMP = "timestamp.txt"
# nbgrader's Exchange.timestamp_format, in UTC: what ``nbgrader submit`` writes.
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S.%f %Z"
# nbgrader's step logs each late notebook as a warning; grade prints its own line instead.
_QUIET = logging.getLogger("autograder.late.nbgrader")
_QUIET.addHandler(logging.NullHandler())
_QUIET.propagate = False
_EXAMPLE = '"2026-12-07 17:00:00 UTC" or "2026-12-07 17:00:00 Europe/Berlin"'
_OFFSET = re.compile(r"[+-]\d{2}:?\d{2}")
_ZONE = re.compile(r"[A-Za-z][A-Za-z0-9_+-]*(?:/[A-Za-z0-9_+-]+){0,2}")  # no "..", no "/x"


class LateWorkError(ValueError):
    """A due date or a submission time that cannot be used; the message names the fix."""


def parse_time(text: str, *, what: str = "time", zone: str | None = None) -> dt.datetime:
    """A time with an explicit zone as naive UTC (nbgrader's storage), or ``LateWorkError``.

    Accepts nbgrader's ``timestamp.txt`` format (``2026-12-07 17:00:00.000000 UTC``), a
    zone name or numeric offset as third word (``... Europe/Berlin``, ``... +0100``) and
    ISO 8601 with an offset (``2026-12-07T17:00:00+01:00``). Unlike
    ``nbgrader.utils.parse_utc`` it refuses a time without a zone, or with a zone name it
    does not know, instead of reading it as UTC. ``zone`` (nbgrader's
    ``Exchange.timezone``, e.g. ``America/Los_Angeles``) lets it read the abbreviations that
    ``nbgrader submit`` writes there (``PDT``), which are no zone names of their own.
    """
    shown = text[:80] if text[:80].isprintable() else ascii(text[:80])[1:-1]
    words = text.strip().split()
    try:
        if len(words) == 3 and _OFFSET.fullmatch(words[2]):
            parsed = dateutil.parser.isoparse(f"{words[0]}T{words[1]}{words[2]}")
        elif len(words) == 3:
            tz = dateutil.tz.gettz(words[2]) if _ZONE.fullmatch(words[2]) else None
            parsed = dateutil.parser.isoparse(f"{words[0]}T{words[1]}")
            hint = dateutil.tz.gettz(zone) if zone and _ZONE.fullmatch(zone) else None
            if tz is None and hint is not None \
                    and parsed.replace(tzinfo=hint).tzname() == words[2]:
                tz = hint  # "PDT" written by nbgrader with Exchange.timezone in Los Angeles
            if tz is None:
                raise LateWorkError(f"{what} {shown!r}: unknown time zone {words[2][:40]!r} "
                                    f"(for an abbreviation such as PDT, set the zone it belongs "
                                    f"to as c.Exchange.timezone); write it like {_EXAMPLE}")
            parsed = parsed.replace(tzinfo=tz)
        else:
            parsed = dateutil.parser.isoparse(text.strip())
        if parsed.tzinfo is None or parsed.utcoffset() is None:
            raise LateWorkError(f"{what} {shown!r} has no time zone; write it like {_EXAMPLE}")
        return (parsed - parsed.utcoffset()).replace(tzinfo=None)
    except LateWorkError:
        raise
    except (ValueError, OverflowError, TypeError) as err:
        raise LateWorkError(f"{what} {shown!r} cannot be read ({err}); write it like "
                            f"{_EXAMPLE}") from None


def format_time(utc: dt.datetime) -> str:
    """Naive UTC as nbgrader writes ``timestamp.txt``: ``2026-12-07 17:00:00.000000 UTC``."""
    return utc.replace(tzinfo=dt.UTC).strftime(TIMESTAMP_FORMAT)


def format_duration(seconds: float) -> str:
    """``"2 d 3 h"``, ``"2 h 5 min"``, ``"4 min 10 s"``: the two largest units, no smaller."""
    rest = math.ceil(max(seconds, 0.0))
    counts = []
    for name, size in (("d", 86400), ("h", 3600), ("min", 60), ("s", 1)):
        count, rest = divmod(rest, size)
        counts.append((count, name))
    first = next((i for i, (count, _) in enumerate(counts) if count), len(counts) - 1)
    return " ".join(f"{c} {n}" for c, n in counts[first:first + 2] if c) or "0 s"


class CourseDeadlines(Configurable):
    """Due dates of the course's assignments, set in ``nbgrader_config.py``."""

    due_dates = Dict(
        value_trait=Unicode(), key_trait=Unicode(), default_value={},
        help="Due date per assignment, with an explicit time zone, e.g. "
        '{"ps1_output_shapes": "2026-12-07 17:00:00 Europe/Berlin"}. Written into the '
        "gradebook (Assignment.duedate, UTC) by `python -m autograder build` and `grade`, and "
        "by nbgrader's autograde (autograder.late.ApplyDueDates). An assignment not named here "
        "keeps the gradebook's due date (nbgrader db assignment add --duedate, formgrader).",
    ).tag(config=True)

    @validate("due_dates")
    def _check(self, proposal):
        for name, text in proposal["value"].items():
            parse_time(text, what=f"CourseDeadlines.due_dates[{name!r}]")
        return proposal["value"]

    def due_date(self, assignment: str) -> dt.datetime | None:
        """The configured due date of ``assignment`` (naive UTC), or ``None``."""
        text = self.due_dates.get(assignment)
        return None if text is None else parse_time(text, what="due date")


def sync_due_dates(gradebook: Gradebook, config: Config, assignments: list[str]) -> list[str]:
    """Set each configured due date in the gradebook; returns a line per change made.

    Raises:
        CourseError: a configured due date cannot be read (the message says how to write it).
    """
    try:
        deadlines = CourseDeadlines(config=config)
    except LateWorkError as err:
        raise CourseError(f"{CONFIG_FILE}: {err}") from None
    changes = []
    for name in assignments:
        due = deadlines.due_date(name)
        if due is None:
            continue
        try:
            old = gradebook.find_assignment(name).duedate
        except MissingEntry:  # not built into this gradebook yet: build sets it
            continue
        if old != due:
            gradebook.update_or_create_assignment(name, duedate=due)
            changes.append(f"{name}: due {format_time(due)} (was {format_time(old) if old else 'not set'})")
    return changes


class ApplyDueDates(NbGraderPreprocessor):
    """nbgrader autograde step: the assignment's configured due date into the gradebook.

    Put before ``AssignLatePenalties``, which reads ``total_seconds_late`` from it.
    """

    def preprocess(self, nb: NotebookNode, resources: ResourcesDict
                   ) -> tuple[NotebookNode, ResourcesDict]:
        info = resources["nbgrader"]
        with Gradebook(info["db_url"]) as gb:
            for line in sync_due_dates(gb, self.config, [info["assignment"]]):
                self.log.info("due date set from CourseDeadlines.due_dates: %s", line)
        return nb, resources


class LatePenalty(LateSubmissionPlugin):
    """A share of the points earned per started period late, capped; zero past a limit.

    With the defaults: up to 15 minutes late costs nothing, then 10% of the score per
    started day, at most 50%, and past 7 days the score is 0. ``penalty_method`` "none"
    and "zero" keep nbgrader's own meaning.
    """

    penalty_method = Enum(
        ("none", "zero", "per_period"), default_value="per_period",
        help="'per_period': percent_per_period for every started period_hours late (after "
        "grace_minutes), at most max_percent, everything past zero_after_hours; 'none': no "
        "penalty; 'zero': a late submission scores 0 (nbgrader's own methods)",
    ).tag(config=True)
    percent_per_period = Float(
        10.0, min=0.0, max=100.0, help="percent of the points earned lost per started period"
    ).tag(config=True)
    period_hours = Float(24.0, min=1 / 3600, help="length of one period, in hours").tag(
        config=True)
    max_percent = Float(
        50.0, min=0.0, max=100.0, help="the most a late submission loses, in percent, until "
        "zero_after_hours").tag(config=True)
    grace_minutes = Float(
        15.0, min=0.0, help="lateness that costs nothing (an upload that took a while); past "
        "it, periods count from the due date").tag(config=True)
    zero_after_hours = Float(
        7 * 24.0, min=0.0, help="later than this scores 0 (0 turns this off)").tag(config=True)

    def fraction(self, seconds_late: float) -> float:
        """Share of the score lost at ``seconds_late``: a number in ``[0, 1]``."""
        if self.penalty_method == "none" or seconds_late <= 0:
            return 0.0
        if self.penalty_method == "zero":
            return 1.0
        if self.zero_after_hours and seconds_late > self.zero_after_hours * 3600:
            return 1.0
        if seconds_late <= self.grace_minutes * 60:
            return 0.0
        periods = math.ceil(seconds_late / (self.period_hours * 3600))
        return min(self.percent_per_period * periods, self.max_percent) / 100

    def describe(self) -> str:
        """The policy in one line (``grading.json``)."""
        if self.penalty_method != "per_period":
            return f"penalty_method={self.penalty_method}"
        zero = (f", 0 points after {self.zero_after_hours:g} h" if self.zero_after_hours
                else "")
        return (f"{self.percent_per_period:g}% of the score per started {self.period_hours:g} h "
                f"after {self.grace_minutes:g} min of grace, at most {self.max_percent:g}%{zero}")

    def late_submission_penalty(self, student_id: str, score: float,
                                total_seconds_late: float) -> float | None:
        if self.penalty_method == "none":
            return None
        return score * self.fraction(total_seconds_late)


@dataclasses.dataclass(frozen=True)
class Lateness:
    """One submission's lateness as ``grade`` recorded it (``grading.json``'s ``late``)."""

    timestamp: str | None  # the submission time, nbgrader's format, UTC
    duedate: str | None  # the due date in force (with any extension), UTC
    seconds_late: float
    penalty: float  # points taken off (sum over the notebooks)
    score_before: float
    score_after: float
    policy: str = ""
    problem: str = ""  # why the submission time could not be used, with the fix

    def note(self) -> str:
        """``"2 h 5 min late: -1.0 points"``, or "" for an on-time submission."""
        if self.problem:
            return f"lateness not checked: {self.problem}"
        if self.seconds_late <= 0:
            return ""
        return f"{format_duration(self.seconds_late)} late: -{self.penalty:g} points"


def read_timestamp(folder: Path, zone: str | None = None) -> tuple[dt.datetime | None, str]:
    """``(time, problem)`` from ``folder/timestamp.txt``: the time, or why not (never raises).

    ``zone``: nbgrader's ``Exchange.timezone``, for the abbreviations it writes (see
    :func:`parse_time`).
    """
    path = folder / TIMESTAMP
    try:
        if path.is_symlink() or (path.exists() and not path.is_file()):
            return None, f"{TIMESTAMP} is not a regular file (remove it)"
        with path.open("rb") as file:
            raw = file.read(257)
    except FileNotFoundError:
        return None, ""
    except OSError as err:
        return None, f"{TIMESTAMP} cannot be read ({err.strerror})"
    text = raw.decode("utf-8", "replace").strip()
    if len(raw) > 256 or not text:
        return None, (f"{TIMESTAMP} is {'empty' if not text else 'too long'}; write the "
                      f"submission time in it like {_EXAMPLE} and regrade with --force")
    try:
        return parse_time(text, what=TIMESTAMP, zone=zone), ""
    except LateWorkError as err:
        return None, f"{err}, then regrade with --force"


def apply_penalties(db_url: str, config: Config, assignment: str, student: str,
                    notebooks: list[str]) -> Lateness:
    """Run nbgrader's ``AssignLatePenalties`` on each notebook; returns what it decided.

    Expects the submission's timestamp and scores to be in the gradebook already.
    """
    for notebook in notebooks:
        step = AssignLatePenalties(config=config, log=_QUIET)
        resources = {"nbgrader": {"notebook": notebook, "assignment": assignment,
                                  "student": student, "db_url": db_url}}
        step.preprocess(nbformat.v4.new_notebook(), resources)
    plugin = AssignLatePenalties(config=config).plugin_class(config=config)
    with Gradebook(db_url) as gb:
        submission = gb.find_submission(assignment, student)
        score, penalty = float(submission.score), float(submission.late_submission_penalty)
        due = submission.duedate
        return Lateness(
            timestamp=format_time(submission.timestamp) if submission.timestamp else None,
            duedate=format_time(due) if due else None,
            seconds_late=float(submission.total_seconds_late),
            penalty=penalty, score_before=score, score_after=max(score - penalty, 0.0),
            policy=plugin.describe() if isinstance(plugin, LatePenalty)
            else f"{type(plugin).__name__}",
        )
