"""Section ``cluster``: grading on Dask (``grade --scheduler``) against the local pool.

A real ``dask scheduler`` and ``dask worker --nthreads 1 --resources SANDBOX=1`` processes
on localhost, a scratch course (``bench.grading.make_course``), and the command line as an
instructor runs it:

1. **Throughput.** ``grade A --force --workers W`` (the local pool) and ``grade A --force
   --scheduler ...`` on a cluster of W workers, in alternation (the side that goes first
   swapping), for W = 1 and 2; the figure is the median per-pair ratio of wall times,
   Dask / local.
2. **Shipping and caching.** What a task carries and what a worker receives once: the
   bundle's and a job's pickled size, the time to build the bundle (references cached),
   to pickle and unpickle it, and to check its digest on a worker (done once per worker
   and bundle); and the whole batch's extra seconds per submission on Dask
   ((Dask wall - local wall) / submissions).
3. **Projection.** Per assignment, the seconds per submission of the local pool with
   ``--workers 2`` on this machine; from them, the hours to grade 10,000 students x the
   six assignments on N such machines, and on N 32-core machines (assuming the work is
   CPU-bound and scales with cores, plus the Dask overhead measured in 2.).
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from bench.grading import _cli, _env, make_course
from bench.stats import check, ratio_summary, summarize

__all__ = ["LocalCluster", "run"]

STUDENTS_PROJECTED = 10_000
RATIO_TARGET = 1.15  # Dask on localhost may cost at most 15 % more than the local pool


class LocalCluster:
    """``dask scheduler`` and ``workers`` grading workers, real processes on localhost."""

    def __init__(self, folder: Path, workers: int):
        self.folder, self.workers = folder, workers
        self.procs: list[subprocess.Popen] = []
        self.address = ""

    def _start(self, name: str, args: list[str]) -> None:
        log = (self.folder / f"{name}.log").open("w")
        dask = str(Path(sys.executable).parent / "dask")
        env = _env({"DASK_TEMPORARY_DIRECTORY": str(self.folder)})
        self.procs.append(subprocess.Popen([dask, *args], cwd=self.folder, stdout=log,
                                           stderr=log, start_new_session=True, env=env))

    def __enter__(self) -> LocalCluster:
        from distributed import Client

        info = self.folder / "scheduler.json"
        self._start("scheduler", ["scheduler", "--host", "127.0.0.1", "--port", "0",
                                  "--no-dashboard", "--scheduler-file", str(info)])
        deadline = time.monotonic() + 120
        while not info.is_file() or not info.read_text().strip():
            if time.monotonic() > deadline:
                raise RuntimeError((self.folder / "scheduler.log").read_text()[-2000:])
            time.sleep(0.2)
        time.sleep(0.2)
        self.address = json.loads(info.read_text())["address"]
        for i in range(self.workers):
            self._start(f"w{i}", ["worker", self.address, "--name", f"w{i}", "--nthreads", "1",
                                  "--resources", "SANDBOX=1", "--no-dashboard"])
        with Client(self.address, timeout=60, set_as_default=False) as client:
            client.wait_for_workers(self.workers, timeout=180)
        return self

    def __exit__(self, *exc: object) -> None:
        for proc in self.procs:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def _grade(root: Path, assignment: str, *extra: str) -> float:
    start = time.perf_counter()
    proc = subprocess.run(_cli(root, "grade", assignment, "--force", "--no-progress", *extra),
                          env=_env(), capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"grade {' '.join(extra)} failed:\n{proc.stdout[-2000:]}"
                           f"\n{proc.stderr[-2000:]}")
    return seconds


def _shipping(root: Path, assignment: str, ids: list[str]) -> dict[str, Any]:
    from autograder.course import Course
    from autograder.plan import Plan
    from autograder.tasks import Bundle

    course = Course(root)
    plan = Plan.make(course, assignment, workers=1, unsafe=False, timeout=None, limits=None,
                     sandbox="")

    class Cached:  # the references are cached by the runs before: no pool is needed
        description = ""

        @staticmethod
        def references(notebooks: dict) -> dict:
            raise AssertionError(f"references not cached for {sorted(notebooks)}")

    times: dict[str, list[float]] = {"build": [], "pickle": [], "unpickle": [], "verify": []}
    for _ in range(5):
        start = time.perf_counter()
        bundle = plan.bundle(Cached())
        times["build"].append(time.perf_counter() - start)
        start = time.perf_counter()
        data = pickle.dumps(bundle)
        times["pickle"].append(time.perf_counter() - start)
        start = time.perf_counter()
        again: Bundle = pickle.loads(data)
        times["unpickle"].append(time.perf_counter() - start)
        start = time.perf_counter()
        again.verified()
        times["verify"].append(time.perf_counter() - start)
    jobs = [len(pickle.dumps(plan.job(s, bundle))) for s in ids]
    return {"bundle_bytes": len(data), "job_bytes": summarize(jobs),
            **{f"{k}_s": summarize(v) for k, v in times.items()}}


def run(*, quick: bool = False) -> dict[str, Any]:
    """Dask against the local pool, shipping costs, and the projection."""
    from autograder.course import Course

    students = 2 if quick else 8
    pairs = 1 if quick else 3
    scratch = Path(tempfile.mkdtemp(prefix="bench-cluster-"))
    light = "ps4_channels"
    try:
        ids = make_course(scratch / "course", [light], students)
        root = scratch / "course"
        _grade(root, light, "--workers", "1")  # the references, cached for every run after
        throughput: dict[str, Any] = {}
        for workers in (1, 2):
            folder = scratch / f"cluster{workers}"
            folder.mkdir()
            local, dask = [], []
            with LocalCluster(folder, workers) as cluster:
                for i in tqdm(range(pairs + 1), desc=f"cluster x{workers}", leave=False):
                    sides = [(local, ("--workers", str(workers))),
                             (dask, ("--scheduler", cluster.address))]
                    for out, extra in sides if i % 2 == 0 else sides[::-1]:
                        out.append(_grade(root, light, *extra))
            local, dask = local[1:] or local, dask[1:] or dask  # the first pair: warm-up
            throughput[f"workers_{workers}"] = {
                "local_s": summarize(local), "dask_s": summarize(dask),
                "dask_over_local": ratio_summary(dask, local),
                "extra_s_per_submission": (sorted(dask)[len(dask) // 2]
                                           - sorted(local)[len(local) // 2]) / students,
            }
        shipping = _shipping(root, light, ids)
        projection = _projection(scratch, quick, throughput["workers_2"])
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return {"students": students, "assignment": light, "throughput": throughput,
            "shipping": shipping, "projection": projection,
            "summary": _summary(throughput, shipping, projection),
            "assignments": Course(Path(__file__).resolve().parent.parent).assignments()}


def _projection(scratch: Path, quick: bool, two: dict[str, Any]) -> dict[str, Any]:
    """Seconds per submission per assignment (local pool, 2 workers), and the hours for
    10,000 students x every assignment on N machines."""
    from autograder.course import Course

    assignments = (["ps4_channels"] if quick else
                   Course(Path(__file__).resolve().parent.parent).assignments())
    students = 2 if quick else 4
    root = scratch / "projection"
    ids = make_course(root, assignments, students)
    per_submission = {}
    for assignment in tqdm(assignments, desc="projection", leave=False):
        _grade(root, assignment, "--workers", "2")  # references (cached), then timed:
        per_submission[assignment] = _grade(root, assignment, "--workers", "2") / len(ids)
    cores_here = os.cpu_count() or 1
    extra = max(two["extra_s_per_submission"], 0.0) / 2  # per worker-slot second
    seconds_one_machine = sum((s + extra) * STUDENTS_PROJECTED
                              for s in per_submission.values())
    if quick:  # one assignment measured: scale to six of the same kind
        seconds_one_machine *= 6 / len(per_submission)
    hours = {}
    for machines in (1, 10, 50, 100):
        hours[f"{machines}x{cores_here}cores"] = seconds_one_machine / machines / 3600
        hours[f"{machines}x32cores"] = seconds_one_machine * cores_here / 32 / machines / 3600
    return {"seconds_per_submission_2_workers": per_submission, "cores_here": cores_here,
            "students": STUDENTS_PROJECTED, "hours": hours}


def _summary(throughput: dict[str, Any], shipping: dict[str, Any],
             projection: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for key, row in throughput.items():
        ratio = row["dask_over_local"]
        rows.append(check(f"Dask / local pool wall time, {key.replace('_', ' ')}",
                          ratio["median"], f"<= {RATIO_TARGET}",
                          ratio["median"] <= RATIO_TARGET, ratio))
    rows.append(check("bundle, sent once to each worker (KB)", shipping["bundle_bytes"] / 1024,
                      "", None))
    rows.append(check("bundle digest check, once per worker (ms)",
                      1000 * shipping["verify_s"]["median"], "", None))
    rows.append(check("10,000 students x 6 assignments, 10 machines of 32 cores (h)",
                      projection["hours"]["10x32cores"], "", None))
    return rows
