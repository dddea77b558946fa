"""What the convolution and pooling explorers share: cell grids drawn with PIL, and quiet wiring.

:func:`grid_png` paints a small grid of coloured cells (optionally with a number in each
cell and outlined boxes) straight into pixels, which takes a few milliseconds where a
matplotlib figure with the same cells takes ten times longer.

:class:`Quiet` lets a widget set its own controls (slider ranges that follow the output
shape, a row/column pair linked to a ``Play``) without one redraw per change;
:func:`link_presets` uses it to tie a preset dropdown to a matrix of number controls.
"""

from __future__ import annotations

import functools
import html
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

from cnnkit.widgets._base import array_png

__all__ = [
    "COLORS",
    "Quiet",
    "error_html",
    "grid_png",
    "link_presets",
    "no_output_png",
    "output_grid_png",
]

#: Cell colours (RGB in [0, 1]) used by both explorers, so that they read alike. Orange
#: and sky blue are Okabe-Ito colours, told apart with any colour vision; no meaning rests
#: on colour alone (padding cells hold a number, the window and chosen cell are outlined).
COLORS = {
    "input": (1.0, 1.0, 1.0),
    "padding": (0.85, 0.85, 0.85),
    "read": (0.9, 0.62, 0.0),  # a cell the chosen output reads (Okabe-Ito orange)
    "read_padding": (0.93, 0.78, 0.55),  # ... that lies in the padding (greyish orange)
    "window": (1.0, 0.95, 0.8),  # inside the (dilated) window, but skipped
    "output": (1.0, 1.0, 1.0),
    "chosen": (0.34, 0.71, 0.91),  # the chosen output cell (Okabe-Ito sky blue)
    "line": (0.55, 0.55, 0.55),
    "box": (0.0, 0.0, 0.0),  # the outline of the window and of the chosen cell
}


@functools.lru_cache(maxsize=4)
def _font(size: int) -> Any:
    from PIL import ImageFont

    return ImageFont.load_default(size=size)


def grid_png(
    fill: np.ndarray,
    *,
    labels: Sequence[Sequence[str]] | None = None,
    boxes: Sequence[tuple[int, int, int, int]] = (),
    cell: int = 26,
) -> bytes:
    """PNG of a grid of ``h x w`` coloured cells separated by thin lines.

    Args:
        fill: cell colours, shape ``(h, w, 3)``, RGB in ``[0, 1]``.
        labels: optional text per cell, ``labels[r][c]`` (``""`` for none).
        boxes: rectangles ``(r0, c0, r1, c1)`` (inclusive cell indices), outlined.
        cell: cell size in pixels.
    """
    h, w, _ = fill.shape
    pixels = np.empty((h * cell + 1, w * cell + 1, 3), dtype=np.float32)
    pixels[:-1, :-1] = fill.repeat(cell, axis=0).repeat(cell, axis=1)  # (h*cell, w*cell, 3)
    pixels[::cell, :] = COLORS["line"]  # horizontal lines, the last one included
    pixels[:, ::cell] = COLORS["line"]
    if labels is None and not boxes:
        return array_png(pixels)
    from PIL import Image, ImageDraw

    image = Image.fromarray((pixels * 255).round().astype(np.uint8))
    draw = ImageDraw.Draw(image)
    font = _font(max(8, cell * 11 // 26))
    for r, row in enumerate(labels or ()):
        for c, text in enumerate(row):
            if text:
                xy = (c * cell + cell / 2, r * cell + cell / 2)
                draw.text(xy, text, fill=(20, 20, 20), font=font, anchor="mm")
    box_color = tuple(round(255 * v) for v in COLORS["box"])
    for r0, c0, r1, c1 in boxes:
        corners = (c0 * cell, r0 * cell, (c1 + 1) * cell, (r1 + 1) * cell)
        draw.rectangle(corners, outline=box_color, width=3)
    return array_png(np.asarray(image, dtype=np.float32) / 255)


def output_grid_png(
    shape: tuple[int, int],
    chosen: tuple[int, int],
    *,
    labels: Sequence[Sequence[str]] | None = None,
    cell: int = 26,
) -> bytes:
    """PNG of an output grid of ``shape`` with the ``chosen`` cell sky blue and outlined."""
    fill = np.empty((*shape, 3), dtype=np.float32)
    fill[:] = COLORS["output"]
    fill[chosen] = COLORS["chosen"]
    return grid_png(fill, labels=labels, boxes=[(*chosen, *chosen)], cell=cell)


def no_output_png(cell: int = 26) -> bytes:
    """PNG of a single grey cell with a question mark: there is no output to draw."""
    return grid_png(np.full((1, 1, 3), COLORS["padding"]), labels=[["?"]], cell=cell)


def error_html(what: str, message: str) -> str:
    """HTML of an error message in red: ``"Cannot <what>: <message>"``."""
    return f"<span style='color:#b00'><b>Cannot {what}:</b> {html.escape(message)}</span>"


class Quiet:
    """Marks the control changes a widget makes itself, so that they do not redraw.

    :class:`~cnnkit.widgets._base.Explorer` redraws on every control change. When a redraw
    adjusts controls (a slider's range follows the output shape), each adjustment would
    start a nested redraw. Wrap the render function with :meth:`wrap` and make such
    changes inside ``with quiet():``; nested redraws then return the state being shown.
    """

    def __init__(self) -> None:
        self.active = False
        self._shown: dict[str, Any] = {}

    @contextmanager
    def __call__(self) -> Iterator[None]:
        previous, self.active = self.active, True
        try:
            yield
        finally:
            self.active = previous

    def wrap(self, render: Callable[[], Mapping[str, Any]]) -> Callable[[], dict[str, Any]]:
        """``render``, except that while quiet it returns the last state without redrawing."""

        def quiet_render() -> dict[str, Any]:
            if not self.active:
                self._shown = dict(render())
            return self._shown

        return quiet_render


def link_presets(
    preset: Any,
    cells: Mapping[str, Any],
    presets: Mapping[str, Sequence[Sequence[float]]],
    quiet: Quiet,
    *,
    custom: str = "custom",
) -> None:
    """Tie a preset dropdown to number controls named ``"k{r}{c}"`` (entry ``[r][c]``).

    Choosing a preset fills the controls; editing a control so that the matrix no longer
    equals the preset switches the dropdown to ``custom``. Call this before building the
    :class:`~cnnkit.widgets._base.Explorer`, so that these observers run before its redraw.
    """

    def matrix() -> list[list[float]]:
        rows = len(next(iter(presets.values())))
        cols = len(next(iter(presets.values()))[0])
        return [[cells[f"k{r}{c}"].value for c in range(cols)] for r in range(rows)]

    def on_preset(change: Mapping[str, Any]) -> None:
        if change["new"] != custom and not quiet.active:
            with quiet():
                for r, row in enumerate(presets[change["new"]]):
                    for c, value in enumerate(row):
                        cells[f"k{r}{c}"].value = value

    def on_cell(change: Mapping[str, Any]) -> None:
        if not quiet.active and preset.value != custom and matrix() != presets[preset.value]:
            with quiet():
                preset.value = custom

    preset.observe(on_preset, names="value")
    for cell in cells.values():
        cell.observe(on_cell, names="value")
