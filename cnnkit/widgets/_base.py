"""What every widget of :mod:`cnnkit.widgets` shares: a root box and fast image encoding.

A widget is an :class:`Explorer`: a ``VBox`` whose :attr:`~Explorer.controls` are named,
whose :attr:`~Explorer.state` holds what it currently shows as plain Python values, and
which counts its redraws. Its last child is a hidden ``Output`` that makes its controls
readable by a screen reader (:mod:`cnnkit.widgets._a11y`). Tests (and ``bench/``) set a
control's ``value`` and read ``state``; no browser is needed because ipywidgets runs
observers synchronously in Python.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import ipywidgets as widgets
import numpy as np
from matplotlib.figure import Figure

from cnnkit.widgets._a11y import EXPLORER_CLASS, aria_output

__all__ = ["Explorer", "figure_png", "array_png"]


def figure_png(fig: Figure, *, dpi: int = 80) -> bytes:
    """Render a bare matplotlib ``Figure`` (not pyplot: nothing is displayed twice) to PNG."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def array_png(image: Any, *, scale: int = 1, normalize: bool = False) -> bytes:
    """Encode an image to PNG with PIL, much faster than a matplotlib figure.

    Args:
        image: ``(H, W)`` grey or ``(3, H, W)``/``(H, W, 3)`` RGB, a tensor or an array,
            with values in ``[0, 1]`` (or any range with ``normalize=True``).
        scale: enlarge by this integer factor with nearest-neighbour (crisp pixels).
        normalize: stretch the values to ``[0, 1]`` first (for feature maps).
    """
    from PIL import Image

    a = np.asarray(image.detach().cpu() if hasattr(image, "detach") else image, dtype=np.float32)
    if a.ndim == 3 and a.shape[0] in (1, 3) and a.shape[-1] not in (1, 3):
        a = np.moveaxis(a, 0, -1)  # (C, H, W) -> (H, W, C)
    if a.ndim == 3 and a.shape[-1] == 1:
        a = a[..., 0]
    if normalize:
        lo, hi = float(a.min()), float(a.max())
        a = (a - lo) / (hi - lo) if hi > lo else np.zeros_like(a)
    pixels = (np.clip(a, 0, 1) * 255).round().astype(np.uint8)
    if scale > 1:
        pixels = pixels.repeat(scale, axis=0).repeat(scale, axis=1)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="png", compress_level=1)
    return buffer.getvalue()


class Explorer(widgets.VBox):
    """The root of a cnnkit widget.

    Attributes:
        controls: the input widgets by name (``w.controls["stride"].value = 2``).
        state: what the widget shows now, as plain values (shapes, numbers, lists),
            updated by every redraw; ``state["description"]`` is the text under the
            pictures, which says in words what they show.
        renders: how many times the widget has redrawn.
        last_render_s: seconds the last redraw took (``bench/`` reads it).
    """

    def __init__(
        self,
        controls: Mapping[str, widgets.Widget],
        children: Sequence[widgets.Widget],
        render: Callable[[], Mapping[str, Any]],
        **kwargs: Any,
    ) -> None:
        # Last child: the hidden script that names sliders and Play buttons (see _a11y).
        super().__init__([*children, aria_output()], **kwargs)
        self.add_class(EXPLORER_CLASS)
        self.controls = dict(controls)
        self.state: dict[str, Any] = {}
        self.renders = 0
        self.last_render_s = 0.0
        self._render = render
        for control in self.controls.values():
            if hasattr(control, "value"):
                control.observe(self._on_change, names="value")
        self.refresh()

    def _on_change(self, change: Mapping[str, Any]) -> None:
        self.refresh()

    def refresh(self) -> None:
        """Recompute and redraw from the current control values."""
        start = time.perf_counter()
        self.state = dict(self._render())
        self.renders += 1
        self.last_render_s = time.perf_counter() - start
