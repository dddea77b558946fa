"""The grader starts kernels through jupyter_client's supported seams (``autograder/runner.py``:
a kernel provisioner selected by the kernel spec, interrupts by message) and the sandbox's
slot locks are per user (``autograder/sandbox.py``); a grader that is not root gets a working
sandbox or a clear reason why not.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest
from jupyter_client.provisioning import KernelProvisionerFactory
from nbformat.v4 import new_code_cell, new_notebook

from autograder import runner, sandbox

ROOT = Path(__file__).resolve().parents[1]
AS_ROOT = os.geteuid() == 0
NOBODY = ["runuser", "-u", "nobody", "--"]


@pytest.fixture(scope="module")
def slot():
    number, lock = sandbox.acquire_slot()
    yield number
    lock.close()


@pytest.fixture(scope="module")
def looped(slot):
    """One real run: the kernel's uid, an endless loop past the 2 s cell timeout, a last cell.
    Records which provisioner launched the kernel and every signal it was asked to send."""
    launched, signals = [], []

    async def post_launch(self, **kw):
        launched.append((type(self), self.process.pid))
        await runner.LocalProvisioner.post_launch(self, **kw)

    async def send_signal(self, signum):
        signals.append(signum)
        await runner.LocalProvisioner.send_signal(self, signum)

    nb = new_notebook(cells=[new_code_cell("import os\nprint(os.getuid())"),
                             new_code_cell("while True:\n    pass"),
                             new_code_cell("print('next cell ran')")])
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(runner.SandboxProvisioner, "post_launch", post_launch, raising=False)
        mp.setattr(runner.SandboxProvisioner, "send_signal", send_signal, raising=False)
        result = runner.run_notebook(nb, sandbox.Sandbox(slot, sandbox.Limits()), timeout=2)
    return result, launched, signals


def test_the_provisioner_is_registered_under_its_entry_point():
    entries = KernelProvisionerFactory.instance().get_provisioner_entries()
    assert entries.get(runner.PROVISIONER) == "autograder.runner:SandboxProvisioner"
    spec = runner.SandboxKernelSpecManager().get_kernel_spec("python3")
    assert spec.metadata["kernel_provisioner"]["provisioner_name"] == runner.PROVISIONER
    assert spec.interrupt_mode == "message"
    assert spec.argv[0] == sys.executable  # the interpreter the sandbox binds
    with pytest.raises(KeyError, match="only the python3 kernel"):
        runner.SandboxKernelSpecManager().get_kernel_spec("ir")


def test_an_unregistered_provisioner_names_the_fix(monkeypatch):
    factory = KernelProvisionerFactory.instance()
    others = {k: v for k, v in factory.provisioners.items() if k != runner.PROVISIONER}
    monkeypatch.setattr(factory, "provisioners", others)

    def not_installed(name):  # the factory's own seam for tests ("facilitate testing")
        raise KeyError(name)

    monkeypatch.setattr(factory, "_get_provisioner", not_installed)
    with pytest.raises(LookupError, match=r"not registered.*pip install -e \."):
        runner.SandboxKernelSpecManager().get_kernel_spec("python3")


def test_the_kernel_is_started_by_the_sandbox_provisioner(looped, slot):
    result, launched, _ = looped
    assert [cls for cls, _pid in launched] == [runner.SandboxProvisioner], result.stopped
    uid = int(result.nb.cells[0].outputs[0]["text"])
    assert uid == (sandbox.BASE_UID + slot if AS_ROOT else os.geteuid())


def test_an_endless_cell_is_interrupted_by_message_and_the_next_cell_runs(looped):
    result, _, signals = looped
    assert (result.stopped, result.stopped_at, result.timed_out) == ("", None, [1])
    assert [o.get("ename") for o in result.nb.cells[1].outputs] == ["KeyboardInterrupt"]
    assert result.nb.cells[2].outputs[0]["text"] == "next cell ran\n"
    assert signal.SIGINT not in signals  # jupyter_client sent interrupt_request instead


def test_the_lock_folder_is_per_user_and_private(monkeypatch, tmp_path):
    monkeypatch.setattr(sandbox, "LOCK_BASE", tmp_path)
    locks = sandbox.lock_dir()
    assert locks == tmp_path / f"cnn-course-sandbox-{os.geteuid()}"
    info = locks.stat()
    assert (info.st_uid, info.st_mode & 0o777) == (os.geteuid(), 0o700)
    locks.chmod(0o777)  # ours but open to others: closed again
    first, held = sandbox.acquire_slot()
    second, held2 = sandbox.acquire_slot(first)
    assert first != second and (locks / f"slot-{first}.lock").exists()
    assert locks.stat().st_mode & 0o777 == 0o700
    held.close()
    held2.close()


@pytest.mark.skipif(not AS_ROOT, reason="only root graders share slot uids with old checkouts")
def test_a_slot_held_by_an_older_checkout_is_not_taken(monkeypatch, tmp_path):
    monkeypatch.setattr(sandbox, "LOCK_BASE", tmp_path)
    monkeypatch.setattr(sandbox, "LEGACY_LOCKS", tmp_path / "cnn-course-sandbox")
    sandbox.LEGACY_LOCKS.mkdir()
    old = sandbox._try_lock(sandbox.LEGACY_LOCKS / "slot-0.lock")  # how old checkouts lock
    slot, held = sandbox.acquire_slot()
    assert slot == 1
    old.close()
    held.close()
    slot, held = sandbox.acquire_slot()
    held.close()
    assert slot == 0  # free in both folders again


def test_a_lock_folder_planted_by_someone_else_is_refused(monkeypatch, tmp_path):
    monkeypatch.setattr(sandbox, "LOCK_BASE", tmp_path)
    planted = tmp_path / f"cnn-course-sandbox-{os.geteuid()}"
    (tmp_path / "elsewhere").mkdir()
    planted.symlink_to(tmp_path / "elsewhere")
    with pytest.raises(sandbox.SandboxUnavailable, match="is not a folder .* Remove it"):
        sandbox.acquire_slot()
    if not AS_ROOT:
        return
    planted.unlink()
    planted.mkdir(mode=0o700)
    os.chown(planted, 65534, 65534)
    with pytest.raises(sandbox.SandboxUnavailable,
                       match=r"is owned by uid 65534, not by you \(uid 0\).*Remove it"):
        sandbox.acquire_slot()


@pytest.mark.skipif(not AS_ROOT, reason="kills processes of a slot's own uid (root only)")
def test_kill_all_kills_and_reaps_forked_processes_at_once(slot):
    box = sandbox.Sandbox(slot, sandbox.Limits())
    run_dir = box.make_run_dir()
    proc = subprocess.Popen([*box.prefix(run_dir, {}), "sh", "-c",
                             "sleep 300 & sleep 300 & wait"])
    deadline = time.monotonic() + 10
    while len(box.processes()) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    start = time.monotonic()
    assert box.kill_all() == 3
    assert time.monotonic() - start < 2  # wait_procs returns when they are gone
    assert box.processes() == []
    assert proc.wait(timeout=5) is not None  # the sandbox's launcher ends with them
    box.remove_run_dir(run_dir)


NON_ROOT = """
import json, os, sys
import psutil
from autograder import sandbox
try:
    line = sandbox.check()
except sandbox.SandboxUnavailable as exc:
    print(json.dumps({"unavailable": str(exc)}))
    sys.exit()
from nbformat.v4 import new_code_cell, new_notebook
from autograder.runner import run_notebook
slot, lock = sandbox.acquire_slot()
nb = new_notebook(cells=[new_code_cell("import os; print(os.getuid())"),
                         new_code_cell("while True: pass"), new_code_cell("print('next')")])
run = run_notebook(nb, sandbox.Sandbox(slot, sandbox.Limits()), timeout=2)
left = psutil.Process().children(recursive=True)  # the kernel must not outlive its run
print(json.dumps({"check": line, "lock_dir": str(sandbox.lock_dir()), "uid": os.getuid(),
                  "outputs": [[o.get("text", o.get("ename")) for o in c.outputs]
                              for c in nb.cells], "stopped": run.stopped,
                  "left": [p.name() for p in left]}))
"""


@pytest.mark.skipif(not (AS_ROOT and shutil.which("runuser")),
                    reason="needs root to run as the unprivileged user nobody")
def test_a_grader_that_is_not_root_gets_a_sandbox_or_a_clear_reason():
    env = {"PATH": os.environ["PATH"], "LANG": "C.UTF-8"}  # nobody's TMPDIR: the default
    with tempfile.TemporaryDirectory(dir="/tmp") as folder:
        os.chmod(folder, 0o755)  # nobody works in a folder of its own
        readable = subprocess.run([*NOBODY, "test", "-r", str(ROOT / "autograder" / "sandbox.py"),
                                   "-a", "-x", sys.executable], cwd=folder)
        if readable.returncode:
            pytest.skip(f"nobody cannot read this checkout ({ROOT}) or run {sys.executable}")
        proc = subprocess.run([*NOBODY, sys.executable, "-c", textwrap.dedent(NON_ROOT)],
                              cwd=folder, capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]  # no traceback: a result or a reason
    found = json.loads(proc.stdout.strip().splitlines()[-1])
    if "unavailable" in found:  # allowed, but it must say why and what to do
        assert len(found["unavailable"]) > 40, found
        pytest.skip(f"no sandbox for a non-root grader here: {found['unavailable']}")
    nobody = found["uid"]
    assert nobody != 0
    assert found["check"].startswith(f"bubblewrap sandbox as your own uid {nobody} (not root)")
    assert found["lock_dir"].endswith(f"cnn-course-sandbox-{nobody}")
    assert found["outputs"] == [[f"{nobody}\n"], ["KeyboardInterrupt"], ["next\n"]]
    assert found["stopped"] == ""
    assert found["left"] == []
