"""collect: LMS zips and folders into nbgrader's submitted/<student>/<assignment>/ layout."""

from __future__ import annotations

import zipfile
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from autograder.cli import main
from autograder.collect import collect
from autograder.course import Course

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning")


@pytest.fixture
def course(tmp_path) -> Course:
    return Course(ROOT).copy_to(tmp_path)


def notebook_bytes(marker: str) -> bytes:
    cell = new_code_cell(f"x = {marker!r}")
    cell["id"] = "answer"  # a fixed id: the same marker gives the same bytes
    return nbformat.writes(new_notebook(cells=[cell])).encode()


def test_lms_zip_names_place_files_and_register_students(course, tmp_path):
    archive = tmp_path / "download.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("alice_1_ps1_output_shapes.ipynb", notebook_bytes("a1"))
        z.writestr("bob_late_12345_67890_ps2_pooling_as_convolution-1.ipynb", notebook_bytes("b2"))
        z.writestr("carol_3_ps3_lenet_variants.ipynb", notebook_bytes("c3"))
        z.writestr("dave_readme.txt", b"not a notebook")
        z.writestr("erin_1_homework.ipynb", notebook_bytes("e"))
        z.writestr("../evil_1_ps1_output_shapes.ipynb", notebook_bytes("zip slip"))
    result = collect(course, archive)
    submitted = course.folder("submitted")
    assert (
        submitted / "alice" / "ps1_output_shapes" / "ps1_output_shapes.ipynb"
    ).read_bytes() == notebook_bytes("a1")
    assert (
        submitted / "bob" / "ps2_pooling_as_convolution" / "ps2_pooling_as_convolution.ipynb"
    ).is_file()
    assert (submitted / "carol" / "ps3_lenet_variants" / "ps3_lenet_variants.ipynb").is_file()
    assert result.students == {"alice", "bob", "carol"}
    reasons = dict(result.unplaced)
    assert reasons["dave_readme.txt"] == "not a notebook"
    assert "no assignment has a notebook named like" in reasons["erin_1_homework.ipynb"]
    assert not (tmp_path / "evil").exists() and not list(tmp_path.parent.glob("evil*"))
    with course.gradebook() as gb:
        assert sorted(s.id for s in gb.students) == ["alice", "bob", "carol"]


def test_folder_layouts_student_and_student_assignment(course, tmp_path):
    inbox = tmp_path / "inbox"
    (inbox / "frank").mkdir(parents=True)
    (inbox / "frank" / "ps1_output_shapes.ipynb").write_bytes(notebook_bytes("f"))
    (inbox / "gina" / "ps2_pooling_as_convolution").mkdir(parents=True)
    (
        inbox / "gina" / "ps2_pooling_as_convolution" / "ps2_pooling_as_convolution.ipynb"
    ).write_bytes(notebook_bytes("g"))
    (inbox / "hal" / "ps1_output_shapes").mkdir(parents=True)
    (inbox / "hal" / "ps1_output_shapes" / "ps3_lenet_variants.ipynb").write_bytes(
        notebook_bytes("h")
    )
    result = collect(course, inbox)
    assert {(s, d.parent.name) for _, s, d in result.placed} == {
        ("frank", "ps1_output_shapes"),
        ("gina", "ps2_pooling_as_convolution"),
    }
    assert (
        "belongs to 'ps3_lenet_variants'"
        in dict(result.unplaced)["hal/ps1_output_shapes/ps3_lenet_variants.ipynb"]
    )


def test_a_different_resubmission_is_kept_out_unless_update(course, tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    for folder, marker in ((first, "v1"), (second, "v2")):
        folder.mkdir()
        (folder / "alice_1_ps1_output_shapes.ipynb").write_bytes(notebook_bytes(marker))
    dest = course.folder("submitted") / "alice" / "ps1_output_shapes" / "ps1_output_shapes.ipynb"
    collect(course, first)
    result = collect(course, second)
    assert dest.read_bytes() == notebook_bytes("v1"), "nothing collected before is overwritten"
    assert "pass --update to replace it" in result.unplaced[0][1]
    collect(course, second, update=True)
    assert dest.read_bytes() == notebook_bytes("v2")


def test_cli_reports_unplaced_files_and_exits_1(course, tmp_path, capsys):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "notes.md").write_text("hi")
    (inbox / ".._1_ps1_output_shapes.ipynb").write_bytes(notebook_bytes("escape"))
    assert main(["--root", str(course.root), "collect", str(inbox)]) == 1
    captured = capsys.readouterr()
    assert "could not place notes.md: not a notebook" in captured.err
    assert (
        "could not place .._1_ps1_output_shapes.ipynb: '..' is not a safe student id: it "
        "starts with '.'; a student id is 1 to 64 of the ASCII letters, digits and . _ - @ +, "
        "starting with a letter or digit" in captured.err
    )
    assert not (course.root / "ps1_output_shapes").exists(), "nothing written beside submitted/"
    assert main(["--root", str(course.root), "collect", str(tmp_path / "missing.zip")]) == 2
    assert "neither a folder nor a zip file" in capsys.readouterr().err
