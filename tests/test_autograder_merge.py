"""autograder.merge: the graded notebook is the instructor's, with only the student's text."""

from __future__ import annotations

import json

import nbformat
import pytest

from autograder.merge import SubmissionError, merge, read_answers, solution_answers


def _nb(cells):
    return nbformat.v4.new_notebook(cells=cells)


def _answer(grade_id, text):
    return nbformat.v4.new_code_cell(text, metadata={"nbgrader": {
        "grade_id": grade_id, "solution": True, "grade": False, "locked": False}})


def _test(grade_id, text, points=2):
    return nbformat.v4.new_code_cell(text, metadata={"nbgrader": {
        "grade_id": grade_id, "solution": False, "grade": True, "locked": True,
        "points": points}})


@pytest.fixture
def notebooks():
    source = _nb([nbformat.v4.new_markdown_cell("# PS"), _answer("f", "def f(): return 1"),
                  _test("test_f", "assert f() == 1\n### BEGIN HIDDEN TESTS\nassert f()\n"
                                  "### END HIDDEN TESTS")])
    release = _nb([nbformat.v4.new_markdown_cell("# header"), nbformat.v4.new_markdown_cell("# PS"),
                   _answer("f", "raise NotImplementedError()"), _test("test_f", "assert f() == 1")])
    return source, release


def _write(tmp_path, nb_or_text):
    path = tmp_path / "sub.ipynb"
    path.write_text(nb_or_text if isinstance(nb_or_text, str) else nbformat.writes(nb_or_text))
    return path


def test_tests_come_from_source_and_answers_from_the_student(tmp_path, notebooks):
    source, release = notebooks
    student = json.loads(nbformat.writes(release))
    student["cells"][2]["source"] = "def f(): return 2"
    student["cells"][3]["source"] = "pass"  # edited test
    student["cells"][3]["metadata"]["nbgrader"]["points"] = 100  # inflated
    student["cells"].insert(3, {"cell_type": "code", "source": "helper = 3", "metadata": {},
                                "outputs": [], "execution_count": None})
    student["cells"].append(dict(student["cells"][4]))  # duplicated test
    student["metadata"]["kernelspec"] = {"name": "bogus", "display_name": "b"}
    answers = read_answers(_write(tmp_path, json.dumps(student)), release)
    nb = merge(release, source, answers)
    assert [c.source for c in nb.cells] == [
        "# header", "# PS", "def f(): return 2", "helper = 3", source.cells[2].source]
    assert nb.cells[4].metadata.nbgrader.points == 2
    assert nb.metadata.kernelspec.name == "python3"
    assert "restored the instructor's cell test_f" in answers.notes


def test_deleted_cells_come_back(tmp_path, notebooks):
    source, release = notebooks
    answers = read_answers(_write(tmp_path, _nb([])), release)
    nb = merge(release, source, answers)
    assert [c.source for c in nb.cells][2:] == ["raise NotImplementedError()",
                                                 source.cells[2].source]


def test_old_schema_cells_are_read(tmp_path, notebooks):
    source, release = notebooks
    old = {"nbformat": 3, "worksheets": [{"cells": [
        {"cell_type": "heading", "level": 1, "source": "Title", "metadata": {}},
        {"cell_type": "code", "input": ["def f():\n", "    return 5"], "prompt_number": 1,
         "language": "python", "metadata": {"nbgrader": {"grade_id": "f", "solution": True}}},
    ]}]}
    nb = merge(release, source, read_answers(_write(tmp_path, json.dumps(old)), release))
    assert nb.cells[2].source == "def f():\n    return 5"
    nbformat.validate(nb)


@pytest.mark.parametrize(("content", "message"), [
    ("{not json", "corrupt notebook: sub.ipynb is not valid JSON"),
    ("[1, 2]", "not a notebook"),
    ('{"cells": 3}', "not a notebook: it has no list of cells"),
])
def test_unreadable_submissions_say_why(tmp_path, notebooks, content, message):
    with pytest.raises(SubmissionError, match=message):
        read_answers(_write(tmp_path, content), notebooks[1])


def test_missing_notebook(tmp_path, notebooks):
    with pytest.raises(SubmissionError, match="missing notebook: nope.ipynb was not submitted"):
        read_answers(tmp_path / "nope.ipynb", notebooks[1])


def test_solution_answers_rebuild_the_source(notebooks):
    source, release = notebooks
    nb = merge(release, source, solution_answers(source))
    assert nb.cells[2].source == "def f(): return 1"
