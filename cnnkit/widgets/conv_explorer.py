"""Convolution explorer: which input cells one output cell reads, and the output shape.

Used in ``course/02_convolutions_padding_stride.ipynb``. Pick the input size, kernel size,
padding, stride and dilation, then an output cell (or press play to walk through them):
the padded input is drawn with the zero padding shaded and the cells that output cell
reads in orange; the output shape is worked out with the formula and compared with what
a real ``nn.Conv2d`` produces. A kernel larger than the padded input shows a message.

The geometry lives in the pure functions :func:`receptive_cells`, :func:`conv_geometry`
(which uses :func:`formula_text` and :func:`torch_output_shape`) and :func:`conv_state`
(one output cell too); :func:`describe_conv` says in words what the pictures show (their
text alternatives, and the text under them); :func:`conv_explorer` is layout and wiring.
"""

from __future__ import annotations

import html

import ipywidgets as widgets
import numpy as np
import torch
from torch import nn

from cnnkit.shapes import Size2d, _pair, conv2d_output_shape
from cnnkit.widgets._a11y import AltImage, span
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
    "conv_state",
    "describe_conv",
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
    Introduced in ``course/02_convolutions_padding_stride.ipynb``.

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


def conv_state(
    input_hw: tuple[int, int], k: int, p: int, s: int, d: int, cell: tuple[int, int] = (0, 0)
) -> dict:
    """Everything the convolution explorer shows for one setting and one output cell.

    Introduced in ``course/02_convolutions_padding_stride.ipynb``.

    Args:
        input_hw: ``(n_h, n_w)``.
        k, p, s, d: square kernel size, padding, stride and dilation.
        cell: the chosen output cell ``(i, j)``, clamped into the output grid.

    Returns:
        :func:`conv_geometry`'s keys plus ``kernel_size``, ``padding``, ``stride``,
        ``dilation``, ``cell``, ``receptive_cells`` (padded coordinates), ``input_cells``
        (the read cells inside the input, input coordinates), ``padding_cells_read`` and
        ``window`` (``(r0, c0, r1, c1)`` in padded coordinates); the cell keys are
        ``None``/empty when the kernel does not fit.
    """
    state = {
        "kernel_size": k,
        "padding": p,
        "stride": s,
        "dilation": d,
        "cell": None,
        "receptive_cells": [],
        "input_cells": [],
        "padding_cells_read": 0,
        "window": None,
        **conv_geometry(input_hw, k, p, s, d),
    }
    if state["error"] is not None:
        return state
    n_h, n_w = input_hw
    h_out, w_out = state["output_shape"]
    i, j = min(max(cell[0], 0), h_out - 1), min(max(cell[1], 0), w_out - 1)
    cells = receptive_cells(i, j, k, s, d)
    inside = [(r - p, c - p) for r, c in cells if p <= r < n_h + p and p <= c < n_w + p]
    state.update(
        cell=(i, j),
        receptive_cells=cells,
        input_cells=inside,
        padding_cells_read=len(cells) - len(inside),
        window=(i * s, j * s, i * s + d * (k - 1), j * s + d * (k - 1)),
    )
    return state


_ORDINAL = {2: "second", 3: "third"}


def describe_conv(state: dict) -> dict[str, str]:
    """What the explorer's pictures show, in words, from a :func:`conv_state`.

    Returns:
        ``input`` and ``output``: the text alternatives of the padded-input and output
        pictures; ``text``: one paragraph shown under them (the same facts).
    """
    (n_h, n_w), (P_h, P_w) = state["input_shape"], state["padded_shape"]
    k, p, s, d = (state[key] for key in ("kernel_size", "padding", "stride", "dilation"))
    setting = (
        f"input {n_h}×{n_w} with padding {p} (padded {P_h}×{P_w}), kernel {k}×{k}, "
        f"stride {s}, dilation {d}"
    )
    grid = (
        f"Padded input grid, {P_h}×{P_w}: the {n_h}×{n_w} input"
        + (f" inside {p} ring{'s' if p > 1 else ''} of zero padding" if p else ", no padding")
    )
    if state["error"] is not None:
        return {
            "input": f"{grid}. The {k}×{k} kernel does not fit, so nothing is highlighted.",
            "output": f"No output: {state['error']}",
            "text": f"{setting}: no output. {state['error']}",
        }
    (i, j), (h_out, w_out) = state["cell"], state["output_shape"]
    r0, c0, r1, c1 = state["window"]
    read, zeros = len(state["receptive_cells"]), state["padding_cells_read"]
    inside = state["input_cells"]
    where = (
        f"{len(inside)} input cell{'s' if len(inside) != 1 else ''} (input rows "
        f"{span([r for r, _ in inside])}, columns {span([c for _, c in inside])})"
        if inside
        else "no input cell"
    )
    reads = f"reads {read} cells: {where} and {zeros} padding zero{'s' if zeros != 1 else ''}"
    window = (
        f"The {k}×{k} window of output cell ({i}, {j}) spans padded rows {r0}–{r1} and "
        f"columns {c0}–{c1}" + (f", every {_ORDINAL.get(d, f'{d}th')} cell" if d > 1 else "")
    )
    value = (
        f"Output cell ({i}, {j}) is highlighted; its value is the sum of {read} products of "
        f"a kernel entry with a cell it reads"
        + (f" ({zeros} of them multiply a padding zero)" if zeros else "")
    )
    same = "as nn.Conv2d gives" if state["output_shape"] == state["torch_shape"] else (
        f"but nn.Conv2d gives {state['torch_shape']}")
    return {
        "input": f"{grid}. {window}; it {reads}.",
        "output": f"Output grid, {h_out}×{w_out}. {value}.",
        "text": (
            f"{setting}: output {h_out}×{w_out}, {same}. Output cell ({i}, {j}): window at "
            f"padded rows {r0}–{r1}, columns {c0}–{c1}; it {reads}."
        ),
    }


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

    Introduced in ``course/02_convolutions_padding_stride.ipynb``.

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
        ``kernel_size``, ``padding``, ``stride``, ``dilation``, ``window`` (padded
        coordinates), ``description`` (the pictures in words, :func:`describe_conv`), and
        ``torch_error`` (PyTorch's message) when ``nn.Conv2d`` refuses too.
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
    play = widgets.Play(value=0, min=0, max=0, interval=700, description="play",
                        tooltip="step through the output cells")  # fmt: skip
    formula, message, described = widgets.HTML(), widgets.HTML(), widgets.HTML()
    in_title, out_title = widgets.HTML(), widgets.HTML()
    in_image, out_image = AltImage(), AltImage()
    quiet = Quiet()

    def on_play(change: dict) -> None:  # observed before the Explorer's own redraw
        if not quiet.active:
            with quiet():
                row.value, col.value = divmod(change["new"], col.max + 1)

    play.observe(on_play, names="value")

    def render() -> dict:
        n_h, n_w, k, p, s, d = (sliders[name].value for name in start)
        state = conv_state((n_h, n_w), k, p, s, d, (row.value, col.value))
        words = describe_conv(state)
        state["description"] = words["text"]
        described.value = f"<p>{html.escape(words['text'])}</p>"
        padded = state["padded_shape"]
        for control in (row, col, play):
            control.disabled = state["error"] is not None
        formula.value = "<br>".join(f"<code>{html.escape(x)}</code>" for x in state["formula"])
        in_title.value = f"<b>padded input</b> {padded[0]}×{padded[1]} (grey: zero padding)"
        cell_px = int(np.clip(440 // max(padded), 12, 30))
        in_image.alt, out_image.alt = words["input"], words["output"]
        if state["error"] is not None:
            message.value = error_html("convolve", state["error"])
            in_image.value = _padded_input_png((n_h, n_w), p, [], None, cell_px)
            out_title.value = "<b>output</b>: none"
            out_image.value = no_output_png(cell_px)
            return state
        h_out, w_out = state["output_shape"]
        with quiet():  # ranges follow the output shape; values are clamped, not redrawn
            row.max, col.max, play.max = h_out - 1, w_out - 1, h_out * w_out - 1
            row.value, col.value = state["cell"]
            play.value = row.value * w_out + col.value
        i, j = state["cell"]
        cells = state["receptive_cells"]
        same = "equals" if state["output_shape"] == state["torch_shape"] else "DIFFERS FROM"
        message.value = (
            f"output shape {h_out}×{w_out} {same} nn.Conv2d's "
            f"{state['torch_shape'][0]}×{state['torch_shape'][1]}; output cell ({i}, {j}) "
            f"reads {len(cells)} cells, {state['padding_cells_read']} of them padding zeros"
        )
        in_image.value = _padded_input_png((n_h, n_w), p, cells, state["window"], cell_px)
        out_title.value = (
            f"<b>output</b> {h_out}×{w_out} (blue, outlined: output cell ({i}, {j}))"
        )
        out_image.value = output_grid_png((h_out, w_out), (i, j), cell=cell_px)
        return state

    controls = {**sliders, "row": row, "col": col, "play": play}
    legend = widgets.HTML(
        "orange: the cells the chosen output cell reads (greyish orange: padding zeros, "
        "marked 0); pale yellow: inside the dilated window but skipped; outlined box: the "
        "window. The text below says the same in words."
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
            described,  # the pictures in words
        ],
        quiet.wrap(render),
    )
