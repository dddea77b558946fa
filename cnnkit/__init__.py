"""cnnkit: the helper package of the cnn-course lecture notebooks and assignments.

``import cnnkit`` is cheap and needs no torch: the shape arithmetic of
:mod:`cnnkit.shapes` is re-exported here, everything that uses torch is loaded on first
use (``cnnkit.summary``, ``cnnkit.ops``, ``cnnkit.data``, ``cnnkit.loaders``,
``cnnkit.train``, ``cnnkit.models``, ``cnnkit.plot``, ``cnnkit.materialize`` for lazy
layers).
"""

from __future__ import annotations

import importlib
from typing import Any

from cnnkit.shapes import (
    conv2d_macs,
    conv2d_output_shape,
    conv2d_params,
    pool2d_output_shape,
    same_padding,
)

__version__ = "0.1.0"

# Submodules that import torch: loaded lazily so that `cnnkit.shapes` stays torch-free.
_LAZY_MODULES = (
    "ops", "data", "loaders", "train", "models", "plot", "summarize", "profile", "widgets",
    "transfer", "lazy_layers",
)
# Public objects that live in a lazily loaded submodule.
_LAZY_OBJECTS = {
    "summary": "summarize",
    "Summary": "summarize",
    "ShapeMismatchError": "summarize",
    "fit": "train",
    "evaluate": "train",
    "try_gpu": "train",
    "History": "train",
    "load_dataset": "data",
    "TensorLoader": "loaders",
    "materialize": "lazy_layers",
    "MaterializeError": "lazy_layers",
    "UninitializedModelError": "lazy_layers",
}

__all__ = [
    "conv2d_output_shape",
    "pool2d_output_shape",
    "same_padding",
    "conv2d_params",
    "conv2d_macs",
    *_LAZY_OBJECTS,
    *_LAZY_MODULES,
]


def __getattr__(name: str) -> Any:
    if name in _LAZY_MODULES:
        return importlib.import_module(f"cnnkit.{name}")
    if name in _LAZY_OBJECTS:
        module = importlib.import_module(f"cnnkit.{_LAZY_OBJECTS[name]}")
        return getattr(module, name)
    raise AttributeError(f"module 'cnnkit' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
