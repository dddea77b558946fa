"""Run one notebook, cell by cell, with its kernel in a sandbox (``autograder/sandbox.py``).

nbclient drives the kernel from the grader's side over Unix sockets. The kernel starts through
jupyter_client's supported seams: the kernel spec (``SandboxKernelSpecManager``) names the
``autograder-sandbox`` provisioner (``SandboxProvisioner``, an entry point in pyproject.toml),
which wraps the kernel's command in the sandbox, and asks for interrupts by message.
What the grader adds:
- a kernel that dies (``os._exit``, a limit) ends the run with the cells before it kept;
- a cell that runs past the per-cell timeout is interrupted and the next cell runs;
- a watchdog kills the sandbox when its processes' resident memory or the whole run's
  wall time passes its limit;
- each cell keeps at most ``max_output_bytes`` of output (a 50 MB print is cut while it
  arrives, never held whole), observations for the grader aside;
- afterwards every process of the sandbox's user is killed, detached ones included.
"""

from __future__ import annotations

import asyncio
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
import psutil
from ipykernel.kernelspec import RESOURCES, get_kernel_dict
from jupyter_client import AsyncKernelManager
from jupyter_client.connect import KernelConnectionInfo
from jupyter_client.kernelspec import (NATIVE_KERNEL_NAME, KernelSpec, KernelSpecManager,
                                        NoSuchKernel)
from jupyter_client.provisioning import KernelProvisionerFactory, LocalProvisioner
from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError

from autograder.sandbox import Limits, Sandbox
from cnnkit.observe import ENV_VAR, MIME

__all__ = ["RunResult", "SandboxProvisioner", "run_notebook"]

MAX_OBSERVATION_BYTES = 16 * 2**20


@dataclass
class RunResult:
    nb: nbformat.NotebookNode
    kernel_seconds: float = 0.0  # kernel start (sandbox included) to the last cell's end
    cells_seconds: float = 0.0  # the notebook's own run: its cells' execution times
    stopped: str = ""  # why the run ended early ("kernel died ..."), "" if it ran to the end
    stopped_at: int | None = None  # index of the cell that was running then
    timed_out: list[int] = field(default_factory=list)
    truncated: dict[int, int] = field(default_factory=dict)  # cell index -> bytes dropped
    peak_mb: float = 0.0
    leftover_processes: int = 0


PROVISIONER = "autograder-sandbox"  # entry point in pyproject.toml -> SandboxProvisioner


class SandboxKernelSpecManager(KernelSpecManager):
    """Kernel specs for the grader: only ``python3``, ipykernel in this very interpreter (the
    one ``sandbox.check`` proves the sandbox can run), started by ``SandboxProvisioner`` and
    interrupted by an ``interrupt_request`` message (a signal would reach the sandbox's
    launcher, not the kernel)."""

    def get_kernel_spec(self, kernel_name: str) -> KernelSpec:
        if kernel_name not in {"python", NATIVE_KERNEL_NAME}:
            raise NoSuchKernel(f"the grader runs only the {NATIVE_KERNEL_NAME} kernel, "
                               f"not {kernel_name!r}")
        spec = self.kernel_spec_class(resource_dir=RESOURCES, **get_kernel_dict())
        spec.metadata = {**spec.metadata, "kernel_provisioner": {"provisioner_name": PROVISIONER}}
        spec.interrupt_mode = "message"
        if not KernelProvisionerFactory.instance().is_provisioner_available(spec):
            raise LookupError(
                f"the kernel provisioner {PROVISIONER!r} is not registered with jupyter_client: "
                f"reinstall the project (.venv/bin/pip install -e .) so that its entry point "
                f"in pyproject.toml is installed"
            )
        return spec


class SandboxKernelManager(AsyncKernelManager):
    """A kernel manager whose kernel runs in ``sandbox`` (through ``SandboxProvisioner``),
    talking over Unix sockets in ``run_dir``, with ``env`` as its environment."""

    def __init__(self, *, sandbox: Sandbox, run_dir: Path, env: dict[str, str], **kw):
        super().__init__(transport="ipc", ip=str(run_dir / "kernel"),
                         connection_file=str(run_dir / "kernel.json"),
                         kernel_spec_manager=SandboxKernelSpecManager(), **kw)
        self.sandbox, self.run_dir, self.kernel_env = sandbox, run_dir, env
        self.stderr_file = tempfile.TemporaryFile()  # outside the sandbox's view

    def stderr_tail(self) -> str:
        self.stderr_file.seek(0, 2)
        size = self.stderr_file.tell()
        self.stderr_file.seek(max(0, size - 2000))
        lines = self.stderr_file.read().decode(errors="replace").strip().splitlines()
        return lines[-1] if lines else ""


class SandboxProvisioner(LocalProvisioner):
    """jupyter_client's local provisioner, with the kernel's command run inside the sandbox
    of its kernel manager (``self.parent``, a ``SandboxKernelManager``)."""

    async def pre_launch(self, **kwargs: Any) -> dict[str, Any]:
        km = self.parent
        if not isinstance(km, SandboxKernelManager):
            raise RuntimeError(f"the {PROVISIONER!r} kernel provisioner starts only the "
                               f"grader's kernels (autograder.runner.run_notebook), not "
                               f"{type(km).__name__}'s")
        kwargs = await super().pre_launch(**kwargs)  # writes the connection file
        km.sandbox.give(Path(km.connection_file))
        kwargs["cmd"] = km.sandbox.prefix(km.run_dir, km.kernel_env) + kwargs["cmd"]
        return kwargs

    async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> KernelConnectionInfo:
        km = self.parent
        kwargs["cwd"] = None  # bwrap chooses the kernel's folder
        kwargs["stdout"] = subprocess.DEVNULL  # the kernel's banner
        kwargs["stderr"] = km.stderr_file
        if km.sandbox.unsafe:  # no bwrap to clear it: give the kernel our clean environment
            kwargs["env"] = {**km.sandbox.base_env(), **km.kernel_env}
        return await super().launch_kernel(cmd, **kwargs)


class _CappedClient(NotebookClient):
    """nbclient that keeps at most ``max_output_bytes`` of output per cell."""

    def __init__(self, nb, *, max_output_bytes: int, **kw):
        super().__init__(nb, **kw)
        self.max_output_bytes = max_output_bytes
        self.used: dict[int, int] = {}
        self.dropped: dict[int, int] = {}
        self.observed = 0

    def output(self, outs, msg, display_id, cell_index):
        content = msg.get("content", {})
        data = content.get("data") or {}
        if MIME in data:  # the grader's own channel has a budget of its own
            size = len(str(data[MIME]))
            if self.observed + size > MAX_OBSERVATION_BYTES:
                self.dropped[cell_index] = self.dropped.get(cell_index, 0) + size
                return None
            self.observed += size
            return super().output(outs, msg, display_id, cell_index)
        if msg["msg_type"] == "stream":
            size = len(content.get("text", ""))
        elif msg["msg_type"] == "error":
            size = sum(len(line) for line in content.get("traceback", [])) // 4  # kept anyway
        else:
            size = sum(len(str(v)) for v in data.values())
        used = self.used.get(cell_index, 0)
        room = self.max_output_bytes - used
        if size > room and msg["msg_type"] != "error":
            self.dropped[cell_index] = self.dropped.get(cell_index, 0) + size - max(room, 0)
            if msg["msg_type"] != "stream" or room <= 0:
                return None
            msg = {**msg, "content": {**content, "text": content["text"][:room]}}
            size = room
        self.used[cell_index] = used + size
        return super().output(outs, msg, display_id, cell_index)


def _kernel_tree(km: SandboxKernelManager) -> list[psutil.Process]:
    """The processes to watch and kill besides the slot uid's: where the sandbox has no uid of
    its own (a grader that is not root, or ``unsafe``), the kernel's launcher and everything
    below it, detached ones included (they stay in bwrap's PID namespace); else none."""
    process = getattr(km.provisioner, "process", None)
    if km.sandbox.switch_user or process is None:
        return []
    try:
        root = psutil.Process(process.pid)
        return [root, *root.children(recursive=True)]
    except psutil.Error:
        return []


class _Watchdog(threading.Thread):
    """Kills the sandbox when its memory or the run's wall time passes the limit."""

    def __init__(self, sandbox: Sandbox, limits: Limits, deadline_s: float,
                 km: SandboxKernelManager):
        super().__init__(daemon=True)
        self.sandbox, self.limits, self.km = sandbox, limits, km
        self.deadline = time.monotonic() + deadline_s
        self.reason = ""
        self.peak_mb = 0.0
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(0.25):
            extra = _kernel_tree(self.km)
            mb = self.sandbox.resident_mb(extra)
            self.peak_mb = max(self.peak_mb, mb)
            if mb > self.limits.memory_mb:
                self.reason = f"memory limit: its processes used over {self.limits.memory_mb} MB"
            elif time.monotonic() > self.deadline:
                self.reason = "time limit: the whole notebook ran too long"
            if self.reason:
                self.sandbox.kill_all(extra)
                return


async def _execute(client: _CappedClient, km: SandboxKernelManager, result: RunResult,
                   sandbox: Sandbox, limits: Limits, deadline_s: float, timeout: int) -> None:
    dog = _Watchdog(sandbox, limits, deadline_s, km)
    start = time.perf_counter()
    try:
        # cleanup_kc: nbclient shuts the kernel down ("immediate": the provisioner kills its
        # launcher, and bwrap's PID namespace with it) and closes the channels and sockets
        async with client.async_setup_kernel(cleanup_kc=True):
            sandbox.seal(km.run_dir)
            dog.start()
            for index, cell in enumerate(client.nb.cells):
                if cell.cell_type != "code":
                    continue
                began = time.perf_counter()
                try:
                    await client.async_execute_cell(cell, index)
                except DeadKernelError:
                    result.stopped_at = index
                    result.stopped = dog.reason or "kernel died"
                    break
                finally:
                    result.cells_seconds += time.perf_counter() - began
                if time.perf_counter() - began >= timeout:
                    result.timed_out.append(index)
                if dog.reason:
                    result.stopped, result.stopped_at = dog.reason, index
                    break
    except RuntimeError as exc:  # the kernel never started
        detail = km.stderr_tail() or str(exc)
        result.stopped = dog.reason or f"the kernel did not start: {detail}"
    finally:
        dog.stop.set()
        result.kernel_seconds = time.perf_counter() - start
        result.peak_mb = dog.peak_mb


def run_notebook(
    nb: nbformat.NotebookNode,
    sandbox: Sandbox,
    *,
    timeout: int = 300,
    startup_timeout: int = 120,
    deadline_s: float = 3600,
    max_output_bytes: int = 64 * 2**10,
    threads: int = 1,
    extra_arguments: list[str] | None = None,
) -> RunResult:
    """Execute ``nb`` (modified in place) in a fresh sandboxed kernel; never raises for
    anything the notebook does."""
    env = {ENV_VAR: "1", "NBGRADER_EXECUTION": "autograde", "OMP_NUM_THREADS": str(threads),
           "MKL_NUM_THREADS": str(threads), "OMP_WAIT_POLICY": "PASSIVE"}
    run_dir = sandbox.make_run_dir()
    result = RunResult(nb)
    km = SandboxKernelManager(sandbox=sandbox, run_dir=run_dir, env=env, kernel_name="python3")
    client = _CappedClient(
        nb, km=km, max_output_bytes=max_output_bytes, timeout=timeout,
        startup_timeout=startup_timeout, interrupt_on_timeout=True, allow_errors=True,
        kernel_name="python3", extra_arguments=extra_arguments or [], record_timing=False,
        shutdown_kernel="immediate",
    )
    try:
        asyncio.run(_execute(client, km, result, sandbox, sandbox.limits, deadline_s, timeout))
    finally:
        result.leftover_processes = sandbox.kill_all(_kernel_tree(km))
        sandbox.remove_run_dir(run_dir)
        km.stderr_file.close()
    result.truncated = dict(client.dropped)
    return result
