"""The typed grading core: limits in one place, the data that crosses process and machine
boundaries, and one real sandboxed run through :class:`autograder.worker.Grader`."""

from __future__ import annotations

import dataclasses
import pickle
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from hypothesis import given
from hypothesis import strategies as st
from nbgrader.preprocessors import LimitOutput
from nbgrader.utils import is_grade, is_solution
from traitlets.config import Config

from autograder.limits import GradingLimits, Limits, limits_from_config, options_help
from autograder.sandbox import acquire_slot
from autograder.tasks import (
    Bundle,
    CellScore,
    Job,
    NotebookOutcome,
    NotebookSpec,
    Outcome,
    WorkerConfig,
    Written,
    strip_solutions,
)
from autograder.worker import Grader, zero_outcome

ROOT = Path(__file__).resolve().parents[1]


def test_the_traitlets_and_the_dataclass_share_one_set_of_defaults():
    configurable = GradingLimits()
    defaults = Limits()
    names = set(GradingLimits.class_own_traits(config=True))
    assert names == {f.name for f in dataclasses.fields(Limits)} - {"output_lines",
                                                                     "traceback_lines"}
    for name in names:
        assert getattr(configurable, name) == getattr(defaults, name), name
        assert GradingLimits.class_traits()[name].help, f"{name} has no help"
    assert defaults.output_lines == LimitOutput.max_lines.default_value


def test_nbgrader_config_sets_the_limits_and_bad_values_name_the_option():
    config = Config()
    config.GradingLimits.memory_mb = 1024
    config.GradingLimits.tmp_mb = 64
    config.LimitOutput.max_lines = 7
    limits = limits_from_config(config, cell_timeout_s=9, startup_timeout_s=None)
    assert (limits.memory_mb, limits.tmp_mb, limits.output_lines, limits.cell_timeout_s,
            limits.startup_timeout_s) == (1024, 64, 7, 9, Limits().startup_timeout_s)
    config.GradingLimits.processes = 0
    with pytest.raises(ValueError, match=r"c\.GradingLimits\.processes must be a positive"):
        limits_from_config(config)


def test_the_course_config_is_read_and_grade_help_lists_every_limit():
    from autograder.course import Course

    limits = limits_from_config(Course(ROOT).config)
    assert (limits.cell_timeout_s, limits.output_lines, limits.traceback_lines) == (300, 200, 40)
    out = subprocess.run([sys.executable, "-m", "autograder", "grade", "--help"],
                         capture_output=True, text=True, check=True).stdout
    for name in GradingLimits.class_own_traits(config=True):
        assert f"c.GradingLimits.{name} = " in out, name
    assert "c.LimitOutput.max_lines" in out and "--scheduler" in out
    assert options_help().splitlines()[0] in out


def _outcome(text: str, points: float) -> Outcome:
    cell = CellScore(points, 2.0, "" if points else text)
    nb = NotebookOutcome({"t1": cell}, {"w": Written(3.0, bool(points))}, "{}", text,
                         (text,), 1.5, 1.0, 10.0, {3: 120}, 0, ("html",))
    return Outcome("alice", {"a.ipynb": nb}, "", 2.0, 100.0, 1, "cpu", "w1")


@given(st.text(max_size=40), st.sampled_from([0.0, 2.0]))
def test_an_outcome_survives_json_and_pickle(text, points):
    outcome = _outcome(text, points)
    assert Outcome.from_json(outcome.to_json()) == outcome
    assert pickle.loads(pickle.dumps(outcome)) == outcome


def _source(name: str = "ps1_output_shapes") -> nbformat.NotebookNode:
    return nbformat.read(ROOT / "source" / name / f"{name}.ipynb", as_version=4)


def test_the_bundle_has_the_tests_but_no_solution():
    source = _source()
    answers = [c.source for c in source.cells if is_solution(c) and c.source.strip()]
    tests = [c.source for c in source.cells if is_grade(c) and not is_solution(c)]
    stripped = nbformat.reads(strip_solutions(source), as_version=4)
    assert answers and tests
    assert all(not c.source for c in stripped.cells if is_solution(c))
    assert [c.source for c in stripped.cells if is_grade(c) and not is_solution(c)] == tests
    text = strip_solutions(source)
    assert not any(answer in text for answer in answers if len(answer) > 40)


def test_a_bundle_that_changed_in_transit_is_refused():
    bundle = Bundle.make("a", [NotebookSpec("a.ipynb", "{}", "{}", {"t": [1]})])
    assert bundle.verified() is bundle
    assert pickle.loads(pickle.dumps(bundle)).verified() == bundle
    forged = dataclasses.replace(bundle, notebooks=(NotebookSpec("a.ipynb", "{}", "{}",
                                                                 {"t": [2]}),))
    with pytest.raises(ValueError, match="does not match its digest"):
        forged.verified()
    assert Bundle.make("a", list(bundle.notebooks)).digest == bundle.digest  # by content


def _tiny() -> tuple[str, str]:
    """A one-task assignment: the answer prints 50 lines; the test observes a value."""
    meta = {"nbgrader": {"grade_id": "answer", "solution": True, "grade": False,
                         "locked": False, "schema_version": 3}}
    test_meta = {"nbgrader": {"grade_id": "t_value", "solution": False, "grade": True,
                              "points": 2, "locked": True, "schema_version": 3}}
    answer = "def f():\n    return 42\nfor i in range(50):\n    print('line', i)"
    test = ("from cnnkit.observe import observe\nobserve('value', f())\n"
            "print('\\n'.join(map(str, range(50))))")
    source = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell(answer, metadata=meta),
        nbformat.v4.new_code_cell(test, metadata=test_meta)])
    template = nbformat.from_dict(nbformat.reads(nbformat.writes(source), as_version=4))
    template.cells[0].source = "def f():\n    raise NotImplementedError()"
    return nbformat.writes(template), nbformat.writes(source)


def test_a_grader_runs_references_and_a_job_in_its_sandbox_and_keeps_limit_output(tmp_path):
    template, source = _tiny()
    slot, lock = acquire_slot()
    try:
        grader = Grader(WorkerConfig(limits=Limits(output_lines=5, cell_timeout_s=60)),
                        slot, lock)
        run = grader.references(template, source)
        assert run.problems == (), run.problems
        tests = strip_solutions(nbformat.reads(source, as_version=4))
        bundle = Bundle.make("tiny", [NotebookSpec("tiny.ipynb", template, tests,
                                                   run.references)])
        right = source.encode()
        wrong = source.replace("return 42", "return 41").encode()
        for raw, points in ((right, 2.0), (wrong, 0.0), (b"not json", 0.0), (None, 0.0)):
            job = Job("s", "tiny", bundle.digest, (("tiny.ipynb", raw),))
            outcome = grader.grade(job, bundle)
            assert not outcome.error, outcome.error
            result = outcome.notebooks["tiny.ipynb"]
            assert result.cells["t_value"].points == points, result.cells
            if raw is right:  # nbgrader's LimitOutput kept 5 lines of 50 in each cell
                graded = result.graded_notebook()
                texts = [o.text for c in graded.cells if c.cell_type == "code"
                         for o in c.outputs if o.output_type == "stream"]
                assert texts and all(t.count("\n") <= 5 for t in texts), texts
                assert any("Output truncated" in t for t in texts)
        assert "missing notebook" in outcome.notebooks["tiny.ipynb"].reason
        other = grader.grade(dataclasses.replace(job, bundle_digest="0" * 64), bundle)
        assert "wants bundle" in other.error
    finally:
        lock.close()
    zero = zero_outcome(job, bundle, "it broke three workers")
    assert zero.notebooks["tiny.ipynb"].cells["t_value"] == CellScore(
        0.0, 2.0, "it broke three workers")
