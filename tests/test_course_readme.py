"""course/README.md stays true: its tables point at lectures, sections and graded tasks that exist.

Cheap: it reads notebooks with nbformat and runs none of them. What it guarantees:

- the lecture table lists exactly the notebooks in ``course/``, the assignment table exactly
  the assignments in ``source/``;
- every place in the "Where everything is" tables exists: the notebook (by its file name),
  the section heading in that notebook's markdown (number and title), the numbered exercise
  under its "Exercises" heading, the ``grade_id`` in the assignment's source notebook;
- every seed topic, exercise and correction of the fixed checklist below has its row, so
  deleting a row fails; rows marked "not covered yet" are exactly ``KNOWN_GAPS`` (give a
  gap a home and this set must shrink with it);
- *how* uses a fixed vocabulary, and "graded task" / "written answer" / "exercise" are
  backed by a place of that kind;
- the README holds no solution, hidden-test or mark-scheme line: ``publish`` copies
  ``course/`` into the student edition.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import nbformat
import pytest

from autograder.publish import secret_lines

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "course" / "README.md"

# The seed material's checklist (seeds: A lecture, T textbook LeNet section, N student's
# notes with every section's exercises, B second university's slides; F corrections).
TEXTBOOK_EXERCISES = ("T-ex1", "T-ex2", "T-ex2a", "T-ex2b", "T-ex2c", "T-ex2d", "T-ex2e",
                      "T-ex2f", "T-ex3", "T-ex4")
NOTES_EXERCISES = (
    # 6.1 from dense layers to convolutions
    "N6.1-1", "N6.1-2", "N6.1-3", "N6.1-4", "N6.1-5", "N6.1-6",
    # 6.2 convolutions for images
    "N6.2-1a", "N6.2-1b", "N6.2-1c", "N6.2-2", "N6.2-3", "N6.2-4a", "N6.2-4b", "N6.2-4c",
    # 6.3 padding and stride
    "N6.3-1", "N6.3-2", "N6.3-3", "N6.3-4",
    # 6.4 multiple input and output channels
    "N6.4-1a", "N6.4-1b", "N6.4-1c", "N6.4-2a", "N6.4-2b", "N6.4-2c", "N6.4-2d", "N6.4-3",
    "N6.4-4", "N6.4-5", "N6.4-6",
    # 6.5 pooling
    "N6.5-1", "N6.5-2", "N6.5-3", "N6.5-4", "N6.5-5", "N6.5-6",
    # 6.6 LeNet (the textbook's exercises again)
    "N6.6-1", "N6.6-2", "N6.6-2a", "N6.6-2b", "N6.6-2c", "N6.6-2d", "N6.6-2e", "N6.6-2f",
    "N6.6-3", "N6.6-4",
)
EXERCISES = TEXTBOOK_EXERCISES + NOTES_EXERCISES
TOPICS = (tuple(f"A{i:02d}" for i in range(1, 31)) + tuple(f"T{i:02d}" for i in range(1, 13))
          + tuple(f"N{i:02d}" for i in range(1, 22)) + tuple(f"B{i:02d}" for i in range(1, 51)))
FIXES = ("F1", "F2", "F3", "F4", "F5", "F6")  # F1-F4: the mistakes seeds/README.md names
KNOWN_GAPS: set[str] = set()  # every seed item has a home

HOW = {"taught", "worked cell", "widget", "exercise", "graded task", "written answer",
       "not covered yet"}
LECTURE_REF = re.compile(r'`(\d\d_[a-z0-9_]+)`(?: §(\d+))? "([^"]+)"(?: \((\d+)\))?')
TASK_REF = re.compile(r"`(ps\d+_[a-z0-9_]+)` `([A-Za-z0-9_]+)`")
SEED_HEADER = ["id", "seed item", "where", "how"]


def _tables(text: str) -> list[tuple[list[str], list[list[str]]]]:
    """Every markdown table in ``text`` as (header, rows), cells stripped."""
    tables, block = [], []
    for line in [*text.splitlines(), ""]:
        if line.startswith("|"):
            block.append([c.strip() for c in line.strip().strip("|").split(" | ")])
        elif block:
            assert len(block) >= 2 and set(block[1][0]) <= set("-: "), f"not a table: {block[0]}"
            width = len(block[0])
            for row in block[2:]:
                assert len(row) == width, f"row has {len(row)} cells, header {width}: {row}"
            tables.append((block[0], block[2:]))
            block = []
    return tables


@cache
def _readme() -> str:
    assert README.is_file(), "course/README.md is missing"
    return README.read_text()


def _table(header_start: str) -> list[list[str]]:
    found = [rows for header, rows in _tables(_readme()) if header[0] == header_start]
    assert len(found) == 1, f"expected one table whose first column is {header_start!r}"
    return found[0]


def _seed_rows() -> list[list[str]]:
    rows = [r for header, rows in _tables(_readme()) if header == SEED_HEADER for r in rows]
    assert rows, f"no seed tables (header {SEED_HEADER}) in course/README.md"
    return rows


def _lectures() -> set[str]:
    return {p.stem for p in (ROOT / "course").glob("*.ipynb")}


def _assignments() -> set[str]:
    return {p.name for p in (ROOT / "source").iterdir()
            if (p / f"{p.name}.ipynb").is_file()}


@cache
def _headings(lecture: str) -> list[tuple[int | None, str, str]]:
    """(number or None, title, text up to the next heading) of every markdown heading."""
    path = ROOT / "course" / f"{lecture}.ipynb"
    assert path.is_file(), (
        f"course/README.md names {lecture}, but course/{lecture}.ipynb is missing")
    lines = [line for cell in nbformat.read(path, as_version=4).cells
             if cell.cell_type == "markdown" for line in cell.source.splitlines()]
    found = []
    for i, line in enumerate(lines):
        match = re.match(r"#+\s+(.*)", line)
        if not match:
            continue
        text = re.sub(r"^\d\d · ", "", match[1].strip())  # "# 07 · LeNet-5: ..." -> the title
        numbered = re.match(r"(\d+)\.\s+(.*)", text)
        number, title = (int(numbered[1]), numbered[2]) if numbered else (None, text)
        end = next((j for j in range(i + 1, len(lines)) if lines[j].startswith("#")), len(lines))
        found.append((number, title, "\n".join(lines[i + 1:end])))
    return found


@cache
def _grade_ids(assignment: str) -> set[str]:
    folder = ROOT / "source" / assignment
    assert folder.is_dir(), (
        f"course/README.md names {assignment}, but source/{assignment}/ is missing")
    return {cell.metadata.get("nbgrader", {}).get("grade_id")
            for nb in folder.glob("*.ipynb") for cell in nbformat.read(nb, as_version=4).cells}


def _title_matches(heading: str, quoted: str) -> bool:
    """The quoted title is the heading's, or its start up to " (" / ":" (long headings)."""
    return heading == quoted or (heading.startswith(quoted) and heading[len(quoted)] in " (:;,")


def _check_lecture_ref(lecture: str, number: str | None, title: str, exercise: str | None):
    number = int(number) if number else None
    matches = [text for n, t, text in _headings(lecture)
               if n == number and _title_matches(t, title)]
    where = f"{lecture} " + (f"§{number} " if number else "") + f'"{title}"'
    assert matches, f"course/README.md points at {where}, which is not a heading of that notebook"
    if exercise:
        assert title == "Exercises", f"{where} ({exercise}): a number only follows \"Exercises\""
        assert any(re.search(rf"^\s*{exercise}\. ", text, re.M) for text in matches), (
            f"{where} has no exercise {exercise}")


def _refs(where: str) -> tuple[list[tuple], list[tuple]]:
    """The lecture and task references of one "where" cell; anything else is an error."""
    lectures, tasks, rest, end = [], [], [], 0
    for match in re.finditer(f"{LECTURE_REF.pattern}|{TASK_REF.pattern}", where):
        rest.append(where[end:match.start()])
        end = match.end()
        if match[1]:
            lectures.append(match.groups()[:4])
        else:
            tasks.append(match.groups()[4:])
    rest.append(where[end:])
    separators = ["", *["; "] * (len(rest) - 2), ""] if len(rest) > 1 else [None]
    assert rest == separators, (
        f"cannot read the places {where!r}: write `NN_name` §N \"Title\", `NN_name` "
        "\"Exercises\" (N) or `psN_name` `grade_id`, separated by \"; \"")
    return lectures, tasks


def test_lecture_table_lists_every_lecture():
    listed = [re.fullmatch(r"`([^`]+)`", row[0]) for row in _table("notebook")]
    assert all(listed), "the lecture table's first column is `notebook_name`"
    names = [m[1] for m in listed]
    assert len(names) == len(set(names)), "a lecture is listed twice"
    assert set(names) == _lectures(), (
        f"missing from the lecture table: {sorted(_lectures() - set(names))}; "
        f"listed but not in course/: {sorted(set(names) - _lectures())}")
    assert names == sorted(names), "list the lectures in teaching order (by their numbers)"
    for row in _table("notebook"):
        for name in re.findall(r"`(ps\d+_[a-z0-9_]+)`", row[-1]):
            assert name in _assignments(), f"{row[0]} is graded in {name}, which is not in source/"


def test_assignment_table_lists_every_assignment():
    names = [re.fullmatch(r"`([^`]+)`", row[0])[1] for row in _table("assignment")]
    assert sorted(names) == sorted(_assignments()), (names, sorted(_assignments()))


def test_every_place_exists():
    checked = 0
    for seed_id, _item, where, _how in _seed_rows():
        if where == "—":
            continue
        lectures, tasks = _refs(where)
        for lecture, number, title, exercise in lectures:
            _check_lecture_ref(lecture, number, title, exercise)
            checked += 1
        for assignment, grade_id in tasks:
            assert grade_id in _grade_ids(assignment), (
                f"{seed_id}: {assignment} has no cell with grade_id {grade_id!r}")
            checked += 1
    assert checked > 200, f"only {checked} places read: is the table format still the same?"


def test_checklist_has_rows():
    ids = [row[0] for row in _seed_rows()]
    assert len(ids) == len(set(ids)), f"ids twice: {sorted({i for i in ids if ids.count(i) > 1})}"
    missing = [i for i in (*EXERCISES, *TOPICS, *FIXES) if i not in ids]
    assert not missing, f"seed items without a row in course/README.md: {missing}"
    assert len(EXERCISES) == 55 and len(TOPICS) == 113


def test_gaps_are_the_known_ones():
    gaps = {row[0] for row in _seed_rows() if row[3] == "not covered yet"}
    assert gaps == KNOWN_GAPS, (
        f"newly uncovered: {sorted(gaps - KNOWN_GAPS)}; covered now (drop them from "
        f"KNOWN_GAPS): {sorted(KNOWN_GAPS - gaps)}")
    for seed_id, _item, where, how in _seed_rows():
        assert (where == "—") == (how == "not covered yet"), (
            f"{seed_id}: a row without a place is 'not covered yet', and only such a row")


@pytest.mark.parametrize("kind", ["graded task", "written answer", "exercise"])
def test_how_is_backed_by_a_place(kind):
    for seed_id, _item, where, how in _seed_rows():
        terms = how.split(", ")
        assert set(terms) <= HOW, f"{seed_id}: unknown 'how' {sorted(set(terms) - HOW)}"
        if where == "—":
            continue
        lectures, tasks = _refs(where)
        written = [g for _, g in tasks if g.startswith("written_")]
        has = {"graded task": len(tasks) > len(written), "written answer": bool(written),
               "exercise": any(title == "Exercises" for _, _, title, _ in lectures)}[kind]
        if kind in terms:
            assert has, f"{seed_id} says '{kind}' but points at no such place: {where}"
        if kind == "written answer" and written:
            assert kind in terms, f"{seed_id} points at {written} but does not say 'written answer'"


def test_no_secret_line_in_readme():
    """publish copies course/ into the student edition: no solution may reach it this way."""
    text = _readme()
    for assignment in sorted(_assignments()):
        for nb in (ROOT / "source" / assignment).glob("*.ipynb"):
            found, _visible = secret_lines(nbformat.read(nb, as_version=4))
            leaked = [line for line in found if line in text]
            assert not leaked, f"course/README.md repeats secret lines of {nb.name}: {leaked[:3]}"
