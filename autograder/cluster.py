"""Grading on a Dask cluster: ``python -m autograder grade A --scheduler tcp://HOST:PORT``.

The grading command stays the single writer of the gradebook; the cluster only runs tasks:

- **Bytes, not a shared folder.** A task carries one :class:`~autograder.tasks.Job` (the
  student's notebooks as bytes and the digest of the assignment's bundle) and depends on
  the bundle itself, a task of its own keyed ``cnn-course-bundle-<digest>`` whose result
  Dask sends to each worker once; the worker checks it against its digest once and keeps
  it (:class:`GraderPlugin`). No worker reads the course folder. Outcomes come back as JSON.
- **Same sandbox everywhere.** Grading workers are started with ``--resources SANDBOX=1``
  and every grading task asks for that resource, so a worker process runs one submission
  at a time and a worker without it (a shared cluster's other workers) never gets one.
  :class:`GraderPlugin` makes a sandbox on every worker when it joins, before it takes
  any task (``sandbox.check``); a worker that cannot, or declares more than one, gives its
  resource up, takes no grading task, and says why (``grade`` prints it). The scheduler
  adds resources only when a worker joins, which is why the workers declare it and the
  plugin can only take it away.
- **Faults.** A worker that dies mid-task: the scheduler runs the task again elsewhere,
  and the grading command records each student once, when its result arrives. A task
  that killed more workers than the scheduler's ``distributed.scheduler.allowed-failures``
  (``KilledWorker``): that submission scores 0 with the reason, the batch goes on.
- **GPU routing.** An assignment named in ``c.ClusterGrading.gpu_assignments`` asks for a
  ``GPU`` resource where a worker offers one (``dask worker --resources GPU=1``); without
  such a worker it is graded on the CPU. Each outcome records the device it ran on.
"""

from __future__ import annotations

import asyncio
import sys
import threading
import uuid
from collections.abc import Iterator
from typing import Any

from distributed import WorkerPlugin
from traitlets import Float, List, Unicode
from traitlets.config import Configurable

from autograder.course import CourseError
from autograder.sandbox import SandboxUnavailable, acquire_slot, become_subreaper, check
from autograder.tasks import Bundle, Job, Outcome, ReferenceRun, WorkerConfig
from autograder.worker import Grader, zero_outcome

__all__ = ["ClusterGrading", "DaskPool", "GraderPlugin", "grade_on_worker"]

PLUGIN = "cnn-course-grader"
SANDBOX = "SANDBOX"  # the resource of a grading worker (dask worker --resources SANDBOX=1)
GPU = "GPU"


class ClusterGrading(Configurable):
    """Grading on a Dask cluster (``c.ClusterGrading`` in ``nbgrader_config.py``)."""

    scheduler = Unicode(
        "", help="Address of the Dask scheduler to grade on (tcp://HOST:8786); grade "
        "--scheduler overrides it. Empty: grade on this machine."
    ).tag(config=True)
    connect_timeout_s = Float(
        30.0, help="Seconds to wait for the Dask scheduler before giving up."
    ).tag(config=True)
    gpu_assignments = List(
        Unicode(), help="Assignments whose test cells want a GPU: their tasks go to workers "
        "started with --resources GPU=1 (on the CPU where the cluster has none)."
    ).tag(config=True)


class GraderPlugin(WorkerPlugin):
    """Gives each Dask worker a :class:`~autograder.worker.Grader` in its own sandbox slot,
    or the reason it has none."""

    name = PLUGIN
    idempotent = False  # registering again (another batch's limits) replaces it

    def __init__(self, config: WorkerConfig):
        self.config = config
        self.refusal = ""
        self.grader: Grader | None = None
        self.bundles: dict[str, Bundle] = {}
        self.address = self.worker_name = ""

    async def setup(self, worker: Any) -> None:
        self.address = worker.address
        self.worker_name = str(worker.name) if worker.name is not None else worker.address
        declared = worker.state.total_resources.get(SANDBOX, 0)
        if not declared:
            self.refusal = (f"not a grading worker (it was started without --resources "
                            f"{SANDBOX}=1)")
            return
        if declared != 1:
            self.refusal = (f"it declares {SANDBOX}={declared:g}, but a worker process grades "
                            f"one submission at a time: start it with --resources {SANDBOX}=1 "
                            "(and --nworkers N for more processes)")
        else:
            try:
                await asyncio.to_thread(check, self.config.limits)
            except SandboxUnavailable as exc:
                self.refusal = f"no sandbox here: {exc}"
        if self.refusal:  # no grading task may come here
            await worker.set_resources(**{SANDBOX: 0})
            return
        become_subreaper()
        slot, lock = acquire_slot()
        self.grader = Grader(self.config, slot, lock)

    def teardown(self, worker: Any) -> None:
        if self.grader is not None:
            self.grader.lock.close()  # the slot is free for the next plugin

    def ready(self) -> Grader:
        """This worker's grader; a task that reached a worker that refused goes elsewhere
        (it can only have been assigned before the refusal took its resource away)."""
        if self.grader is None or self.refusal:
            from distributed import Reschedule

            raise Reschedule(f"worker {self.address} refuses to grade: {self.refusal}")
        return self.grader

    def bundle(self, bundle: Bundle) -> Bundle:
        """``bundle`` checked against its digest, once per worker."""
        if bundle.digest not in self.bundles:
            self.bundles = {bundle.digest: bundle.verified()}  # one assignment at a time
        return self.bundles[bundle.digest]


def _plugin() -> GraderPlugin:
    from distributed import get_worker

    return get_worker().plugins[PLUGIN]


def _refusal(dask_worker: Any) -> str:
    plugin = dask_worker.plugins.get(PLUGIN)
    return plugin.refusal if plugin is not None else "the grader plugin is not installed"


def grade_on_worker(job: Job, bundle: Bundle) -> str:
    """The Dask task: grade ``job`` in this worker's sandbox; the outcome as JSON."""
    plugin = _plugin()
    grader = plugin.ready()
    return grader.grade(job, plugin.bundle(bundle), worker=plugin.worker_name).to_json()


def references_on_worker(template: str, source: str) -> ReferenceRun:
    """The Dask task that runs the instructor's solution for its references."""
    return _plugin().ready().references(template, source)


def identity(value: Any) -> Any:
    """The bundle's task: its result is the bundle (recomputed if its worker dies)."""
    return value


class DaskPool:
    """A batch's tasks on the Dask scheduler at ``address``."""

    def __init__(self, address: str, config: WorkerConfig, *, wants_gpu: bool,
                 connect_timeout: float = 30):
        from distributed import Client

        try:
            self.client = Client(address, timeout=connect_timeout, set_as_default=False)
        except (OSError, TimeoutError) as exc:
            raise CourseError(f"cannot reach the Dask scheduler at {address} ({exc}); start "
                              "one with `dask scheduler` and workers with `dask worker "
                              f"{address} --nthreads 1 --resources {SANDBOX}=1`") from None
        self.config = config
        self.client.register_plugin(GraderPlugin(config), name=PLUGIN)
        refusals = self.client.run(_refusal, on_error="return")
        self.refused = {a: str(r) for a, r in refusals.items() if r}
        able = [a for a, r in refusals.items() if not r]
        for address_, why in sorted(self.refused.items()):
            print(f"note: Dask worker {address_} takes no grading task: {why}",
                  file=sys.stderr)
        if not able:
            self.client.close()
            reasons = "; ".join(f"{a}: {r}" for a, r in sorted(self.refused.items()))
            raise CourseError(
                f"no Dask worker at {address} can grade ({reasons or 'it has no workers'}); "
                f"start grading workers with `dask worker {address} --nthreads 1 "
                f"--resources {SANDBOX}=1`")
        workers = self.client.scheduler_info(n_workers=-1)["workers"]
        gpus = [a for a in able if workers.get(a, {}).get("resources", {}).get(GPU)]
        self.resources = {SANDBOX: 1, **({GPU: 1} if wants_gpu and gpus else {})}
        self.routing = ("" if not wants_gpu else
                        f"GPU tasks on {len(gpus)} worker(s) with a GPU resource" if gpus else
                        "wants a GPU, but no worker offers one (--resources GPU=1): on the CPU")
        self.description = (f"Dask at {address}: {len(able)} worker(s)"
                            + (f", {self.routing}" if self.routing else ""))
        self._bundles: dict[str, Any] = {}

    def references(self, notebooks: dict[str, tuple[str, str]]) -> dict[str, ReferenceRun]:
        futures = {name: self.client.submit(references_on_worker, *texts, pure=False,
                                            resources=self.resources)
                   for name, texts in notebooks.items()}
        return {name: future.result() for name, future in futures.items()}

    def _bundle_future(self, bundle: Bundle) -> Any:
        if bundle.digest not in self._bundles:
            self._bundles[bundle.digest] = self.client.submit(
                identity, bundle, key=f"cnn-course-bundle-{bundle.digest}", pure=False)
        return self._bundles[bundle.digest]

    def _free_slots(self) -> int:
        """Grading tasks the cluster can start now: its workers with a sandbox."""
        workers = self.client.scheduler_info(n_workers=-1)["workers"].values()
        return sum(int(w.get("resources", {}).get(SANDBOX, 0)) for w in workers)

    def _submit(self, job: Job, bundle: Bundle) -> Any:
        return self.client.submit(grade_on_worker, job, self._bundle_future(bundle),
                                  pure=False, resources=self.resources,
                                  key=f"cnn-course-grade-{job.assignment}-{job.student}-"
                                      f"{uuid.uuid4().hex[:12]}")

    def run(self, jobs: list[Job], bundle: Bundle) -> Iterator[tuple[Job, Outcome]]:
        """Each job's outcome as it arrives. At most one task per sandboxed worker is out at
        a time: the scheduler hands tasks that ask for resources to workers at once, and a
        worker that dies counts against every task it holds, so a poison submission would
        take the tasks queued behind it down with it."""
        arrived = threading.Event()
        waiting, running = list(reversed(jobs)), {}
        while waiting or running:
            room = max(self._free_slots(), 1) - len(running)
            while waiting and room > 0:
                future = self._submit(waiting[-1], bundle)
                future.add_done_callback(lambda _future: arrived.set())
                running[future] = waiting.pop()
                room -= 1
            arrived.wait(2)  # or a second look at the free slots: workers come and go
            arrived.clear()
            for future in [f for f in running if f.done()]:
                job = running.pop(future)
                yield job, self._outcome(future, job, bundle)

    @staticmethod
    def _outcome(future: Any, job: Job, bundle: Bundle) -> Outcome:
        from distributed import KilledWorker

        try:
            return Outcome.from_json(future.result())
        except KilledWorker as exc:
            deaths = exc.allowed_failures + 1
            reason = (f"this submission stopped {deaths} grading workers (each died while "
                      "running it); it was not graded further and scores 0")
            return zero_outcome(job, bundle, reason)
        except Exception as exc:  # noqa: BLE001 - a refusing worker, a lost connection
            return Outcome(job.student, error=f"{type(exc).__name__}: {exc}")

    def close(self) -> None:
        for future in self._bundles.values():
            future.release()
        self.client.close()
