"""Section ``gpu``: LeNet training speed with the data resident on a CUDA device.

Only with ``torch.cuda.is_available()``; otherwise every entry is
``{"skipped": "no CUDA device"}``.

1. ``training``: one epoch of 60,000 synthetic ``(1, 28, 28)`` images through
   :func:`cnnkit.train.fit` fed by a :class:`cnnkit.loaders.TensorLoader` on the GPU
   (batch 256, SGD, the textbook's sigmoid LeNet), after a warm-up epoch; the textbook
   (d2l, chapter 7.6) reports about 72,000 examples per second.
2. ``grading_ps3``: grading ``ps3_lenet_variants`` (it trains networks) with the GPU
   visible and with ``CUDA_VISIBLE_DEVICES=""``, in alternation, through the CLI.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

from bench.stats import alternate, check, summarize

__all__ = ["TEXTBOOK_EXAMPLES_PER_S", "run"]

SKIPPED = {"skipped": "no CUDA device"}
TEXTBOOK_EXAMPLES_PER_S = 72_000.0


def _training(quick: bool) -> dict[str, Any]:
    from cnnkit.loaders import TensorLoader
    from cnnkit.models import lenet5
    from cnnkit.train import device_name, fit, set_seed

    device = torch.device("cuda:0")
    n = 6_000 if quick else 60_000
    generator = torch.Generator().manual_seed(0)
    X = torch.rand(n, 1, 28, 28, generator=generator)
    y = torch.randint(0, 10, (n,), generator=generator)
    loader = TensorLoader(X, y, batch_size=256, shuffle=True, device=device)
    set_seed(0)
    model = lenet5()
    fit(model, loader, num_epochs=1, lr=0.9, device=device, progress=False)  # warm-up
    rates = []
    for _ in range(2 if quick else 5):
        history = fit(model, loader, num_epochs=1, lr=0.9, device=device, progress=False)
        rates.append(history.examples_per_sec[-1])
    return {"device": device_name(device), "examples": n, "batch_size": 256,
            "examples_per_s": summarize(rates), "textbook_examples_per_s":
            TEXTBOOK_EXAMPLES_PER_S}  # fmt: skip


def _grading_ps3(quick: bool) -> dict[str, Any]:
    from bench.grading import grade_ours, make_course

    scratch = Path(tempfile.mkdtemp(prefix="bench-gpu-"))
    try:
        ids = make_course(scratch / "course", ["ps3_lenet_variants"], 2 if quick else 8)

        def timed(env: dict[str, str] | None) -> float:
            start = time.perf_counter()
            result = grade_ours(scratch / "course", "ps3_lenet_variants", ids, force=True,
                                env=env)  # fmt: skip
            if result["rc"] not in (0, 1):
                raise RuntimeError(result.get("error") or "grading failed")
            return time.perf_counter() - start

        compared = alternate(lambda: timed({"CUDA_VISIBLE_DEVICES": ""}), lambda: timed(None),
                             pairs=1 if quick else 3, warmup=0, desc="gpu: ps3 cpu vs gpu")
    except (RuntimeError, OSError) as err:
        return {"error": str(err)[:500]}
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return {"submissions": len(ids), "cpu_s": compared["a"], "gpu_s": compared["b"],
            "speedup_cpu_over_gpu": compared["ratio"]}  # fmt: skip


def run(*, quick: bool = False) -> dict[str, Any]:
    """Both measurements, or ``skipped`` entries without CUDA."""
    if not torch.cuda.is_available():
        return {"training": SKIPPED, "grading_ps3": SKIPPED, "summary": [
            check("GPU LeNet training (ex/s)", None, "~72,000 (textbook)", None)]}
    training = _training(quick)
    grading = _grading_ps3(quick)
    rate = training["examples_per_s"]["median"]
    return {"training": training, "grading_ps3": grading, "summary": [
        check("GPU LeNet training (ex/s)", rate, f"~{TEXTBOOK_EXAMPLES_PER_S:,.0f} (textbook)",
              rate >= TEXTBOOK_EXAMPLES_PER_S),
    ]}  # fmt: skip
