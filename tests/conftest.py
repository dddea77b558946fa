"""Shared test set-up: a non-interactive matplotlib backend and a hypothesis profile."""

import os

import matplotlib
import pytest
import torch
from hypothesis import settings

matplotlib.use("Agg")

# Loops in cnnkit.ops are slow by design (they teach); keep property tests bounded.
settings.register_profile("default", deadline=None, max_examples=50)
settings.load_profile("default")

# Notebooks run by nbmake inherit this: the quick profile (see cnnkit/profile.py).
os.environ.setdefault("CNNKIT_QUICK", "1")


@pytest.fixture(scope="module")
def one_torch_thread():
    """Run a module's tests on one torch thread and restore the count afterwards.

    Oracle tests run thousands of convolutions on a few pixels each; waking a thread pool
    costs far more than the work, and on a busy 2-core machine OpenMP threads that wait
    for a core make each call 10-50x slower.
    """
    num_threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(num_threads)
