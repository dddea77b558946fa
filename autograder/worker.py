"""What one grading worker does for one submission; runs in a worker process.

Pipeline, in order (each step needs the one before):
1. ``read_answers``: the student's text only, read loosely (a corrupt file stops here,
   with its reason, and scores 0);
2. ``merge``: the release's cells with the student's answers and the source's tests;
3. ``run_notebook``: the kernel in this worker's sandbox slot;
4. ``decide``: each grade cell against the reference observations, here, outside the
   sandbox; observation outputs are then removed and every failed test is annotated
   with its reason, so the graded notebook and the feedback say what went wrong.
Written answers (manually graded answer cells) are not decided here: the worker only says
which ones the student answered (``written``); a person grades them in the formgrader.
The worker returns plain data; only the main process writes the gradebook.
"""

from __future__ import annotations

import ctypes
import resource
import signal
import sys
import time
from pathlib import Path
from typing import Any

import nbformat

from autograder.forbidden import violations
from autograder.merge import Answers, SubmissionError, merge, read_answers
from autograder.observations import decide, strip
from autograder.runner import RunResult, run_notebook
from autograder.sandbox import Limits, Sandbox, acquire_slot, become_subreaper
from autograder.sanitize import make_inert

__all__ = ["init_worker", "grade_submission", "run_trusted"]

_STATE: dict[str, Any] = {}


def init_worker(limits: Limits, unsafe: bool, settings: dict[str, Any]) -> None:
    """Pool initializer: die with the grader, lock a sandbox slot for this process."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    become_subreaper()
    slot, lock = acquire_slot()
    _STATE.update(sandbox=Sandbox(slot, limits, unsafe=unsafe), lock=lock, settings=settings)


def _run(nb: nbformat.NotebookNode) -> RunResult:
    s = _STATE["settings"]
    code_cells = sum(c.cell_type == "code" for c in nb.cells)
    return run_notebook(
        nb, _STATE["sandbox"], timeout=s["timeout"], startup_timeout=s["startup_timeout"],
        deadline_s=min(s["deadline_s"], s["timeout"] * max(code_cells, 1)),
        max_output_bytes=s["max_output_bytes"], threads=s["threads"],
        extra_arguments=s["extra_arguments"],
    )


def _grade_cells(nb: nbformat.NotebookNode) -> list[tuple[int, Any]]:
    return [(i, c) for i, c in enumerate(nb.cells)
            if c.metadata.get("nbgrader", {}).get("grade")
            and not c.metadata["nbgrader"].get("solution")]


def _written(nb: nbformat.NotebookNode, template: nbformat.NotebookNode) -> dict[str, dict]:
    """The manually graded answer cells: points, and whether the student changed the stub."""
    stubs = {c.metadata.get("nbgrader", {}).get("grade_id"): c.source.strip()
             for c in template.cells}
    return {
        c.metadata["nbgrader"]["grade_id"]: {
            "max_points": float(c.metadata["nbgrader"].get("points", 0)),
            "answered": c.source.strip() not in ("", stubs.get(c.metadata["nbgrader"]["grade_id"])),
        }
        for c in nb.cells
        if c.metadata.get("nbgrader", {}).get("grade") and c.metadata["nbgrader"].get("solution")
    }


def _annotate(cell: Any, reason: str) -> None:
    if any(o.get("output_type") == "error" for o in cell.get("outputs", [])):
        return  # the cell's own error already says it
    cell.outputs.append(nbformat.v4.new_output(
        "error", ename="NotPassed", evalue=reason, traceback=[f"NotPassed: {reason}"]))


def _sanitize(cell: Any) -> None:
    """Keep only output data that nbconvert can render (text, or JSON for JSON types)."""
    for out in cell.get("outputs", []):
        data = out.get("data")
        if isinstance(data, dict):
            out["data"] = {k: v for k, v in data.items()
                           if isinstance(k, str) and (isinstance(v, str) or k.endswith("json"))}


def _note(nb: nbformat.NotebookNode, text: str) -> None:
    nb.cells.insert(0, nbformat.v4.new_markdown_cell(f"**Grader's note:** {text}",
                                                     metadata={"autograder_note": True}))


def _score(nb: nbformat.NotebookNode, run: RunResult | None, refs: dict, timeout: int,
           reason: str, sources: list[str] = ()) -> dict[str, dict]:
    cells = {}
    for index, cell in _grade_cells(nb):
        nbg = cell.metadata["nbgrader"]
        grade_id, points = nbg["grade_id"], float(nbg.get("points", 0))
        if run is None:
            why = reason
        elif run.stopped and run.stopped_at is not None and index >= run.stopped_at:
            why = (f"{run.stopped} (in cell {run.stopped_at + 1})" if index == run.stopped_at
                   else f"not run: {run.stopped} in cell {run.stopped_at + 1}")
        elif run.stopped and run.stopped_at is None:
            why = f"not run: {run.stopped}"
        elif index in run.timed_out:
            why = f"timed out after {timeout} s"
        else:
            verdict = decide(cell, refs.get(grade_id, {}))
            why = verdict.reason
            found = violations(cell.source, sources) if not why else []
            if found:  # the kernel's own check can be patched away; this one cannot
                why = f"not allowed here: {'; '.join(found)} (the grader read your code)"
        cells[grade_id] = {"points": 0.0 if why else points, "max_points": points,
                           "reason": why}
        strip(cell)
        if why and run is not None:
            _annotate(cell, why)
    return cells


def grade_notebook(template_path: Path, source_path: Path, submitted: Path,
                   refs: dict) -> dict[str, Any]:
    """Grade one notebook of one submission; returns plain data for the writer."""
    template = nbformat.read(template_path, as_version=4)
    source = nbformat.read(source_path, as_version=4)
    timeout = _STATE["settings"]["timeout"]
    try:
        answers = read_answers(submitted, template)
    except SubmissionError as exc:
        nb = merge(template, source, Answers())
        cells = _score(nb, None, refs, timeout, str(exc))
        _note(nb, f"{exc}. Every test scores 0.")
        return {"cells": cells, "written": _written(nb, template), "notebook": nb,
                "reason": str(exc), "notes": [],
                "kernel_seconds": 0.0, "cells_seconds": 0.0, "peak_mb": 0.0, "truncated": {}}
    nb = merge(template, source, answers)
    run = _run(nb)
    added = [text for cells in answers.added.values() for kind, text in cells if kind == "code"]
    code_ids = {c.metadata.get("nbgrader", {}).get("grade_id") for c in template.cells
                if c.cell_type == "code"}  # written answers are prose, not the student's code
    sources = [*(text for g, text in answers.answers.items() if g in code_ids), *added]
    cells = _score(nb, run, refs, timeout, "", sources)
    reason = ""
    if run.stopped:
        where = f" in cell {run.stopped_at + 1}" if run.stopped_at is not None else ""
        reason = f"{run.stopped}{where}"
        _note(nb, f"{reason}; the tests after it were not run and score 0.")
    for cell in nb.cells:  # observations forged in other cells, odd output data: gone
        strip(cell)
        _sanitize(cell)
    for index, dropped in run.truncated.items():
        nb_cell = nb.cells[index + (1 if reason else 0)]
        nb_cell.outputs.append(nbformat.v4.new_output(
            "stream", name="stderr",
            text=f"\n[grader: output cut here; {dropped:,} more bytes were not kept]\n"))
    if run.timed_out and not reason:
        reason = f"{len(run.timed_out)} cell(s) timed out after {timeout} s"
    return {"cells": cells, "written": _written(nb, template), "notebook": nb,
            "reason": reason, "notes": answers.notes,
            "kernel_seconds": run.kernel_seconds, "cells_seconds": run.cells_seconds,
            "peak_mb": run.peak_mb, "truncated": run.truncated,
            "leftover_processes": run.leftover_processes}


def grade_submission(job: dict[str, Any]) -> dict[str, Any]:
    """Grade every notebook of one student's submission (a pool task)."""
    start = time.perf_counter()
    out: dict[str, Any] = {"student": job["student"], "notebooks": {}, "error": ""}
    try:
        for name, paths in job["notebooks"].items():
            result = grade_notebook(Path(paths["template"]), Path(paths["source"]),
                                    Path(job["submitted"]) / name, job["references"][name])
            # last: what any page shows of it runs nothing the student wrote (sanitize.py)
            result["not_shown"] = make_inert(result["notebook"])
            out["notebooks"][name] = result
    except Exception as exc:  # a grader bug must not stop the batch
        out["error"] = f"{type(exc).__name__}: {exc}"
    out["seconds"] = time.perf_counter() - start
    out["worker_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out["slot"] = _STATE["sandbox"].slot
    return out


def run_trusted(template_path: str, source_path: str) -> dict[str, Any]:
    """Run the instructor's solution the same way; its observations are the references."""
    from autograder.merge import solution_answers
    from autograder.observations import references_from

    template = nbformat.read(template_path, as_version=4)
    source = nbformat.read(source_path, as_version=4)
    nb = merge(template, source, solution_answers(source))
    run = _run(nb)
    refs, problems = {}, []
    if run.stopped:
        problems.append(f"the solution's run stopped: {run.stopped}")
    for _index, cell in _grade_cells(nb):
        grade_id = cell.metadata["nbgrader"]["grade_id"]
        try:
            refs[grade_id] = references_from(cell)
        except ValueError as exc:
            problems.append(f"{grade_id}: {exc}")
            continue
        broken = violations(cell.source, [c.source for c in source.cells
                                          if c.metadata.get("nbgrader", {}).get("solution")])
        if broken:
            problems.append(f"{grade_id}: the solution breaks its own rule ({'; '.join(broken)})")
        errors = [o for o in cell.outputs if o.get("output_type") == "error"]
        if errors:
            problems.append(f"{grade_id}: the solution fails its own test "
                            f"({errors[0].get('ename')}: {errors[0].get('evalue')})")
        elif not refs[grade_id]:
            problems.append(f"{grade_id}: the test reports nothing to the grader "
                            "(call cnnkit.observe.observe on what it checks)")
    return {"references": refs, "problems": problems, "kernel_seconds": run.kernel_seconds}
