"""validate and grade: full marks, zero for stubs, breaches and broken submissions reported.

Each validation runs nbgrader's real generate_assignment and autograde twice, in a
throw-away copy of the course (about 20 s per assignment).
"""

from __future__ import annotations

from pathlib import Path

import nbformat

from autograder.cli import main
from autograder.course import Course

ROOT = Path(__file__).resolve().parents[1]


def copy_course(dest: Path, assignment: str) -> Path:
    return Course(ROOT).copy_to(dest, assignments=[assignment]).root


def test_validate_passes_on_an_assignment_and_leaves_the_course_untouched(tmp_path, capsys):
    root = copy_course(tmp_path, "ps4_channels")
    assert main(["--root", str(root), "validate", "ps4_channels", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert ("[ok] source solution scores full marks on the tests: 14 / 14 (+ 4 points of "
            "written answers, graded by hand)") in out
    assert "[ok] untouched student version scores zero without crashing the grader: 0 / 18" in out
    assert ("[ok] ps4_channels.ipynb: 2 written answers to grade by hand (2 rubrics): "
            "written_audio_convolution (2), written_text_convolution (2)") in out
    assert "[ok] ps4_channels.ipynb: hidden tests for every task (4 tasks)" in out
    # It worked in a scratch copy: no gradebook, release or submissions here.
    assert sorted(p.name for p in root.iterdir()) == ["nbgrader_config.py", "source"]


def test_validate_fails_loudly_when_the_solution_is_wrong(tmp_path, capsys):
    root = copy_course(tmp_path, "ps4_channels")
    path = root / "source" / "ps4_channels" / "ps4_channels.ipynb"
    nb = nbformat.read(path, as_version=4)
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") ==
                "corr2d_multi_in")
    cell.source = cell.source.replace("return sum(", "return 2 * sum(")  # a wrong solution
    nbformat.write(nb, path)
    assert main(["--root", str(root), "validate", "ps4_channels", "--no-progress"]) == 1
    captured = capsys.readouterr()
    assert "[FAIL] the solution gives the grader its references" in captured.out
    assert "the solution fails its own test" in captured.out
    assert "validation FAILED" in captured.err


def test_a_broken_submission_is_reported_and_the_batch_goes_on(tmp_path, capsys):
    from autograder.submissions import EXAMPLES, make_submission, parse_answers

    root = copy_course(tmp_path, "ps4_channels")
    assert main(["--root", str(root), "build", "ps4_channels"]) == 0
    released = root / "release" / "ps4_channels" / "ps4_channels.ipynb"
    answers = parse_answers((EXAMPLES / "ps4_channels" / "alice.py").read_text())
    for student, content in (("alice", None), ("broken", "{ not json")):
        folder = root / "submitted" / student / "ps4_channels"
        folder.mkdir(parents=True)
        path = folder / "ps4_channels.ipynb"
        if content is None:
            nbformat.write(make_submission(released, answers), path)
        else:
            path.write_text(content)
    assert main(["--root", str(root), "grade", "ps4_channels", "--no-progress"]) == 0
    out = capsys.readouterr().out
    alice = next(line for line in out.splitlines() if line.startswith("alice "))
    assert "14.0 / 18.0" in alice  # the tests' 14 points; her written answers wait
    assert "[tests 14 / 14; 2 written answers to grade by hand (4 points)]" in alice
    assert "2 written answers of 1 students need manual grading" in out
    # graded 0 with the reason, in one line
    broken = next(line for line in out.splitlines() if line.startswith("broken "))
    assert "0.0 / 18.0" in broken
    assert "(corrupt notebook: ps4_channels.ipynb is not valid JSON" in broken
    assert "2 graded, 0 failed" in out
