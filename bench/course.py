"""Section ``course``: wall time of every lecture notebook, in both run profiles.

Each notebook of ``course/`` runs top to bottom with nbclient in a fresh kernel (cell
timeout 600 s), the way nbmake and a student's "Restart and run all" run it: once in the
quick profile (``CNNKIT_QUICK=1``, what ``make test`` uses) and once in the default
profile (the variable unset). The time includes starting the kernel. Targets: the quick
profile of all notebooks together < 10 min; each notebook's default profile < 3 min (issue
13: on a 2-core CPU, offline).
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import nbformat
from nbclient import NotebookClient
from tqdm.auto import tqdm

from bench.stats import check
from cnnkit.profile import QUICK_ENV

__all__ = ["COURSE", "QUICK_TOTAL_TARGET_S", "DEFAULT_EACH_TARGET_S", "execute", "run"]

COURSE = Path(__file__).resolve().parent.parent / "course"
QUICK_TOTAL_TARGET_S = 600.0
DEFAULT_EACH_TARGET_S = 180.0
TIMEOUT_S = 600


def execute(path: Path, *, quick: bool) -> dict[str, Any]:
    """Run one notebook in a fresh kernel; returns ``seconds`` and ``error`` (or ``None``)."""
    env = dict(os.environ)
    env.pop("MPLBACKEND", None)  # the kernel picks its own (inline), as in Jupyter
    if quick:
        env[QUICK_ENV] = "1"
    else:
        env.pop(QUICK_ENV, None)
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=TIMEOUT_S, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})  # fmt: skip
    start = time.perf_counter()
    error = None
    try:
        client.execute(env=env)  # passed on to the kernel manager: the kernel's environment
    except Exception as err:  # noqa: BLE001 - a failing notebook is a result, not a crash
        lines = str(err).strip().splitlines()
        error = f"{type(err).__name__}: {lines[-1] if lines else ''}"[:500]
    return {"seconds": time.perf_counter() - start, "error": error}


def run(*, quick: bool = False) -> dict[str, Any]:
    """Every notebook, quick profile then default; ``quick``: notebook 00, quick only."""
    notebooks = sorted(COURSE.glob("*.ipynb"))
    if quick:
        notebooks = notebooks[:1]
    profiles = ["quick"] if quick else ["quick", "default"]
    results: dict[str, dict[str, Any]] = {p: {} for p in profiles}
    jobs = [(p, nb) for p in profiles for nb in notebooks]
    for profile, nb in tqdm(jobs, desc="course notebooks", unit="notebook", leave=False):
        results[profile][nb.stem] = execute(nb, quick=profile == "quick")
    quick_total = sum(r["seconds"] for r in results["quick"].values())
    errors = {f"{p}/{name}": r["error"] for p, rs in results.items()
              for name, r in rs.items() if r["error"]}  # fmt: skip
    summary = [check("quick profile, all notebooks (s)", quick_total,
                     f"< {QUICK_TOTAL_TARGET_S:.0f}", quick_total < QUICK_TOTAL_TARGET_S
                     and not any(k.startswith("quick/") for k in errors))]  # fmt: skip
    for name, r in results.get("default", {}).items():
        summary.append(check(f"default profile {name} (s)", r["seconds"],
                             f"< {DEFAULT_EACH_TARGET_S:.0f}",
                             r["seconds"] < DEFAULT_EACH_TARGET_S and r["error"] is None))
    return {"timeout_s": TIMEOUT_S, "profiles": results, "quick_total_s": quick_total,
            "errors": errors, "summary": summary}  # fmt: skip
