"""Interactive widgets of the lecture notebooks (ipywidgets 8, JupyterLab 4).

One module per widget. Each module holds the pure computation the widget shows and a
factory that builds and returns the widget (it never calls ``display``), so a test can set
the controls and read the state without a browser::

    from cnnkit.widgets import conv_explorer
    w = conv_explorer()      # the last expression of a cell displays it
    w.controls["stride"].value = 2
    w.state["output_shape"]

Modules load on first use, so ``import cnnkit.widgets`` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

# factory name -> module that defines it (one module per widget)
_FACTORIES = {
    "conv_explorer": "conv_explorer",  # course/01_convolutions_padding_stride.ipynb
    "kernel_playground": "kernel_playground",  # course/01
    "channel_mixer": "channel_mixer",  # course/02_channels.ipynb
    "pooling_explorer": "pooling_explorer",  # course/03_pooling.ipynb
    "activation_viewer": "activation_viewer",  # course/04_lenet.ipynb
    "architecture_comparer": "architecture_comparer",  # course/05_modern_cnns.ipynb
    "augmentation_viewer": "augmentation_viewer",  # course/06_transfer_learning.ipynb
}

__all__ = list(_FACTORIES)


def __getattr__(name: str) -> Any:
    if name in _FACTORIES:
        module = importlib.import_module(f"cnnkit.widgets.{_FACTORIES[name]}")
        return getattr(module, name)
    raise AttributeError(f"module 'cnnkit.widgets' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
