"""A grading batch's settings, its worker pool and its reference observations.

The references are the observations of the instructor's solution, run once per batch in
a sandbox exactly like a submission, and cached under ``<root>/.autograder/`` keyed by a
hash of the source and released notebooks; students' sandboxes never see them.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import multiprocessing
import os
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autograder.course import Course, CourseError
from autograder.sandbox import Limits, describe_device
from autograder.worker import init_worker, run_trusted

__all__ = ["Plan"]

CACHE = ".autograder"
REFERENCE_VERSION = "1"  # bump when the observation format changes


@dataclass
class Plan:
    course: Course
    assignment: str
    workers: int
    unsafe: bool
    limits: Limits
    settings: dict[str, Any]
    notebooks: dict[str, dict[str, str]]  # name -> {"template": release, "source": source}
    info: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def make(cls, course: Course, assignment: str, *, workers: int | None, unsafe: bool,
             timeout: int | None, limits: Limits | None, sandbox: str) -> Plan:
        workers = workers or os.cpu_count() or 1
        if workers < 1:
            raise CourseError(f"--workers must be at least 1, not {workers}")
        execute = course.config.get("Execute", {})
        settings = {
            "timeout": int(timeout or execute.get("timeout", 300)),
            "startup_timeout": int(execute.get("startup_timeout", 120)),
            "extra_arguments": list(execute.get("extra_arguments", [])),
            "deadline_s": 3600,
            "max_output_bytes": 64 * 2**10,
            # the cores are shared between the workers' kernels (no oversubscription)
            "threads": max(1, (os.cpu_count() or 1) // workers),
        }
        notebooks = {}
        for released in course.released_notebooks(assignment):
            source = course.folder("source") / assignment / released.name
            if not source.is_file():
                raise CourseError(f"{released.name} is in release/ but not in source/; rebuild")
            notebooks[released.name] = {"template": str(released), "source": str(source)}
        info = {"device": describe_device(), "sandbox": sandbox, "workers": workers,
                "threads_per_kernel": settings["threads"], "timeout_s": settings["timeout"]}
        return cls(course, assignment, workers, unsafe, limits or Limits(), settings,
                   notebooks, info)

    @contextlib.contextmanager
    def pool(self) -> Iterator[ProcessPoolExecutor]:
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(self.workers, mp_context=context, initializer=init_worker,
                                 initargs=(self.limits, self.unsafe, self.settings)) as pool:
            yield pool

    def _cache_file(self, name: str, paths: dict[str, str]) -> Path:
        digest = hashlib.sha256(REFERENCE_VERSION.encode())
        for key in ("template", "source"):
            digest.update(Path(paths[key]).read_bytes())
        folder = self.course.root / CACHE / "references" / self.assignment
        return folder / f"{Path(name).stem}-{digest.hexdigest()[:16]}.json"

    def references(self, pool: ProcessPoolExecutor) -> dict[str, dict]:
        """Reference observations per notebook; runs the solution where none are cached."""
        refs, futures = {}, {}
        for name, paths in self.notebooks.items():
            cache = self._cache_file(name, paths)
            if cache.is_file():
                refs[name] = json.loads(cache.read_text())
            else:
                futures[name] = (cache, pool.submit(run_trusted, paths["template"],
                                                     paths["source"]))
        for name, (cache, future) in futures.items():
            result = future.result()
            if result["problems"]:
                raise CourseError(
                    f"cannot grade {self.assignment}: the instructor's solution in {name} "
                    "does not give the references: " + "; ".join(result["problems"])
                )
            cache.parent.mkdir(parents=True, exist_ok=True)
            tmp = cache.with_suffix(".tmp")
            tmp.write_text(json.dumps(result["references"]))
            tmp.replace(cache)
            refs[name] = result["references"]
        return refs

    def job(self, student: str, references: dict[str, dict]) -> dict[str, Any]:
        submitted = self.course.folder("submitted") / student / self.assignment
        return {"student": student, "submitted": str(submitted), "notebooks": self.notebooks,
                "references": references}
