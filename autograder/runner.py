"""Run one notebook, cell by cell, with its kernel in a sandbox (``autograder/sandbox.py``).

nbclient drives the kernel from the grader's side over Unix sockets. What the grader adds:
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

import nbformat
import psutil
from jupyter_client import AsyncKernelManager
from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError

from autograder.sandbox import Limits, Sandbox
from cnnkit.observe import ENV_VAR, MIME

__all__ = ["RunResult", "run_notebook"]

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


class SandboxKernelManager(AsyncKernelManager):
    """A kernel manager whose kernel command runs inside the slot's sandbox."""

    def __init__(self, *, sandbox: Sandbox, run_dir: Path, env: dict[str, str], **kw):
        super().__init__(transport="ipc", ip=str(run_dir / "kernel"),
                         connection_file=str(run_dir / "kernel.json"), **kw)
        self.sandbox, self.run_dir, self.kernel_env = sandbox, run_dir, env
        self.stderr_file = tempfile.TemporaryFile()  # outside the sandbox's view

    def stderr_tail(self) -> str:
        self.stderr_file.seek(0, 2)
        size = self.stderr_file.tell()
        self.stderr_file.seek(max(0, size - 2000))
        lines = self.stderr_file.read().decode(errors="replace").strip().splitlines()
        return lines[-1] if lines else ""

    def format_kernel_cmd(self, extra_arguments=None):
        return self.sandbox.prefix(self.run_dir, self.kernel_env) + super().format_kernel_cmd(
            extra_arguments
        )

    def write_connection_file(self, **kwargs):
        result = super().write_connection_file(**kwargs)
        self.sandbox.give(Path(self.connection_file))
        return result

    async def _async_launch_kernel(self, kernel_cmd, **kw):
        kw["cwd"] = None
        kw["stdout"] = subprocess.DEVNULL  # the kernel's banner
        kw["stderr"] = self.stderr_file
        if self.sandbox.unsafe:  # no bwrap to clear it: give the kernel our clean environment
            kw["env"] = {**self.sandbox.base_env(), **self.kernel_env}
        return await super()._async_launch_kernel(kernel_cmd, **kw)

    async def _async_interrupt_kernel(self):
        # A signal would reach bwrap, not the kernel: ask the kernel to interrupt itself.
        msg = self.session.msg("interrupt_request", content={})
        self._connect_control_socket()
        self.session.send(self._control_socket, msg)

    interrupt_kernel = _async_interrupt_kernel


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


class _Watchdog(threading.Thread):
    """Kills the sandbox when its memory or the run's wall time passes the limit."""

    def __init__(self, sandbox: Sandbox, limits: Limits, deadline_s: float, kernel_pid):
        super().__init__(daemon=True)
        self.sandbox, self.limits, self.kernel_pid = sandbox, limits, kernel_pid
        self.deadline = time.monotonic() + deadline_s
        self.reason = ""
        self.peak_mb = 0.0
        self.stop = threading.Event()

    def _extra(self) -> list[psutil.Process]:
        if self.sandbox.switch_user:
            return []
        try:  # no uid of its own: watch the kernel's process tree
            root = psutil.Process(self.kernel_pid())
            return [root, *root.children(recursive=True)]
        except (psutil.Error, TypeError, ValueError):
            return []

    def run(self) -> None:
        while not self.stop.wait(0.25):
            extra = self._extra()
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
    def kernel_pid():
        process = getattr(km.provisioner, "process", None)
        return process.pid if process else None

    dog = _Watchdog(sandbox, limits, deadline_s, kernel_pid)
    start = time.perf_counter()
    try:
        async with client.async_setup_kernel():
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
    )
    try:
        asyncio.run(_execute(client, km, result, sandbox, sandbox.limits, deadline_s, timeout))
    finally:
        result.leftover_processes = sandbox.kill_all()
        sandbox.remove_run_dir(run_dir)
        km.stderr_file.close()
    result.truncated = dict(client.dropped)
    return result
