"""A bubblewrap sandbox per submission: the kernel runs there, the grader stays outside.

Each student's kernel is started as

    prlimit (limits) -- bwrap (namespaces, mounts) -- setpriv (an unprivileged uid) -- python

- **User**: a uid of its own per grading slot (62000 + slot, no login, no files), so the
  limits on processes count only that sandbox, and every process the submission started
  can be found and killed afterwards, however it detached itself. A grader that is not
  root cannot switch users; the kernel then runs as the grader's user, still inside bwrap.
- **Namespaces**: no network (a loopback of its own), its own PIDs,
  IPC and hostname; ``--die-with-parent`` ends it with the grader's worker.
- **Files**: read-only ``/usr`` and ``/etc``, the Python environment and ``cnnkit``;
  nothing of the course (``source/``, the gradebook, ``submitted/``, other students) and
  no home folder. The work folder and ``/tmp`` are one size-capped tmpfs.
- **Kernel channels**: ZeroMQ over Unix sockets in a folder shared with the grader; once the
  kernel is up, that folder is made read-only to it.
- **Limits** (``prlimit``): address space, CPU seconds, processes, file size, open files;
  the worker also watches the resident memory of the uid's processes and the wall time.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

from autograder.limits import Limits  # re-exported: the sandbox's limits live there

__all__ = ["Limits", "Sandbox", "SandboxUnavailable", "acquire_slot", "check", "describe_device",
           "lock_dir"]

BASE_UID = 62000
MAX_SLOTS = 64
# Not TMPDIR: a slot's uid is the whole machine's, so every grader must see the same locks.
LOCK_BASE = Path("/tmp")
# Before per-user lock folders, root graders locked slots here: one still running from an
# older checkout must not get the same slot (and uid). Drop once no such checkout can run.
LEGACY_LOCKS = Path("/tmp/cnn-course-sandbox")
KILL_ROUNDS = 3  # kill, wait, look again: catches what forked while the first kill landed
KILL_WAIT_S = 10.0
KILL_SLICE_S = 0.1


class SandboxUnavailable(RuntimeError):
    """No sandbox can be made here; the message says why and what to do."""


def _python_roots() -> list[Path]:
    """Folders the sandboxed interpreter needs: the environment and the packages we import."""
    import cnnkit

    roots = {Path(sys.prefix), Path(sys.base_prefix), Path(cnnkit.__file__).resolve().parent}
    real = Path(os.path.realpath(sys.executable)).parent.parent
    roots.add(real)
    usr = Path("/usr")
    return sorted(r for r in roots if r != usr and usr not in r.parents and r != Path("/"))


def _gpu_name() -> str:
    """The first NVIDIA GPU's model from the driver, without importing torch (2-3 s)."""
    for info in sorted(Path("/proc/driver/nvidia/gpus").glob("*/information")):
        with contextlib.suppress(OSError):
            for line in info.read_text().splitlines():
                if line.startswith("Model:"):
                    return line.split(":", 1)[1].strip()
    if Path("/dev/nvidiactl").exists() and shutil.which("nvidia-smi"):
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run(["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"],
                                 capture_output=True, text=True, timeout=20).stdout
            return out.strip().splitlines()[0] if out.strip() else ""
    return ""


def describe_device() -> str:
    """Where the test cells run: the GPU's name when the machine has one (the sandbox passes
    it through and ps3's tests use it), else the CPU's model."""
    name = _gpu_name()
    if name:
        return f"cuda ({name})"
    model = "cpu"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = f"cpu ({line.split(':', 1)[1].strip()})"
                break
    return model


def _gpu_devices() -> list[str]:
    return sorted(str(p) for p in Path("/dev").glob("nvidia*"))


class Sandbox:
    """The command line of one slot's sandbox.

    Args:
        slot: grading slot (one per worker); gives the uid ``BASE_UID + slot``.
        limits: resource limits.
        unsafe: run the kernel without any sandbox (only where none can be made).
    """

    def __init__(self, slot: int, limits: Limits, *, unsafe: bool = False):
        self.slot, self.limits, self.unsafe = slot, limits, unsafe
        self.switch_user = os.geteuid() == 0 and not unsafe
        self.uid = BASE_UID + slot if self.switch_user else os.geteuid()

    def prefix(self, run_dir: Path, env: dict[str, str]) -> list[str]:
        """Arguments to put before the kernel's own command."""
        lim = self.limits
        cmd = ["prlimit", f"--cpu={lim.cpu_seconds}", f"--fsize={lim.file_mb * 2**20}",
               f"--nofile={lim.open_files}", "--core=0"]
        if not _gpu_devices():  # CUDA reserves far more address space than it uses
            cmd.append(f"--as={lim.address_space_mb * 2**20}")
        if self.switch_user:
            cmd.append(f"--nproc={lim.processes}")
        elif not self.unsafe:  # the limit counts all of the user's processes: add ours
            mine = sum(1 for p in psutil.process_iter(["uids"])
                       if p.info["uids"] and p.info["uids"].real == self.uid)
            cmd.append(f"--nproc={lim.processes + mine}")
        cmd.append("--")
        if self.unsafe:
            return cmd
        # As root, bwrap makes the namespaces and mounts with root's rights (so a course in a
        # private folder works) and setpriv, inside, drops to the slot's uid for good: no
        # capabilities, no new privileges (setuid binaries stay inert). Without root, bwrap
        # makes a user namespace and the kernel keeps the grader's uid.
        namespaces = ["--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts",
                      "--unshare-cgroup-try"]
        if not self.switch_user:
            namespaces.append("--unshare-user")
        cmd += ["bwrap", *namespaces, "--die-with-parent", "--new-session",
                "--ro-bind", "/usr", "/usr", "--ro-bind", "/etc", "/etc"]
        for name in ("bin", "sbin", "lib", "lib64", "lib32"):
            link = Path("/") / name
            if link.is_symlink():
                cmd += ["--symlink", os.readlink(link), str(link)]
            elif link.is_dir():
                cmd += ["--ro-bind", str(link), str(link)]
        # /tmp first: the environment may live below it (a clone in mktemp -d), and a
        # tmpfs mounted later would hide it.
        cmd += ["--perms", "01777", "--size", str(lim.tmp_mb * 2**20), "--tmpfs", "/tmp",
                "--perms", "01777", "--dir", "/tmp/work"]
        made: set[Path] = set()
        for root in _python_roots():
            # bwrap as root would create the folders above a mount point as 0700
            for parent in reversed(root.parents[:-1]):
                if parent not in made:
                    made.add(parent)
                    cmd += ["--perms", "0755", "--dir", str(parent)]
            cmd += ["--ro-bind", str(root), str(root)]
        cmd += ["--proc", "/proc", "--dev", "/dev"]
        gpus = _gpu_devices()
        for dev in gpus:
            cmd += ["--dev-bind", dev, dev]
        if gpus and Path("/sys").is_dir():
            cmd += ["--ro-bind", "/sys", "/sys"]
        for parent in reversed(run_dir.parents[:-1]):
            cmd += ["--perms", "0755", "--dir", str(parent)]
        cmd += ["--bind", str(run_dir), str(run_dir), "--chdir", "/tmp/work", "--clearenv"]
        for key, value in {**self.base_env(), **env}.items():
            cmd += ["--setenv", key, value]
        cmd.append("--")
        if self.switch_user:
            cmd += ["setpriv", f"--reuid={self.uid}", f"--regid={self.uid}", "--clear-groups",
                    "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--"]
        return cmd

    @staticmethod
    def base_env() -> dict[str, str]:
        """The kernel's whole environment: nothing of the grader's (no secrets, no URLs)."""
        env = {
            "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
            "HOME": "/tmp/work",
            "TMPDIR": "/tmp",
            "LANG": "C.UTF-8",
            "PYTHONNOUSERSITE": "1",
            "MPLBACKEND": "agg",
        }
        if "CUDA_VISIBLE_DEVICES" in os.environ:
            env["CUDA_VISIBLE_DEVICES"] = os.environ["CUDA_VISIBLE_DEVICES"]
        return env

    def processes(self) -> list[psutil.Process]:
        """Every live process of this slot's uid (empty in unsafe mode or as non-root).

        Zombies are left out: they run nothing and hold no memory (their parent, or init,
        reaps them; ``kill_all`` reaps those that are this process's children).
        """
        if not self.switch_user:
            return []
        found = []
        for proc in psutil.process_iter(["uids", "status"]):
            uids = proc.info.get("uids")
            if (uids is not None and uids.real == self.uid
                    and proc.info.get("status") != psutil.STATUS_ZOMBIE):
                found.append(proc)
        return found

    def kill_all(self, extra: list[psutil.Process] = ()) -> int:
        """Kill every process of the slot (and ``extra``) and wait for them to end; returns
        how many were alive. A process forked between the listing and the kill is caught by
        the next round. Zombies that are this process's children (the sandbox's launchers,
        orphans it inherited as subreaper) are reaped: they still count against the uid's
        process limit."""
        reap_children()
        killed: set[psutil.Process] = set()
        for _round in range(KILL_ROUNDS):
            procs = [p for p in [*self.processes(), *extra] if p not in killed and _alive(p)]
            if not procs:
                break
            for proc in procs:
                with contextlib.suppress(psutil.Error):
                    proc.send_signal(signal.SIGKILL)
            killed.update(procs)
            _wait_ended(procs, KILL_WAIT_S)
        return len(killed)

    def resident_mb(self, extra: list[psutil.Process] = ()) -> float:
        """Memory of the slot's processes in MB: the sum of RSS, or, when that passes the
        limit, of PSS (forked children share their parent's pages; RSS counts them again)."""
        procs = self.processes() + list(extra)
        total = 0
        for proc in procs:
            with contextlib.suppress(psutil.Error):
                total += proc.memory_info().rss
        if total / 2**20 <= self.limits.memory_mb:
            return total / 2**20
        total = 0
        for proc in procs:
            with contextlib.suppress(psutil.Error):
                total += proc.memory_full_info().pss
        return total / 2**20

    def make_run_dir(self) -> Path:
        run_dir = Path(tempfile.mkdtemp(prefix=f"cnn-grade-{self.slot}-"))
        if self.switch_user:
            os.chown(run_dir, self.uid, self.uid)
        return run_dir

    def remove_run_dir(self, run_dir: Path) -> None:
        shutil.rmtree(run_dir, ignore_errors=True)

    def give(self, path: Path) -> None:
        """Let the sandbox read ``path`` (the kernel's connection file)."""
        if self.switch_user:
            os.chown(path, self.uid, self.uid)

    def seal(self, run_dir: Path) -> None:
        """After start-up the kernel may no longer create files in the shared folder."""
        if self.switch_user:
            os.chown(run_dir, 0, 0)
            os.chmod(run_dir, 0o755)


def _alive(proc: psutil.Process) -> bool:
    try:
        return proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _wait_ended(procs: list[psutil.Process], timeout: float) -> None:
    """Wait (``psutil.wait_procs``) until ``procs`` have ended, reaping our children.

    psutil waits for a process that is not our child until its pid is gone, but a killed
    orphan stays a zombie until its new parent reaps it: this process when it is a subreaper
    (then nobody else will), or init. So the wait goes in short slices, with our children
    reaped between them, and a zombie counts as ended.
    """
    deadline = time.monotonic() + timeout
    while procs := [p for p in procs if _alive(p)]:
        reap_children()
        left = deadline - time.monotonic()
        if left <= 0:
            break
        _gone, procs = psutil.wait_procs(procs, timeout=min(KILL_SLICE_S, left))
    reap_children()


def become_subreaper() -> None:
    """Orphans of this process's children come to it (PR_SET_CHILD_SUBREAPER), so that
    what a sandbox leaves behind is reaped here, not left as zombies to a container's
    init that may never reap them."""
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL(None).prctl(36, 1)


def reap_children() -> None:
    """Collect every child that has exited (the sandbox's launchers and orphans)."""
    while True:
        try:
            pid, _status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def lock_dir() -> Path:
    """The folder of the slot locks: one per user (``/tmp/cnn-course-sandbox-<euid>``), mode
    0700, so that graders running as another user neither block nor take ours.

    Raises:
        SandboxUnavailable: when the path exists but is not a folder of ours (another user
            may have made it first to control our slots).
    """
    uid = os.geteuid()
    path = LOCK_BASE / f"cnn-course-sandbox-{uid}"
    with contextlib.suppress(FileExistsError):
        path.mkdir(mode=0o700)
    info = os.lstat(path)
    if not stat.S_ISDIR(info.st_mode):
        problem = "is not a folder (a link or a file planted there?)"
    elif info.st_uid != uid:
        problem = f"is owned by uid {info.st_uid}, not by you (uid {uid})"
    else:
        problem = ""
    if problem:
        raise SandboxUnavailable(
            f"the slot lock folder {path} {problem}: another user may have made it to hold "
            f"your grading slots. Remove it (as root: rm -r {path}) and start again"
        )
    if stat.S_IMODE(info.st_mode) != 0o700:
        os.chmod(path, 0o700)
    return path


def _try_lock(path: Path):
    handle = open(path, "w")  # noqa: SIM115 - held until the slot is given back
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        return None
    return handle


def acquire_slot(preferred: int = 0) -> tuple[int, object]:
    """Lock a free grading slot (across grader processes); returns ``(slot, lock)``, where
    ``lock.close()`` gives the slot back."""
    folders = [lock_dir()]
    if os.geteuid() == 0 and LEGACY_LOCKS.is_dir() and not LEGACY_LOCKS.is_symlink():
        folders.append(LEGACY_LOCKS)
    for offset in range(MAX_SLOTS):
        slot = (preferred + offset) % MAX_SLOTS
        held = contextlib.ExitStack()
        for folder in folders:
            handle = _try_lock(folder / f"slot-{slot}.lock")
            if handle is None:
                held.close()
                break
            held.enter_context(handle)
        else:
            return slot, held
    raise SandboxUnavailable(f"all {MAX_SLOTS} grading slots are in use by other graders")


def check(limits: Limits | None = None) -> str:
    """Make a throw-away sandbox and import the kernel's packages in it.

    Returns:
        A one-line description of the sandbox.

    Raises:
        SandboxUnavailable: with the reason and the fix.
    """
    if not sys.platform.startswith("linux"):
        raise SandboxUnavailable(f"the sandbox needs Linux (this is {sys.platform})")
    for tool, package in (("bwrap", "bubblewrap"), ("prlimit", "util-linux"),
                          ("setpriv", "util-linux")):
        if shutil.which(tool) is None:
            raise SandboxUnavailable(
                f"{tool} is not installed (Debian/Ubuntu: apt-get install {package})"
            )
    slot, lock = acquire_slot()
    box = Sandbox(slot, limits or Limits())
    run_dir = box.make_run_dir()
    try:
        cmd = [*box.prefix(run_dir, {}), sys.executable, "-c",
               "import os, ipykernel, cnnkit.observe; print(os.getuid())"]
        start = time.perf_counter()
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        except subprocess.TimeoutExpired as exc:
            raise SandboxUnavailable("the sandbox did not start within 120 s") from exc
        if proc.returncode != 0:
            tail = (proc.stderr.strip().splitlines() or ["(no message)"])[-1]
            raise SandboxUnavailable(
                f"the sandbox could not run {sys.executable}: {tail}. The interpreter and its "
                f"packages must be readable by an unprivileged user (make creates .venv with "
                f"Debian's /usr/bin/python3.11 for this); user namespaces must be allowed"
            )
        who = f"uid {box.uid}" if box.switch_user else f"your own uid {box.uid} (not root)"
        return (f"bubblewrap sandbox as {who}, no network, started in "
                f"{time.perf_counter() - start:.1f} s")
    finally:
        box.kill_all()
        box.remove_run_dir(run_dir)
        lock.close()
