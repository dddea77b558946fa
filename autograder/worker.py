"""What a grading worker does for one submission, locally or on a Dask worker.

A :class:`Grader` holds one sandbox slot (``autograder/sandbox.py``) and grades one
:class:`~autograder.tasks.Job` against its :class:`~autograder.tasks.Bundle`. Pipeline per
notebook, in order (each step needs the one before):

1. ``answers_from_bytes``: the student's text only, read loosely (a corrupt file stops
   here, with its reason, and scores 0);
2. ``merge``: the release's cells with the student's answers and the source's tests;
3. ``run_notebook``: the kernel in this grader's sandbox;
4. ``decide``: each grade cell against the reference observations, here, outside the
   sandbox; observation outputs are then removed and every failed test is annotated
   with its reason, so the graded notebook and the feedback say what went wrong;
5. nbgrader's ``LimitOutput`` (``c.LimitOutput`` of the course) on printed output and
   tracebacks, then ``make_inert`` (``autograder/sanitize.py``): what any page shows of the
   graded notebook runs nothing the student wrote.

Written answers (manually graded answer cells) are not decided here: the worker only says
which ones the student answered; a person grades them in the formgrader. The worker
returns an :class:`~autograder.tasks.Outcome`; only the grading command writes the
gradebook.

The local pool (``autograder/plan.py``) runs one :class:`Grader` per worker process,
made by its initializer (:func:`start_local`); a Dask worker holds one in its plugin
(``autograder/cluster.py``).
"""

from __future__ import annotations

import ctypes
import functools
import resource
import signal
import sys
import time
from typing import Any

import nbformat
from nbgrader.preprocessors import LimitOutput
from nbgrader.utils import is_grade, is_solution

from autograder.forbidden import violations
from autograder.limits import Limits
from autograder.merge import Answers, SubmissionError, answers_from_bytes, merge, solution_answers
from autograder.observations import decide, references_from, strip
from autograder.runner import RunResult, run_notebook
from autograder.sandbox import Sandbox, acquire_slot, become_subreaper, describe_device
from autograder.sanitize import make_inert
from autograder.tasks import (
    Bundle,
    CellScore,
    Job,
    NotebookOutcome,
    NotebookSpec,
    Outcome,
    ReferenceRun,
    WorkerConfig,
    Written,
)

__all__ = ["Grader", "grade_local", "references_local", "start_local", "zero_outcome"]


def _is_test(cell: Any) -> bool:
    return is_grade(cell) and not is_solution(cell)


def _written(nb: nbformat.NotebookNode, template: nbformat.NotebookNode) -> dict[str, Written]:
    """The manually graded answer cells: points, and whether the student changed the stub."""
    stubs = {c.metadata.get("nbgrader", {}).get("grade_id"): c.source.strip()
             for c in template.cells}
    return {
        c.metadata["nbgrader"]["grade_id"]: Written(
            max_points=float(c.metadata["nbgrader"].get("points", 0)),
            answered=c.source.strip() not in ("", stubs.get(c.metadata["nbgrader"]["grade_id"])),
        )
        for c in nb.cells if is_grade(c) and is_solution(c)
    }


def _annotate(cell: Any, reason: str) -> None:
    if any(o.get("output_type") == "error" for o in cell.get("outputs", [])):
        return  # the cell's own error already says it
    cell.outputs.append(nbformat.v4.new_output(
        "error", ename="NotPassed", evalue=reason, traceback=[f"NotPassed: {reason}"]))


def _note(nb: nbformat.NotebookNode, text: str) -> None:
    nb.cells.insert(0, nbformat.v4.new_markdown_cell(f"**Grader's note:** {text}",
                                                     metadata={"autograder_note": True}))


def _why(index: int, cell: Any, run: RunResult, refs: dict, timeout: int,
         sources: list[str]) -> str:
    """Why the test cell at ``index`` scores 0, or "" when it passed."""
    if run.stopped and run.stopped_at is not None and index >= run.stopped_at:
        return (f"{run.stopped} (in cell {run.stopped_at + 1})" if index == run.stopped_at
                else f"not run: {run.stopped} in cell {run.stopped_at + 1}")
    if run.stopped and run.stopped_at is None:
        return f"not run: {run.stopped}"
    if index in run.timed_out:
        return f"timed out after {timeout} s"
    why = decide(cell, refs.get(cell.metadata["nbgrader"]["grade_id"], {})).reason
    found = violations(cell.source, sources) if not why else []
    if found:  # the kernel's own check can be patched away; this one cannot
        why = f"not allowed here: {'; '.join(found)} (the grader read your code)"
    return why


def _score(nb: nbformat.NotebookNode, run: RunResult | None, refs: dict, timeout: int,
           reason: str, sources: list[str] = ()) -> dict[str, CellScore]:
    cells = {}
    for index, cell in enumerate(nb.cells):
        if not _is_test(cell):
            continue
        points = float(cell.metadata["nbgrader"].get("points", 0))
        why = reason if run is None else _why(index, cell, run, refs, timeout, list(sources))
        cells[cell.metadata["nbgrader"]["grade_id"]] = CellScore(
            0.0 if why else points, points, why)
        strip(cell)
        if why and run is not None:
            _annotate(cell, why)
    return cells


def zero_outcome(job: Job, bundle: Bundle, reason: str, **extra: Any) -> Outcome:
    """Every test of ``job`` scored 0 with ``reason``, nothing run (a submission that
    killed the workers that ran it)."""
    return Outcome(job.student, {spec.name: _unread(spec, reason, Limits())
                                 for spec in bundle.notebooks}, **extra)


def _unread(spec: NotebookSpec, reason: str, limits: Limits) -> NotebookOutcome:
    """The outcome of a notebook that could not be run: every test 0 with ``reason``."""
    template = nbformat.reads(spec.template, as_version=4)
    nb = merge(template, nbformat.reads(spec.tests, as_version=4), Answers())
    cells = _score(nb, None, spec.references, 0, reason)
    _note(nb, f"{reason}. Every test scores 0.")
    outcome = NotebookOutcome(cells, _written(nb, template), "", reason)
    return _finish(nb, outcome, RunResult(nb), limits)


def _finish(nb: nbformat.NotebookNode, outcome: NotebookOutcome, run: RunResult,
            limits: Limits) -> NotebookOutcome:
    """nbgrader's LimitOutput, then ``make_inert``, then the notebook as JSON text."""
    limit = LimitOutput(max_lines=limits.output_lines, max_traceback=limits.traceback_lines)
    for index, cell in enumerate(nb.cells):
        limit.preprocess_cell(cell, {}, index)
    not_shown = tuple(make_inert(nb))  # last: what any page shows of it runs nothing
    return NotebookOutcome(
        outcome.cells, outcome.written, nbformat.writes(nb), outcome.reason, outcome.notes,
        kernel_seconds=run.kernel_seconds, cells_seconds=run.cells_seconds,
        peak_mb=run.peak_mb, truncated=dict(run.truncated),
        leftover_processes=run.leftover_processes, not_shown=not_shown)


class Grader:
    """Grades submissions in one sandbox slot.

    Args:
        config: the batch's limits and kernel settings.
        slot: the sandbox slot (locked by this process; see ``acquire_slot``).
    """

    def __init__(self, config: WorkerConfig, slot: int, lock: object):
        self.config, self.lock = config, lock
        self.sandbox = Sandbox(slot, config.limits, unsafe=config.unsafe)
        self.device = describe_device()

    def _run(self, nb: nbformat.NotebookNode) -> RunResult:
        lim = self.config.limits
        code_cells = sum(c.cell_type == "code" for c in nb.cells)
        return run_notebook(
            nb, self.sandbox, timeout=lim.cell_timeout_s, startup_timeout=lim.startup_timeout_s,
            deadline_s=lim.deadline_for(code_cells), max_output_bytes=lim.output_bytes,
            threads=self.config.threads, extra_arguments=list(self.config.extra_arguments),
        )

    def _notebook(self, spec: NotebookSpec, raw: bytes | None) -> NotebookOutcome:
        template = nbformat.reads(spec.template, as_version=4)
        tests = nbformat.reads(spec.tests, as_version=4)
        timeout = self.config.limits.cell_timeout_s
        try:
            answers = answers_from_bytes(raw, spec.name, template)
        except SubmissionError as exc:
            return _unread(spec, str(exc), self.config.limits)
        nb = merge(template, tests, answers)
        run = self._run(nb)
        added = [text for cells in answers.added.values() for kind, text in cells if kind == "code"]
        code_ids = {c.metadata.get("nbgrader", {}).get("grade_id") for c in template.cells
                    if c.cell_type == "code"}  # written answers are prose, not the student's code
        sources = [*(text for g, text in answers.answers.items() if g in code_ids), *added]
        cells = _score(nb, run, spec.references, timeout, "", sources)
        reason = ""
        if run.stopped:
            where = f" in cell {run.stopped_at + 1}" if run.stopped_at is not None else ""
            reason = f"{run.stopped}{where}"
            _note(nb, f"{reason}; the tests after it were not run and score 0.")
        for cell in nb.cells:  # observations forged in other cells: gone
            strip(cell)
        for index, dropped in run.truncated.items():
            nb.cells[index + (1 if reason else 0)].outputs.append(nbformat.v4.new_output(
                "stream", name="stderr",
                text=f"\n[grader: output cut here; {dropped:,} more bytes were not kept]\n"))
        if run.timed_out and not reason:
            reason = f"{len(run.timed_out)} cell(s) timed out after {timeout} s"
        outcome = NotebookOutcome(cells, _written(nb, template), "", reason, tuple(answers.notes))
        return _finish(nb, outcome, run, self.config.limits)

    def grade(self, job: Job, bundle: Bundle, *, worker: str = "local") -> Outcome:
        """Grade every notebook of one submission; a grader bug becomes ``error``."""
        start = time.perf_counter()
        notebooks, error = {}, ""
        try:
            if job.bundle_digest != bundle.digest:
                raise ValueError(f"the job wants bundle {job.bundle_digest[:12]}, "
                                 f"not {bundle.digest[:12]}")
            for spec in bundle.notebooks:
                notebooks[spec.name] = self._notebook(spec, job.file(spec.name))
        except Exception as exc:  # noqa: BLE001 - a grader bug must not stop the batch
            error = f"{type(exc).__name__}: {exc}"
        return Outcome(job.student, notebooks if not error else {}, error,
                       time.perf_counter() - start,
                       resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                       self.sandbox.slot, self.device, worker)

    def references(self, template_text: str, source_text: str) -> ReferenceRun:
        """Run the instructor's solution like a submission; its observations are the
        references the students' runs are decided against."""
        template = nbformat.reads(template_text, as_version=4)
        source = nbformat.reads(source_text, as_version=4)
        nb = merge(template, source, solution_answers(source))
        run = self._run(nb)
        refs, problems = {}, []
        if run.stopped:
            problems.append(f"the solution's run stopped: {run.stopped}")
        answers = [c.source for c in source.cells if is_solution(c)]
        for cell in nb.cells:
            if not _is_test(cell):
                continue
            grade_id = cell.metadata["nbgrader"]["grade_id"]
            try:
                refs[grade_id] = references_from(cell)
            except ValueError as exc:
                problems.append(f"{grade_id}: {exc}")
                continue
            broken = violations(cell.source, answers)
            if broken:
                problems.append(f"{grade_id}: the solution breaks its own rule "
                                f"({'; '.join(broken)})")
            errors = [o for o in cell.outputs if o.get("output_type") == "error"]
            if errors:
                problems.append(f"{grade_id}: the solution fails its own test "
                                f"({errors[0].get('ename')}: {errors[0].get('evalue')})")
            elif not refs[grade_id]:
                problems.append(f"{grade_id}: the test reports nothing to the grader "
                                "(call cnnkit.observe.observe on what it checks)")
        return ReferenceRun(refs, tuple(problems), run.kernel_seconds)


# --- the local pool: one Grader per worker process -------------------------------------

@functools.cache
def _local(config: WorkerConfig) -> Grader:
    slot, lock = acquire_slot()
    return Grader(config, slot, lock)


def start_local(config: WorkerConfig) -> None:
    """Pool initializer: die with the grading command, lock this process's sandbox slot."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    become_subreaper()
    _local(config)


def grade_local(config: WorkerConfig, job: Job, bundle: Bundle) -> Outcome:
    """A local pool task: grade ``job`` with this process's grader."""
    return _local(config).grade(job, bundle)


def references_local(config: WorkerConfig, template: str, source: str) -> ReferenceRun:
    """A local pool task: the references of one notebook."""
    return _local(config).references(template, source)
