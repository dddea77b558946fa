"""Convolution explorer: which input cells one output cell reads, and the output shape.

Used in ``course/01_convolutions_padding_stride.ipynb``. Pick the input size, kernel size,
padding, stride and dilation, then an output cell (or press play to walk through them):
the padded input is drawn with the zero padding shaded and the cells that output cell
reads in orange; the output shape is worked out with the formula and compared with what
a real ``nn.Conv2d`` produces. A kernel larger than the padded input shows a message.

The geometry lives in the pure functions :func:`receptive_cells`, :func:`conv_geometry`
(which uses :func:`formula_text` and :func:`torch_output_shape`); :func:`conv_explorer` is
layout and wiring.
"""

from __future__ import annotations

import html

import ipywidgets as widgets
import numpy as np
import torch
from torch import nn

from cnnkit.shapes import Size2d, _pair, conv2d_output_shape
from cnnkit.widgets._base import Explorer
from cnnkit.widgets._grid import (
    COLORS,
    Quiet,
    error_html,
    grid_png,
    no_output_png,
    output_grid_png,
)

__all__ = [
    "conv_explorer",
    "conv_geometry",
    "formula_text",
    "receptive_cells",
    "torch_output_shape",
]

# Slider ranges, small enough that every cell of the drawing stays visible.
_RANGES = {
    "n_h": (1, 10),
    "n_w": (1, 10),
    "kernel_size": (1, 7),
    "padding": (0, 4),
    "stride": (1, 4),
    "dilation": (1, 3),
}


def receptive_cells(
    row: int, col: int, kernel_size: Size2d, stride: Size2d = 1, dilation: Size2d = 1
) -> list[tuple[int, int]]:
    """Cells of the *padded* input that output cell ``(row, col)`` of a convolution reads.

    Output cell ``(i, j)`` multiplies kernel entry ``(a, b)`` with padded input cell
    ``(i*s_h + a*d_h, j*s_w + b*d_w)``; subtract the padding to get input coordinates.
    Introduced in ``course/01_convolutions_padding_stride.ipynb``.

    Args:
        row: output row ``i``.
        col: output column ``j``.
        kernel_size: ``k_h`` or ``(k_h, k_w)``.
        stride: ``s_h`` or ``(s_h, s_w)``.
        dilation: ``d_h`` or ``(d_h, d_w)``.

    Returns:
        ``k_h * k_w`` distinct ``(r, c)`` pairs, in the order of the kernel entries.
    """
    k_h, k_w = _pair(kernel_size, "kernel_size")
    s_h, s_w = _pair(stride, "stride")
    d_h, d_w = _pair(dilation, "dilation")
    return [(row * s_h + a * d_h, col * s_w + b * d_w) for a in range(k_h) for b in range(k_w)]


def torch_output_shape(
    input_hw: Size2d,
    kernel_size: Size2d,
    padding: Size2d = 0,
    stride: Size2d = 1,
    dilation: Size2d = 1,
) -> tuple[int, int]:
    """The output ``(h, w)`` of a real ``nn.Conv2d`` run on zeros of shape ``input_hw``.

    Raises:
        RuntimeError: PyTorch's own error when the kernel does not fit.
    """
    conv = nn.Conv2d(
        1, 1, kernel_size, padding=padding, stride=stride, dilation=dilation, bias=False
    )
    with torch.no_grad():
        Y = conv(torch.zeros(1, 1, *_pair(input_hw, "input_hw")))  # (1, 1, h_out, w_out)
    return tuple(Y.shape[-2:])


def formula_text(n: int, k: int, p: int, s: int, d: int) -> str:
    """The output-size formula along one dimension, with the numbers filled in.

    ``"⌊(n + 2p − d(k − 1) − 1) / s⌋ + 1 = ⌊(6 + 2·1 − 1·(3 − 1) − 1) / 1⌋ + 1 = 6"``;
    the result is missing when the kernel does not fit.
    """
    text = f"⌊({n} + 2·{p} − {d}·({k} − 1) − 1) / {s}⌋ + 1"
    top = n + 2 * p - d * (k - 1) - 1
    return f"{text} = ⌊{top} / {s}⌋ + 1" + (f" = {top // s + 1}" if top >= 0 else "")


def conv_geometry(input_hw: tuple[int, int], k: int, p: int, s: int, d: int) -> dict:
    """Shapes of a square-kernel convolution, by the formula and by ``nn.Conv2d``.

    Returns:
        ``input_shape``, ``padded_shape``, ``formula`` (a line per dimension),
        ``output_shape`` and ``torch_shape`` (``None`` when the kernel does not fit),
        ``error`` (``None`` or :func:`cnnkit.shapes.conv2d_output_shape`'s message) and,
        when PyTorch refuses too, ``torch_error``.
    """
    n_h, n_w = input_hw
    state = {
        "input_shape": (n_h, n_w),
        "padded_shape": (n_h + 2 * p, n_w + 2 * p),
        "formula": [
            f"h_out = {formula_text(n_h, k, p, s, d)}",
            f"w_out = {formula_text(n_w, k, p, s, d)}",
        ],
        "output_shape": None,
        "torch_shape": None,
        "error": None,
    }
    try:
        state["output_shape"] = conv2d_output_shape((n_h, n_w), k, p, s, d)
    except ValueError as err:
        state["error"] = str(err)
    try:
        state["torch_shape"] = torch_output_shape((n_h, n_w), k, p, s, d)
    except RuntimeError as err:
        state["torch_error"] = str(err).splitlines()[0]
    return state


def _padded_input_png(
    input_hw: tuple[int, int],
    p: int,
    cells: list[tuple[int, int]],
    window: tuple[int, int, int, int] | None,
    cell_px: int,
) -> bytes:
    """The padded input: padding grey with zeros, the window pale, the read cells orange."""
    padded = (input_hw[0] + 2 * p, input_hw[1] + 2 * p)
    inside = np.zeros(padded, dtype=bool)
    inside[p : p + input_hw[0], p : p + input_hw[1]] = True
    fill = np.where(inside[..., None], COLORS["input"], COLORS["padding"])  # (*padded, 3)
    labels = np.where(inside, "", "0").tolist()
    if window is None:
        return grid_png(fill, labels=labels, cell=cell_px)
    r0, c0, r1, c1 = window
    in_window = np.zeros(padded, dtype=bool)
    in_window[r0 : r1 + 1, c0 : c1 + 1] = True
    fill[inside & in_window] = COLORS["window"]
    for r, c in cells:
        fill[r, c] = COLORS["read" if inside[r, c] else "read_padding"]
    return grid_png(fill, labels=labels, boxes=[window], cell=cell_px)


def conv_explorer(
    *,
    input_size: Size2d = 6,
    kernel_size: int = 3,
    padding: int = 1,
    stride: int = 1,
    dilation: int = 1,
) -> Explorer:
    """Explore how kernel size, padding, stride and dilation shape a convolution.

    Introduced in ``course/01_convolutions_padding_stride.ipynb``.

    Args:
        input_size: ``n`` or ``(n_h, n_w)``, each in 1..10.
        kernel_size: square kernel ``k``, 1..7.
        padding: zeros on each side ``p``, 0..4.
        stride: ``s``, 1..4.
        dilation: ``d``, 1..3.

    Returns:
        An :class:`~cnnkit.widgets._base.Explorer`. Controls: ``"n_h"``, ``"n_w"``,
        ``"kernel_size"``, ``"padding"``, ``"stride"``, ``"dilation"``, ``"row"`` and
        ``"col"`` (the chosen output cell; their ranges follow the output shape) and
        ``"play"`` (steps through the output cells row by row). State: ``input_shape``,
        ``padded_shape``, ``output_shape`` and ``torch_shape`` (``None`` on error),
        ``error`` (``None`` or the message shown), ``cell``, ``receptive_cells`` (padded
        coordinates), ``input_cells`` (the read cells inside the input, input
        coordinates), ``padding_cells_read``, ``formula`` (one line per dimension),
        ``kernel_size``, ``padding``, ``stride``, ``dilation``, and ``torch_error``
        (PyTorch's message) when ``nn.Conv2d`` refuses too.
    """
    n_h, n_w = _pair(input_size, "input_size")
    start = dict(zip(_RANGES, (n_h, n_w, kernel_size, padding, stride, dilation), strict=True))
    sliders = {}
    for name, value in start.items():
        lo, hi = _RANGES[name]
        if not (isinstance(value, int) and lo <= value <= hi):
            raise ValueError(f"{name} must be an int in {lo}..{hi}, got {value!r}")
        sliders[name] = widgets.IntSlider(value=value, min=lo, max=hi, description=name)
    row = widgets.IntSlider(value=0, min=0, max=0, description="output row")
    col = widgets.IntSlider(value=0, min=0, max=0, description="output col")
    play = widgets.Play(value=0, min=0, max=0, interval=700, description="play")
    formula, message = widgets.HTML(), widgets.HTML()
    in_title, out_title = widgets.HTML(), widgets.HTML()
    in_image, out_image = widgets.Image(format="png"), widgets.Image(format="png")
    quiet = Quiet()

    def on_play(change: dict) -> None:  # observed before the Explorer's own redraw
        if not quiet.active:
            with quiet():
                row.value, col.value = divmod(change["new"], col.max + 1)

    play.observe(on_play, names="value")

    def render() -> dict:
        n_h, n_w, k, p, s, d = (sliders[name].value for name in start)
        state = {
            "kernel_size": k,
            "padding": p,
            "stride": s,
            "dilation": d,
            "cell": None,
            "receptive_cells": [],
            "input_cells": [],
            "padding_cells_read": 0,
            **conv_geometry((n_h, n_w), k, p, s, d),
        }
        padded = state["padded_shape"]
        for control in (row, col, play):
            control.disabled = state["error"] is not None
        formula.value = "<br>".join(f"<code>{html.escape(x)}</code>" for x in state["formula"])
        in_title.value = f"<b>padded input</b> {padded[0]}×{padded[1]} (grey: zero padding)"
        cell_px = int(np.clip(440 // max(padded), 12, 30))
        if state["error"] is not None:
            message.value = error_html("convolve", state["error"])
            in_image.value = _padded_input_png((n_h, n_w), p, [], None, cell_px)
            out_title.value = "<b>output</b>: none"
            out_image.value = no_output_png(cell_px)
            return state
        h_out, w_out = state["output_shape"]
        with quiet():  # ranges follow the output shape; values are clamped, not redrawn
            row.max, col.max, play.max = h_out - 1, w_out - 1, h_out * w_out - 1
            play.value = row.value * w_out + col.value
        i, j = row.value, col.value
        cells = receptive_cells(i, j, k, s, d)
        inside = [(r - p, c - p) for r, c in cells if p <= r < n_h + p and p <= c < n_w + p]
        state.update(
            cell=(i, j),
            receptive_cells=cells,
            input_cells=inside,
            padding_cells_read=len(cells) - len(inside),
        )
        same = "equals" if state["output_shape"] == state["torch_shape"] else "DIFFERS FROM"
        message.value = (
            f"output shape {h_out}×{w_out} {same} nn.Conv2d's "
            f"{state['torch_shape'][0]}×{state['torch_shape'][1]}; output cell ({i}, {j}) "
            f"reads {len(cells)} cells, {state['padding_cells_read']} of them padding zeros"
        )
        window = (i * s, j * s, i * s + d * (k - 1), j * s + d * (k - 1))
        in_image.value = _padded_input_png((n_h, n_w), p, cells, window, cell_px)
        out_title.value = f"<b>output</b> {h_out}×{w_out} (blue: output cell ({i}, {j}))"
        out_image.value = output_grid_png((h_out, w_out), (i, j), cell=cell_px)
        return state

    controls = {**sliders, "row": row, "col": col, "play": play}
    legend = widgets.HTML(
        "orange: the cells the chosen output cell reads (greyish orange: padding zeros); "
        "pale yellow: inside the dilated window but skipped; red box: the window."
    )
    grids = widgets.HBox(
        [
            widgets.VBox([in_title, in_image], layout={"margin": "0 24px 0 0"}),
            widgets.VBox([out_title, out_image]),
        ]
    )
    sliders_list = list(sliders.values())
    return Explorer(
        controls,
        [
            widgets.HBox([widgets.VBox(sliders_list[:3]), widgets.VBox(sliders_list[3:])]),
            widgets.HBox([row, col, play]),
            formula,
            message,
            grids,
            legend,
        ],
        quiet.wrap(render),
    )
