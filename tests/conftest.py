"""Shared test set-up: a non-interactive matplotlib backend and a hypothesis profile."""

import os

import matplotlib
from hypothesis import settings

matplotlib.use("Agg")

# Loops in cnnkit.ops are slow by design (they teach); keep property tests bounded.
settings.register_profile("default", deadline=None, max_examples=50)
settings.load_profile("default")

# Notebooks run by nbmake inherit this: the quick profile (see cnnkit/profile.py).
os.environ.setdefault("CNNKIT_QUICK", "1")
