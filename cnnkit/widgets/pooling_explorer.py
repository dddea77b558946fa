"""Pooling explorer: max, average and min pooling on a small grid of numbers and on a photo.

Used in ``course/05_pooling.ipynb``. Pick the mode, window, stride and padding, then an
output cell: the padded grid is drawn with the chosen window highlighted, the output grid
with the pooled numbers, and a downscaled photo before and after pooling (each colour
channel pooled on its own). Every redraw checks the result against ``nn.MaxPool2d`` /
``nn.AvgPool2d``. Padding more than half the window, which PyTorch rejects, shows a message.

The computation is :func:`pool` (and the oracle :func:`torch_pool`) and :func:`pool_state`
(one setting and output cell of the number grid); :func:`describe_pooling` says in words
what the pictures show (their text alternatives, and the text under them);
:func:`pooling_explorer` is layout and wiring.
"""

from __future__ import annotations

import html

import ipywidgets as widgets
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from cnnkit.data import sample_image
from cnnkit.shapes import pool2d_output_shape
from cnnkit.widgets._a11y import AltImage, span
from cnnkit.widgets._base import Explorer, array_png
from cnnkit.widgets._grid import (
    COLORS,
    Quiet,
    error_html,
    grid_png,
    no_output_png,
    output_grid_png,
)
from cnnkit.widgets.kernel_playground import downscale

__all__ = ["MODES", "describe_pooling", "pool", "pool_state", "pooling_explorer", "torch_pool"]

MODES = ("max", "avg", "min")
# What a padding cell holds, so that it never changes the result (avg: zeros that count).
_FILL = {"max": -torch.inf, "avg": 0.0, "min": torch.inf}
_FILL_TEXT = {"max": "-inf", "avg": "0", "min": "inf"}


def pool(X: torch.Tensor, mode: str, window: int, stride: int, padding: int = 0) -> torch.Tensor:
    """Max, average or min pooling of every window at once (with ``Tensor.unfold``).

    Padding is ``-inf`` for max, ``+inf`` for min (it never wins) and zeros for average
    (counted in the mean, like ``nn.AvgPool2d``'s default). Introduced in
    ``course/05_pooling.ipynb``.

    Args:
        X: float input, shape ``(..., n_h, n_w)``; each leading index is pooled on its own.
        mode: ``"max"``, ``"avg"`` or ``"min"``.
        window: square window ``k``.
        stride: ``s``.
        padding: ``p`` on each side, at most ``k // 2``.

    Returns:
        ``(..., h_out, w_out)``, sizes as :func:`cnnkit.shapes.pool2d_output_shape`.

    Raises:
        ValueError: an unknown mode, too much padding or a window that does not fit.
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    pool2d_output_shape(tuple(X.shape[-2:]), window, stride, padding)  # raises if invalid
    X = F.pad(X, (padding,) * 4, value=_FILL[mode])  # (..., n_h + 2p, n_w + 2p)
    windows = X.unfold(-2, window, stride).unfold(-2, window, stride)  # (..., h_o, w_o, k, k)
    if mode == "avg":
        return windows.mean((-2, -1))
    return windows.amax((-2, -1)) if mode == "max" else windows.amin((-2, -1))


def torch_pool(
    X: torch.Tensor, mode: str, window: int, stride: int, padding: int = 0
) -> torch.Tensor:
    """The same pooling with PyTorch's layers; min pooling is ``-MaxPool2d(-X)``.

    Args:
        X: float input, shape ``(C, n_h, n_w)``.
    """
    if mode == "avg":
        return nn.AvgPool2d(window, stride, padding)(X)
    sign = 1 if mode == "max" else -1
    return sign * nn.MaxPool2d(window, stride, padding)(sign * X)


def _pooled_text(value: float, mode: str) -> str:
    return f"{value:.1f}" if mode == "avg" else f"{value:.0f}"


def pool_state(
    grid: torch.Tensor, mode: str, k: int, s: int, p: int, cell: tuple[int, int] = (0, 0)
) -> dict:
    """What the pooling explorer shows of its number grid, for one setting and output cell.

    Introduced in ``course/05_pooling.ipynb``.

    Args:
        grid: the numbers, ``(n, n)``.
        mode, k, s, p: as :func:`pool` (window ``k``, stride ``s``, padding ``p``).
        cell: the chosen output cell ``(i, j)``, clamped into the output grid.

    Returns:
        ``mode``, ``window``, ``stride``, ``padding``, ``grid`` (lists of ints),
        ``error`` (``None`` or why the setting is refused), ``output_shape``, ``output``,
        ``cell``, ``window_cells`` (input coordinates of the chosen window's cells inside
        the grid), ``window_box`` (``(r0, c0, r1, c1)``, padded coordinates) and
        ``cell_value``; the last six are ``None``/empty on error.
    """
    state = {"mode": mode, "window": k, "stride": s, "padding": p, "error": None,
             "grid": grid.int().tolist(), "output_shape": None, "output": None, "cell": None,
             "window_cells": [], "window_box": None, "cell_value": None}  # fmt: skip
    try:
        Y = pool(grid, mode, k, s, p)  # (h_out, w_out)
    except ValueError as err:
        state["error"] = str(err)
        return state
    n = grid.shape[-1]
    h_out, w_out = Y.shape
    i, j = min(max(cell[0], 0), h_out - 1), min(max(cell[1], 0), w_out - 1)
    r0, c0 = i * s, j * s  # top-left cell of the window, padded coordinates
    window_cells = [(r - p, c - p) for r in range(r0, r0 + k) for c in range(c0, c0 + k)
                    if p <= r < n + p and p <= c < n + p]  # fmt: skip
    state.update(output_shape=(h_out, w_out), output=Y.tolist(), cell=(i, j),
                 window_cells=window_cells, window_box=(r0, c0, r0 + k - 1, c0 + k - 1),
                 cell_value=float(Y[i, j]))  # fmt: skip
    return state


def describe_pooling(state: dict) -> dict[str, str]:
    """What the pooling explorer's pictures show, in words, from its state.

    Args:
        state: a :func:`pool_state`, with ``photo_shape`` and ``photo_output_shape``.

    Returns:
        ``grid_in``, ``grid_out``, ``photo_in``, ``photo_out``: text alternatives of the
        four pictures; ``text``: one paragraph shown under them (the same facts).
    """
    m, k, s, p = (state[key] for key in ("mode", "window", "stride", "padding"))
    n = len(state["grid"])
    rows = "; ".join(" ".join(map(str, row)) for row in state["grid"])
    grid_in = (f"Input grid {n}×{n} of digits, row by row: {rows}."
               + (f" Padding {p} all round, shown as {_FILL_TEXT[m]}." if p else ""))  # fmt: skip
    photo = "×".join(map(str, state["photo_shape"]))
    photo_in = f"Photo of a flower in colour, {photo} (channels × height × width)."
    if state["error"] is not None:
        return {"grid_in": grid_in, "grid_out": f"No output: {state['error']}",
                "photo_in": photo_in, "photo_out": "No output.",
                "text": f"{m} pooling, window {k}, stride {s}, padding {p}: no output. "
                        f"{state['error']}"}  # fmt: skip
    (i, j), (h_out, w_out) = state["cell"], state["output_shape"]
    values = sorted(state["grid"][r][c] for r, c in state["window_cells"])
    value = _pooled_text(state["cell_value"], m)
    r0, c0, r1, c1 = state["window_box"]
    box = (f"The {k}×{k} window of output cell ({i}, {j}) is outlined: padded rows "
           f"{span(list(range(r0, r1 + 1)))}, columns {span(list(range(c0, c1 + 1)))}")  # fmt: skip
    pads = k * k - len(values)
    read = ", ".join(map(str, values)) + (f" and {pads} padding {_FILL_TEXT[m]}" if pads else "")
    cells = f"it holds {read.removeprefix(' and ')}"
    out_rows = "; ".join(" ".join(_pooled_text(v, m) for v in row) for row in state["output"])
    pooled = "×".join(map(str, state["photo_output_shape"]))
    return {
        "grid_in": f"{grid_in} {box}; {cells}.",
        "grid_out": (f"{m} pooled grid {h_out}×{w_out}, row by row: {out_rows}. Output cell "
                     f"({i}, {j}) is highlighted and holds {value}."),
        "photo_in": photo_in,
        "photo_out": (f"The photo after {k}×{k} {m} pooling with stride {s}: {pooled}, "
                      f"coarser{' and brighter' if m == 'max' else ''}"
                      f"{' and darker' if m == 'min' else ''}."),
        "text": (f"{m} pooling, window {k}, stride {s}, padding {p}: grid {n}×{n} → "
                 f"{h_out}×{w_out}. Output cell ({i}, {j}) = {m} of "
                 f"{read.removeprefix(' and ')} = {value}."),
    }


def pooling_explorer(
    *, grid_size: int = 6, seed: int = 0, image: str = "flower", width: int = 96, scale: int = 2
) -> Explorer:
    """Explore max, average and min pooling, with padding and stride.

    Introduced in ``course/05_pooling.ipynb``.

    Args:
        grid_size: the number grid is ``grid_size x grid_size``, 2..10.
        seed: seeds the random digits 0..9 of the grid.
        image: ``"flower"`` or ``"china"`` (:func:`cnnkit.data.sample_image`).
        width: the photo is shrunk to this many columns first.
        scale: the photos are shown enlarged by this factor.

    Returns:
        An :class:`~cnnkit.widgets._base.Explorer`. Controls: ``"mode"`` (one of
        :data:`MODES`), ``"window"`` (1..4), ``"stride"`` (1..4), ``"padding"`` (0..2),
        ``"row"`` and ``"col"`` (the chosen output cell; their ranges follow the output
        shape). State: ``mode``, ``window``, ``stride``, ``padding``, ``error`` (``None`` or
        the message shown), ``grid`` (the input numbers), ``output_shape``, ``output``
        (the pooled grid as lists), ``cell``, ``window_cells`` (input coordinates of the
        chosen window's cells inside the grid), ``cell_value``, ``photo_shape``,
        ``photo_output_shape``, ``max_abs_diff_vs_torch`` (grid and photo together),
        ``window_box`` and ``description`` (the pictures in words).
    """
    if not 2 <= grid_size <= 10:
        raise ValueError(f"grid_size must be in 2..10, got {grid_size!r}")
    grid = torch.randint(
        0, 10, (grid_size, grid_size), generator=torch.Generator().manual_seed(seed)
    ).float()
    photo = downscale(sample_image(image), width)  # (3, h, w)
    mode = widgets.ToggleButtons(options=MODES, value="max", description="mode")
    sliders = {
        name: widgets.IntSlider(value=value, min=lo, max=hi, description=name)
        for name, value, lo, hi in [("window", 2, 1, 4), ("stride", 2, 1, 4), ("padding", 0, 0, 2)]
    }
    row = widgets.IntSlider(value=0, min=0, max=0, description="output row")
    col = widgets.IntSlider(value=0, min=0, max=0, description="output col")
    message, in_title, out_title = widgets.HTML(), widgets.HTML(), widgets.HTML()
    described = widgets.HTML()
    grid_in, grid_out = AltImage(), AltImage()
    photo_in = AltImage(value=array_png(photo, scale=scale))
    photo_out, photo_title = AltImage(), widgets.HTML()
    pictures = {"grid_in": grid_in, "grid_out": grid_out, "photo_in": photo_in,
                "photo_out": photo_out}  # fmt: skip
    quiet = Quiet()

    def render() -> dict:
        m, k, s, p = mode.value, *(sliders[n].value for n in ("window", "stride", "padding"))
        state = {**pool_state(grid, m, k, s, p, (row.value, col.value)),
                 "photo_shape": tuple(photo.shape), "photo_output_shape": None,
                 "max_abs_diff_vs_torch": None}  # fmt: skip
        padded = grid_size + 2 * p
        inside = np.zeros((padded, padded), dtype=bool)
        inside[p : p + grid_size, p : p + grid_size] = True
        fill = np.where(inside[..., None], COLORS["input"], COLORS["padding"])  # (P, P, 3)
        labels = [[_FILL_TEXT[m] for _ in range(padded)] for _ in range(padded)]
        for r, values in enumerate(state["grid"]):
            labels[r + p][p : p + grid_size] = [str(v) for v in values]
        cell_px = 34 if padded <= 10 else 26
        in_title.value = f"<b>input</b> {grid_size}×{grid_size}, padding {p} (grey)"
        if state["error"] is not None:
            row.disabled = col.disabled = True
            message.value = error_html("pool", state["error"])
            grid_in.value = grid_png(fill, labels=labels, cell=cell_px)
            out_title.value = photo_title.value = "<b>output</b>: none"
            grid_out.value = photo_out.value = no_output_png(cell_px)
            return describe(state)
        row.disabled = col.disabled = False
        Y = torch.tensor(state["output"])  # (h_out, w_out)
        Y_photo = pool(photo, m, k, s, p)  # (3, h_out, w_out)
        diff = max(
            float((Y - torch_pool(grid[None], m, k, s, p)[0]).abs().max()),
            float((Y_photo - torch_pool(photo, m, k, s, p)).abs().max()),
        )
        h_out, w_out = state["output_shape"]
        with quiet():  # ranges follow the output shape; values are clamped, not redrawn
            row.max, col.max = h_out - 1, w_out - 1
            row.value, col.value = state["cell"]
        i, j = state["cell"]
        r0, c0, r1, c1 = state["window_box"]
        fill[r0 : r1 + 1, c0 : c1 + 1] = COLORS["read"]
        state.update(photo_output_shape=tuple(Y_photo.shape), max_abs_diff_vs_torch=diff)
        grid_in.value = grid_png(fill, labels=labels, boxes=[state["window_box"]], cell=cell_px)
        out_labels = [[_pooled_text(v, m) for v in values] for values in state["output"]]
        grid_out.value = output_grid_png((h_out, w_out), (i, j), labels=out_labels, cell=cell_px)
        out_title.value = f"<b>{m} pooled</b> {h_out}×{w_out}"
        photo_out.value = array_png(Y_photo, scale=scale)
        photo_title.value = f"<b>{m} pooled</b> {tuple(Y_photo.shape)}"
        message.value = (
            f"output cell ({i}, {j}) = {m} of its {k}×{k} window = "
            f"{_pooled_text(state['cell_value'], m)}; grid {grid_size}×{grid_size} → "
            f"{h_out}×{w_out}, photo {tuple(photo.shape)} → {tuple(Y_photo.shape)} (channels "
            f"unchanged); largest difference to PyTorch's pooling layers: {diff:.1e}"
        )
        return describe(state)

    def describe(state: dict) -> dict:
        words = describe_pooling(state)
        for key, image_widget in pictures.items():
            image_widget.alt = words[key]
        described.value = f"<p>{html.escape(words['text'])}</p>"
        return {**state, "description": words["text"]}

    def column(title: widgets.HTML, image_widget: widgets.Image) -> widgets.VBox:
        return widgets.VBox([title, image_widget], layout={"margin": "0 24px 0 0"})

    grids = widgets.HBox([column(in_title, grid_in), column(out_title, grid_out)])
    photos = widgets.HBox(
        [
            column(widgets.HTML(f"<b>photo</b> {tuple(photo.shape)}"), photo_in),
            column(photo_title, photo_out),
        ]
    )
    controls = {"mode": mode, **sliders, "row": row, "col": col}
    return Explorer(
        controls,
        [
            mode,
            widgets.HBox(list(sliders.values())),
            widgets.HBox([row, col]),
            message,
            grids,
            photos,
            described,  # the pictures in words
        ],
        quiet.wrap(render),
    )
