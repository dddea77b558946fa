"""``report``: a table of every student's totals and a score histogram per assignment."""

from __future__ import annotations

import statistics
from pathlib import Path

from matplotlib.figure import Figure
from nbgrader.api import Gradebook, MissingEntry

__all__ = ["gradebook_table", "histogram", "report", "ungraded_answers"]


def gradebook_table(gradebook: Gradebook) -> tuple[list[str], list[list[object]]]:
    """``(header, rows)``: one row per student, each assignment's score (after any late
    penalty), then the total."""
    assignments = sorted(a.name for a in gradebook.assignments)
    header = ["student", *assignments, "total"]
    rows = []
    for student in sorted(s.id for s in gradebook.students):
        row: list[object] = [student]
        for assignment in assignments:
            try:  # after the late penalty, as nbgrader's own CSV export
                submission = gradebook.find_submission(assignment, student)
                row.append(max(float(submission.score)
                               - float(submission.late_submission_penalty), 0.0))
            except MissingEntry:
                row.append(None)
        row.append(sum(v for v in row[1:] if v is not None))
        rows.append(row)
    maxima = [float(gradebook.find_assignment(a).max_score) for a in assignments]
    rows.append(["(max)", *maxima, sum(maxima)])
    return header, rows


def format_table(header: list[str], rows: list[list[object]]) -> str:
    """A plain-text table; missing submissions show as ``-``."""
    cells = [
        [("-" if v is None else f"{v:g}" if isinstance(v, float) else str(v)) for v in row]
        for row in rows
    ]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(header)]
    def line(values: list[str]) -> str:
        pairs = enumerate(zip(values, widths, strict=True))
        return "  ".join(v.ljust(w) if i == 0 else v.rjust(w) for i, (v, w) in pairs)

    lines = [line(header), "  ".join("-" * w for w in widths)]
    lines += [line(r) for r in cells]
    return "\n".join(lines)


def histogram(scores: list[float], max_score: float, title: str, dest: Path) -> Path:
    """Save a histogram of ``scores`` (0..max_score) as a PNG."""
    fig = Figure(figsize=(5, 3.2), layout="tight")
    ax = fig.add_subplot()
    bins = min(20, max(5, int(max_score)))
    ax.hist(scores, bins=bins, range=(0, max_score), color="#4c72b0", edgecolor="white")
    if scores:
        mean = statistics.fmean(scores)
        ax.axvline(mean, color="#dd8452", linestyle="--", label=f"mean {mean:.1f}")
        ax.legend(loc="upper left")
    ax.set_xlabel(f"score (out of {max_score:g})")
    ax.set_ylabel("students")
    ax.set_title(f"{title} (n={len(scores)})")
    dest.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(dest, dpi=100)
    return dest


def ungraded_answers(gradebook: Gradebook, assignment: str) -> int:
    """How many written answers (manually graded cells) of ``assignment`` have no score yet."""
    return sum(
        grade.auto_score is None and grade.manual_score is None
        for submission in gradebook.find_assignment(assignment).submissions
        for notebook in submission.notebooks
        for grade in notebook.grades
    )


def report(gradebook: Gradebook, out_dir: Path) -> tuple[str, list[Path], list[str]]:
    """The gradebook table as text, one histogram PNG per assignment, and summary lines."""
    header, rows = gradebook_table(gradebook)
    *students, maxima = rows  # the last row holds each column's maximum
    pngs, summaries = [], []
    for column, assignment in enumerate(header[1:-1], start=1):
        max_score = maxima[column]
        scores = [row[column] for row in students if row[column] is not None]
        pngs.append(histogram(scores, max_score, assignment, out_dir / f"{assignment}_scores.png"))
        if scores:
            summaries.append(
                f"{assignment}: n={len(scores)}, mean {statistics.fmean(scores):.1f}, "
                f"median {statistics.median(scores):g}, min {min(scores):g}, "
                f"max {max(scores):g} (out of {max_score:g})"
            )
        else:
            summaries.append(f"{assignment}: no submissions graded yet")
        pending = ungraded_answers(gradebook, assignment)
        if pending:
            summaries[-1] += (f"; {pending} written answers not graded yet (counted as 0: "
                              "formgrader, Manual Grading)")
    return format_table(header, rows), pngs, summaries
