"""A grading batch: its settings, its bundle, its jobs, and the local worker pool.

The references are the observations of the instructor's solution, run once per batch in
a sandbox exactly like a submission (on a worker, local or Dask), and cached under
``<root>/.autograder/`` keyed by a hash of the source and released notebooks; students'
sandboxes never see them. With them, the release and the source's test cells, they make
the assignment's :class:`~autograder.tasks.Bundle`; each student is a
:class:`~autograder.tasks.Job` carrying the submitted notebooks' bytes.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import hashlib
import json
import multiprocessing
import os
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

import nbformat

from autograder.course import Course, CourseError
from autograder.limits import Limits, limits_from_config
from autograder.tasks import (
    Bundle,
    Job,
    NotebookSpec,
    Outcome,
    ReferenceRun,
    WorkerConfig,
    strip_solutions,
)
from autograder.worker import grade_local, references_local, start_local

__all__ = ["LocalPool", "Plan", "Pool"]

CACHE = ".autograder"
REFERENCE_VERSION = "1"  # bump when the observation format changes
MAX_NOTEBOOK_BYTES = 64 * 2**20  # a submitted notebook larger than this is not sent


class Pool(Protocol):
    """Where the batch's tasks run: :class:`LocalPool` or ``cluster.DaskPool``."""

    description: str

    def references(self, notebooks: dict[str, tuple[str, str]]) -> dict[str, ReferenceRun]:
        """The solution's run per notebook, from ``{name: (release, source)}`` texts."""
        ...

    def run(self, jobs: list[Job], bundle: Bundle) -> Iterator[tuple[Job, Outcome]]:
        """Each job's outcome, in the order they finish."""
        ...


@dataclass(frozen=True)
class Plan:
    course: Course
    assignment: str
    config: WorkerConfig
    workers: int
    notebooks: tuple[tuple[str, Path, Path], ...]  # (name, release file, source file)
    info: dict[str, Any] = field(default_factory=dict)  # for grading.json

    @classmethod
    def make(cls, course: Course, assignment: str, *, workers: int | None, unsafe: bool,
             timeout: int | None, limits: Limits | None, sandbox: str) -> Plan:
        workers = workers or os.cpu_count() or 1
        if workers < 1:
            raise CourseError(f"--workers must be at least 1, not {workers}")
        if timeout is not None and timeout < 1:
            raise CourseError(f"--timeout must be at least 1 second, not {timeout}")
        try:
            configured = limits_from_config(course.config)
        except ValueError as exc:
            raise CourseError(f"nbgrader_config.py: {exc}") from None
        limits = limits or configured
        if timeout is not None:
            limits = replace(limits, cell_timeout_s=timeout)
        execute = course.config.get("Execute", {})
        config = WorkerConfig(
            limits=limits, unsafe=unsafe,
            # the cores are shared between the workers' kernels (no oversubscription)
            threads=max(1, (os.cpu_count() or 1) // workers),
            extra_arguments=tuple(execute.get("extra_arguments", [])),
        )
        notebooks = []
        for released in course.released_notebooks(assignment):
            source = course.folder("source") / assignment / released.name
            if not source.is_file():
                raise CourseError(f"{released.name} is in release/ but not in source/; rebuild")
            notebooks.append((released.name, released, source))
        info = {"sandbox": sandbox, "workers": workers, "threads_per_kernel": config.threads,
                "timeout_s": limits.cell_timeout_s}
        return cls(course, assignment, config, workers, tuple(notebooks), info)

    def _cache_file(self, name: str, template: str, source: str) -> Path:
        digest = hashlib.sha256(REFERENCE_VERSION.encode())
        digest.update(template.encode())
        digest.update(source.encode())
        folder = self.course.root / CACHE / "references" / self.assignment
        return folder / f"{Path(name).stem}-{digest.hexdigest()[:16]}.json"

    def bundle(self, pool: Pool) -> Bundle:
        """The assignment's bundle; runs the solution (on ``pool``) where no references
        are cached."""
        texts = {name: (released.read_text(), source.read_text())
                 for name, released, source in self.notebooks}
        refs, missing, caches = {}, {}, {}
        for name, (template, source) in texts.items():
            caches[name] = self._cache_file(name, template, source)
            if caches[name].is_file():
                refs[name] = json.loads(caches[name].read_text())
            else:
                missing[name] = (template, source)
        for name, run in (pool.references(missing) if missing else {}).items():
            if run.problems:
                raise CourseError(
                    f"cannot grade {self.assignment}: the instructor's solution in {name} "
                    "does not give the references: " + "; ".join(run.problems)
                )
            cache = caches[name]
            cache.parent.mkdir(parents=True, exist_ok=True)
            tmp = cache.with_suffix(".tmp")
            tmp.write_text(json.dumps(run.references))
            tmp.replace(cache)
            refs[name] = run.references
        specs = [NotebookSpec(name, template,
                              strip_solutions(nbformat.reads(source, as_version=4)), refs[name])
                 for name, (template, source) in texts.items()]
        return Bundle.make(self.assignment, specs)

    def job(self, student: str, bundle: Bundle) -> Job:
        """One student's submission, read from ``submitted/`` (as bytes; never followed
        through a link)."""
        folder = self.course.folder("submitted") / student / self.assignment
        files = []
        for spec in bundle.notebooks:
            path = folder / spec.name
            raw = None
            if path.is_file() and not path.is_symlink() and not folder.is_symlink():
                with path.open("rb") as handle:
                    raw = handle.read(MAX_NOTEBOOK_BYTES + 1)
                if len(raw) > MAX_NOTEBOOK_BYTES:
                    raw = b"{}"  # not a notebook: scored 0 with that reason
            files.append((spec.name, raw))
        return Job(student, self.assignment, bundle.digest, tuple(files))


class LocalPool:
    """Worker processes on this machine (``--workers N``), one sandbox slot each."""

    def __init__(self, config: WorkerConfig, workers: int):
        context = multiprocessing.get_context("spawn")
        self.executor = ProcessPoolExecutor(workers, mp_context=context,
                                            initializer=start_local, initargs=(config,))
        self.config = config
        self.description = f"{workers} local worker{'s' * (workers > 1)}"

    def references(self, notebooks: dict[str, tuple[str, str]]) -> dict[str, ReferenceRun]:
        futures = {name: self.executor.submit(references_local, self.config, *texts)
                   for name, texts in notebooks.items()}
        return {name: future.result() for name, future in futures.items()}

    def run(self, jobs: list[Job], bundle: Bundle) -> Iterator[tuple[Job, Outcome]]:
        futures = {self.executor.submit(grade_local, self.config, job, bundle): job
                   for job in jobs}
        for future in concurrent.futures.as_completed(futures):
            job = futures[future]
            try:
                outcome = future.result()
            except Exception as exc:  # noqa: BLE001 - the worker process itself died
                outcome = Outcome(job.student, error=f"grader worker died ({exc})")
            yield job, outcome

    @classmethod
    @contextlib.contextmanager
    def open(cls, config: WorkerConfig, workers: int) -> Iterator[LocalPool]:
        pool = cls(config, workers)
        with pool.executor:
            yield pool
