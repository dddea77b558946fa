"""Run profiles of the lecture notebooks: the default one, and a quick one for CI.

Every notebook's parameters cell picks its sizes with :func:`pick`. Setting the
environment variable ``CNNKIT_QUICK=1`` selects the quick profile (tiny data, one epoch),
which ``make test`` and CI use to execute every notebook in minutes; with a GPU the
default profile may ask for more (``gpu=``), since a GPU trains many times faster.
"""

from __future__ import annotations

import os
from typing import TypeVar

__all__ = ["QUICK_ENV", "is_quick", "pick"]

QUICK_ENV = "CNNKIT_QUICK"
T = TypeVar("T")


def is_quick() -> bool:
    """True when ``CNNKIT_QUICK`` is set to ``1``/``true``/``yes`` (case-insensitive)."""
    return os.environ.get(QUICK_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


def _has_gpu() -> bool:
    import torch

    return torch.cuda.is_available()


def pick(default: T, *, quick: T, gpu: T | None = None) -> T:
    """Choose a notebook parameter for the current profile.

    Args:
        default: the value for a 2-core laptop CPU.
        quick: the value in the quick profile (``CNNKIT_QUICK=1``).
        gpu: the value when a CUDA GPU is present (default profile only); ``None`` keeps
            ``default``.
    """
    if is_quick():
        return quick
    if gpu is not None and _has_gpu():
        return gpu
    return default
