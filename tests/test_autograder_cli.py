"""The command line: help for every subcommand and clear errors for bad input."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from autograder.cli import main
from autograder.course import Course
from autograder.validate import static_checks

ROOT = Path(__file__).resolve().parents[1]
COMMANDS = ["build", "validate", "collect", "grade", "feedback", "export", "report", "demo"]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_subcommand_has_help(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    assert f"python -m autograder {command}" in capsys.readouterr().out


def test_module_entry_point_runs():
    result = subprocess.run(
        [sys.executable, "-m", "autograder", "--help"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    assert all(command in result.stdout for command in COMMANDS)


def test_a_folder_without_config_is_refused_with_a_hint(tmp_path, capsys):
    assert main(["--root", str(tmp_path), "build"]) == 2
    err = capsys.readouterr().err
    assert "nbgrader_config.py is missing" in err and "--root PATH" in err


def test_unknown_assignment_lists_the_known_ones(capsys):
    assert main(["--root", str(ROOT), "grade", "ps9_nothing"]) == 2
    err = capsys.readouterr().err
    assert "unknown assignment 'ps9_nothing'" in err and "ps1_output_shapes" in err


def test_grading_before_building_says_what_to_run(tmp_path, capsys):
    Course(ROOT).copy_to(tmp_path)
    assert main(["--root", str(tmp_path), "grade", "ps1_output_shapes"]) == 2
    assert "python -m autograder build ps1_output_shapes" in capsys.readouterr().err


@pytest.mark.parametrize(
    "assignment", ["ps1_output_shapes", "ps2_pooling_as_convolution", "ps3_lenet_variants"]
)
def test_source_assignments_pass_the_static_checks(assignment):
    checks = static_checks(ROOT / "source" / assignment / f"{assignment}.ipynb")
    assert all(c.ok for c in checks), [c.line() for c in checks if not c.ok]


def _edit(tmp_path, edit) -> Path:
    src = ROOT / "source" / "ps1_output_shapes" / "ps1_output_shapes.ipynb"
    nb = nbformat.read(src, as_version=4)
    edit(nb)
    path = tmp_path / "ps1_output_shapes.ipynb"
    nbformat.write(nb, path)
    return path


def _cell(nb, grade_id):
    return next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def test_static_checks_catch_duplicate_ids_missing_points_and_docstrings(tmp_path):
    def edit(nb):
        _cell(nb, "test_same_padding_examples").metadata.nbgrader["grade_id"] = (
            "test_lenet_shapes_28"
        )
        _cell(nb, "test_conv_macs_examples").metadata.nbgrader["points"] = 0
        cell = _cell(nb, "test_conv_params_examples")
        cell.source = cell.source.split("\n", 1)[1]  # drop the docstring

    detail = static_checks(_edit(tmp_path, edit))[0]
    assert not detail.ok
    assert "duplicate grade_id test_lenet_shapes_28" in detail.detail
    assert "test_conv_macs_examples has no points" in detail.detail
    assert "test_conv_params_examples does not start with a docstring" in detail.detail


def test_static_checks_catch_a_task_without_hidden_tests(tmp_path):
    def edit(nb):
        cell = _cell(nb, "test_lenet_shapes_vs_torch")
        cell.source = cell.source.replace("lenet_shapes", "lenet_layers")

    hidden = static_checks(_edit(tmp_path, edit))[1]
    assert not hidden.ok and hidden.detail == "no hidden test calls lenet_shapes"


def test_a_scratch_copy_never_uses_the_real_gradebook(tmp_path):
    real = tmp_path / "real"
    Course(ROOT).copy_to(real)
    config = real / "nbgrader_config.py"
    config.write_text(config.read_text() + '\nc.CourseDirectory.db_url = "sqlite:////elsewhere.db"\n')
    assert Course(real).db_url == "sqlite:////elsewhere.db"
    scratch = Course(real).copy_to(tmp_path / "scratch", assignments=["ps4_channels"])
    assert scratch.db_url == f"sqlite:///{(tmp_path / 'scratch').resolve() / 'gradebook.db'}"
    assert scratch.assignments() == ["ps4_channels"]
    assert (tmp_path / "scratch" / "source" / "header.ipynb").is_file()
