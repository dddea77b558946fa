"""Section ``grading``: the autograder's throughput against plain ``nbgrader autograde``.

Everything goes through the command lines, as an instructor runs them, in scratch copies
of the course (``Course.copy_to``), so the real gradebook is never touched:

1. one scratch course gets the assignments built (``python -m autograder build``) and
   20 submissions each, made from the example students' answers
   (``autograder/examples/``; students ``s01``..``s20`` cycle through alice, bob, carol,
   dan); a second, independent copy of it (its own gradebook) is for nbgrader, with
   nbgrader's default autograde steps (``use_plain_nbgrader``: the course's config sends
   ``nbgrader autograde`` through our grader);
2. per assignment, ``python -m autograder --root OURS grade A`` (default ``--workers``)
   and ``nbgrader autograde A`` (run in the other copy) are timed in alternation, the
   side that goes first swapping from one assignment to the next;
3. meanwhile a thread samples the resident memory of each command's process tree.

Reported: the wall-time ratio nbgrader / ours per assignment (target >= 1.8 on 2
cores), the grader's overhead per submission (``seconds - cells_seconds`` from the
``grading.json`` it writes beside each graded submission; ``null`` when it writes none)
and the peak memory per worker.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import nbformat
import psutil
from tqdm.auto import tqdm

from bench.stats import check, ratio_summary, summarize

__all__ = ["RATIO_TARGET", "make_course", "grade_ours", "grade_nbgrader", "run",
           "use_plain_nbgrader"]

REPO = Path(__file__).resolve().parent.parent
RATIO_TARGET = 1.8
RECORD = "grading.json"


class TreeMemory(threading.Thread):
    """Samples the RSS of a process and its descendants until :meth:`stop`.

    ``peak_tree_mb`` is the largest total; ``peak_worker_mb`` the largest total of one
    direct child with its own descendants (a grading worker and the kernel it runs).
    """

    def __init__(self, pid: int, interval: float = 0.1) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.peak_tree_mb = 0.0
        self.peak_worker_mb = 0.0
        self.workers_seen: set[int] = set()
        self._done = threading.Event()

    @staticmethod
    def _rss_mb(procs: list[psutil.Process]) -> float:
        total = 0
        for p in procs:
            try:
                total += p.memory_info().rss
            except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                pass
        return total / 2**20

    def sample(self) -> None:
        try:
            root = psutil.Process(self.pid)
            children = root.children()
            everything = [root, *root.children(recursive=True)]
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            return
        self.peak_tree_mb = max(self.peak_tree_mb, self._rss_mb(everything))
        for child in children:
            try:
                if "resource_tracker" in " ".join(child.cmdline()):
                    continue
                subtree = [child, *child.children(recursive=True)]
            except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                continue
            self.workers_seen.add(child.pid)
            self.peak_worker_mb = max(self.peak_worker_mb, self._rss_mb(subtree))

    def run(self) -> None:
        while not self._done.wait(self.interval):
            self.sample()

    def stop(self) -> None:
        self._done.set()
        self.join()


def _env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """This environment with the venv's scripts (nbgrader, alembic) first on PATH."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env.update(extra or {})
    return env


def _timed(cmd: list[str], cwd: Path, env: dict[str, str]) -> dict[str, Any]:
    """Run ``cmd``, sampling its memory; returns wall seconds, exit status, peaks, output."""
    with tempfile.TemporaryFile("w+") as log:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT,
                                text=True)  # fmt: skip
        memory = TreeMemory(proc.pid)
        memory.start()
        rc = proc.wait()
        seconds = time.perf_counter() - start
        memory.stop()
        log.seek(0)
        output = log.read()
    return {"seconds": seconds, "rc": rc, "peak_tree_mb": memory.peak_tree_mb,
            "peak_worker_mb": memory.peak_worker_mb, "processes_seen": len(memory.workers_seen),
            "output_tail": output[-1500:]}  # fmt: skip


def _cli(root: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "autograder", "--root", str(root), *args]


def make_course(dest: Path, assignments: list[str], students: int) -> list[str]:
    """A built scratch course at ``dest`` with ``students`` submissions per assignment."""
    from autograder.course import Course
    from autograder.submissions import EXAMPLES, example_students, make_submission, parse_answers

    if dest.exists():
        shutil.rmtree(dest)
    Course(REPO).copy_to(dest, assignments=assignments)
    ids = [f"s{i:02d}" for i in range(1, students + 1)]
    for assignment in assignments:
        subprocess.run(_cli(dest, "build", assignment), check=True, env=_env(),
                       stdout=subprocess.DEVNULL)  # fmt: skip
        released = sorted((dest / "release" / assignment).glob("*.ipynb"))
        examples = example_students(assignment)
        for i, student in enumerate(ids):
            example = examples[i % len(examples)]
            answers = parse_answers((EXAMPLES / assignment / f"{example}.py").read_text())
            folder = dest / "submitted" / student / assignment
            folder.mkdir(parents=True, exist_ok=True)
            for notebook in released:
                nbformat.write(make_submission(notebook, answers), folder / notebook.name)
    return ids


def _records(root: Path, assignment: str, students: list[str]) -> list[dict[str, Any]]:
    records = []
    for student in students:
        path = root / "autograded" / student / assignment / RECORD
        try:
            records.append(json.loads(path.read_text()))
        except (OSError, ValueError):
            pass
    return records


def grade_ours(root: Path, assignment: str, students: list[str], *, force: bool = False,
               env: dict[str, str] | None = None) -> dict[str, Any]:
    """``python -m autograder grade`` on ``root``, timed; adds what ``grading.json`` says."""
    cmd = _cli(root, "grade", assignment, "--no-progress", *(["--force"] if force else []))
    result = _timed(cmd, REPO, _env(env))
    records = _records(root, assignment, students)
    result["graded"] = len(records)
    if result["rc"] not in (0, 1):  # 2: a usage error or a course the grader refuses
        errors = [line for line in result["output_tail"].splitlines() if "error" in line.lower()]
        result["error"] = (errors or [f"exit status {result['rc']}"])[-1][:500]
    # The notebook's own run is its cells' execution time (``cells_seconds``); everything
    # else a worker spends on a submission is the grader's: reading and merging the
    # notebook, starting the sandbox and its kernel, deciding the tests, cleaning up.
    own = "cells_seconds" if all("cells_seconds" in r for r in records) else "kernel_seconds"
    overhead = [r["seconds"] - r[own] for r in records
                if isinstance(r.get("seconds"), int | float)
                and isinstance(r.get(own), int | float)]  # fmt: skip
    result["overhead_s"] = summarize(overhead) if overhead else None
    result["kernel_s"] = (summarize([r[own] for r in records]) if overhead else None)
    if overhead and result.get("seconds"):
        # The batch's view: wall time x workers per submission, less the cells' own time
        # (adds the pool's start, the reference run and the gradebook writes).
        per = result["seconds"] * (records[0].get("workers") or 1) / len(records)
        result["batch_overhead_s"] = per - sum(r[own] for r in records) / len(records)
    if not overhead:
        result["note"] = f"no {RECORD} with 'seconds' and '{own}' was written"
    workers = {r.get("workers") for r in records} - {None}
    result["workers"] = workers.pop() if len(workers) == 1 else None
    reported = [r.get("worker_rss_mb") for r in records if r.get("worker_rss_mb") is not None]
    result["reported_worker_rss_mb"] = max(reported) if reported else None
    return result


# The course's nbgrader_config.py sends `nbgrader autograde` through our sandboxed grader
# (autograder/nbgrader_bridge.py); the baseline is nbgrader's own pipeline, so its copy of
# the course gets nbgrader's default Autograde steps back.
PLAIN_NBGRADER = """
# bench/grading.py: this copy times plain nbgrader, not the course's sandboxed grader.
from nbgrader.converters import Autograde as _Autograde

_defaults = _Autograde.class_traits()
c.Autograde.sanitize_preprocessors = _defaults["sanitize_preprocessors"].default()
c.Autograde.autograde_preprocessors = _defaults["autograde_preprocessors"].default()
"""


def use_plain_nbgrader(root: Path) -> None:
    """Give the course copy at ``root`` nbgrader's default autograde pipeline (the baseline)."""
    with (root / "nbgrader_config.py").open("a") as config:
        config.write(PLAIN_NBGRADER)


def grade_nbgrader(root: Path, assignment: str, students: list[str]) -> dict[str, Any]:
    """Plain ``nbgrader autograde`` in ``root`` (its own ``nbgrader_config.py``), timed."""
    nbgrader = str(Path(sys.executable).parent / "nbgrader")
    result = _timed([nbgrader, "autograde", assignment], root, _env())
    graded = [s for s in students if any((root / "autograded" / s / assignment).glob("*.ipynb"))]
    result["graded"] = len(graded)
    if result["rc"] != 0:
        result["error"] = f"exit status {result['rc']}"
    return result


def run(*, quick: bool = False, students: int | None = None,
        assignments: list[str] | None = None) -> dict[str, Any]:
    """Grade every assignment both ways; ``quick``: 2 submissions of ps4_channels."""
    from autograder.course import Course

    students = students or (2 if quick else 20)
    assignments = assignments or (["ps4_channels"] if quick else Course(REPO).assignments())
    scratch = Path(tempfile.mkdtemp(prefix="bench-grading-"))
    ours_root, nbgrader_root = scratch / "ours", scratch / "nbgrader"
    per_assignment: dict[str, Any] = {}
    try:
        ids = make_course(ours_root, assignments, students)
        shutil.copytree(ours_root, nbgrader_root)  # the same release and submissions
        use_plain_nbgrader(nbgrader_root)
        for i, assignment in enumerate(tqdm(assignments, desc="grading", leave=False)):
            sides = [("ours", lambda a=assignment: grade_ours(ours_root, a, ids)),
                     ("nbgrader", lambda a=assignment: grade_nbgrader(nbgrader_root, a, ids))]
            measured = dict((name, f()) for name, f in (sides if i % 2 == 0 else sides[::-1]))
            ours, nbg = measured["ours"], measured["nbgrader"]
            ok = ours["rc"] in (0, 1) and nbg["rc"] == 0 and ours["graded"] == len(ids)
            per_assignment[assignment] = {
                "submissions": len(ids), "first": "ours" if i % 2 == 0 else "nbgrader",
                "ours": ours, "nbgrader": nbg,
                "ratio": nbg["seconds"] / ours["seconds"] if ok else None,
            }  # fmt: skip
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return _summary(per_assignment, students)


def _summary(per_assignment: dict[str, Any], students: int) -> dict[str, Any]:
    ok = {a: r for a, r in per_assignment.items() if r["ratio"] is not None}
    ratio = None
    if ok:  # one pair per assignment
        ratio = ratio_summary([r["nbgrader"]["seconds"] for r in ok.values()],
                              [r["ours"]["seconds"] for r in ok.values()])
    overheads = [r["ours"]["overhead_s"]["median"] for r in ok.values()
                 if r["ours"]["overhead_s"] is not None]  # fmt: skip
    overhead = max(overheads) if overheads else None
    worker_mb = max((r["ours"]["peak_worker_mb"] for r in per_assignment.values()), default=None)
    nbgrader_mb = max((r["nbgrader"]["peak_tree_mb"] for r in per_assignment.values()),
                      default=None)  # fmt: skip
    failed = {a: r["ours"].get("error") or r["nbgrader"].get("error") or "not all graded"
              for a, r in per_assignment.items() if a not in ok}
    median = ratio["median"] if ratio else None
    return {
        "students_per_assignment": students,
        "cpu_count": os.cpu_count(),
        "assignments": per_assignment,
        "ratio_nbgrader_over_ours": ratio,
        "failed": failed,
        "summary": [
            check("nbgrader / ours wall time", median, f">= {RATIO_TARGET}",
                  None if median is None else median >= RATIO_TARGET, ratio),
            check("grader overhead per submission (s, worst assignment's median)", overhead,
                  "< 1.5", None if overhead is None else overhead < 1.5),
            check("peak memory per worker (MB, worker + kernel)", worker_mb,
                  f"(nbgrader's whole tree: {nbgrader_mb or 0:.0f} MB)", None),
        ],
    }  # fmt: skip
