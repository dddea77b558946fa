"""Kernel playground: a hand-made 3x3 kernel applied to a real photo, before and after.

Used in ``course/02_convolutions_padding_stride.ipynb``. Pick a classic kernel (edges,
Sobel, Laplacian, blur, sharpen, emboss) or type your own into the 3x3 grid; the photo is
convolved (``F.conv2d``, zero padding 1, so the output has the input's size) in grey or
per colour channel.

The computation is :func:`apply_kernel`, :func:`display_mode` and :func:`to_display`;
:data:`PRESETS` holds the kernels; :func:`describe_kernel` says in words what the pictures
show; :func:`kernel_playground` is layout and wiring.
"""

from __future__ import annotations

import html

import ipywidgets as widgets
import torch
import torch.nn.functional as F

from cnnkit.data import sample_image
from cnnkit.widgets._a11y import AltImage
from cnnkit.widgets._base import Explorer, array_png
from cnnkit.widgets._grid import Quiet, link_presets

__all__ = [
    "PRESETS",
    "apply_kernel",
    "describe_kernel",
    "display_mode",
    "downscale",
    "kernel_playground",
    "to_display",
]

#: Classic 3x3 kernels, as rows. "vertical" edges are changes from left to right.
PRESETS: dict[str, list[list[float]]] = {
    "identity": [[0, 0, 0], [0, 1, 0], [0, 0, 0]],
    "edge (vertical)": [[-1, 0, 1], [-1, 0, 1], [-1, 0, 1]],
    "edge (horizontal)": [[-1, -1, -1], [0, 0, 0], [1, 1, 1]],
    "Sobel x": [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]],
    "Sobel y": [[-1, -2, -1], [0, 0, 0], [1, 2, 1]],
    "Laplacian": [[0, 1, 0], [1, -4, 1], [0, 1, 0]],
    "box blur": [[1 / 9] * 3] * 3,
    "Gaussian blur": [[1 / 16, 2 / 16, 1 / 16], [2 / 16, 4 / 16, 2 / 16], [1 / 16, 2 / 16, 1 / 16]],
    "sharpen": [[0, -1, 0], [-1, 5, -1], [0, -1, 0]],
    "emboss": [[-2, -1, 0], [-1, 1, 1], [0, 1, 2]],
}
CUSTOM = "custom"
#: How a result with values outside [0, 1] is shown.
DISPLAYS = ("auto", "clip", "abs", "stretch")
#: ITU-R BT.601 luminance weights of R, G, B.
LUMA = (0.299, 0.587, 0.114)


def downscale(image: torch.Tensor, width: int) -> torch.Tensor:
    """Shrink a ``(C, H, W)`` image to ``width`` columns, keeping its aspect ratio.

    Area averaging (each output pixel is the mean of the input pixels it covers), so that
    fine texture does not alias.
    """
    C, H, W = image.shape
    height = max(1, round(H * width / W))
    return F.interpolate(image[None], size=(height, width), mode="area")[0]  # (C, h, w)


def apply_kernel(X: torch.Tensor, K: torch.Tensor, *, grey: bool = True) -> torch.Tensor:
    """Cross-correlate an RGB image with one ``(k, k)`` kernel (odd ``k``), size kept.

    Introduced in ``course/02_convolutions_padding_stride.ipynb``.

    Args:
        X: image, shape ``(3, H, W)``.
        K: kernel, shape ``(k, k)`` with ``k`` odd; zero padding ``k // 2`` keeps ``H, W``.
        grey: convert to luminance first (one output channel) instead of filtering each
            colour channel with the same kernel.

    Returns:
        ``(1, H, W)`` if ``grey`` else ``(3, H, W)``.
    """
    k = K.shape[-1]
    if grey:
        X = torch.tensordot(torch.tensor(LUMA, dtype=X.dtype), X, dims=1)[None]  # (1, H, W)
    c = X.shape[0]
    weight = K.to(X.dtype).expand(c, 1, k, k)  # one (1, k, k) kernel per channel
    return F.conv2d(X[None], weight, padding=k // 2, groups=c)[0]  # (c, H, W)


def display_mode(K: torch.Tensor, requested: str = "auto") -> str:
    """The display mode for kernel ``K``: ``requested``, unless it is ``"auto"``.

    ``"auto"`` means ``"abs"`` for a kernel whose entries sum to 0 (an edge detector: flat
    regions give 0, edges give large values of either sign) and ``"clip"`` otherwise.
    """
    if requested != "auto":
        return requested
    return "abs" if abs(float(K.sum())) < 1e-6 else "clip"


def to_display(Y: torch.Tensor, mode: str) -> torch.Tensor:
    """Map a filtered image to ``[0, 1]`` for display.

    ``"clip"`` cuts values outside ``[0, 1]``; ``"abs"`` shows ``|Y|`` (clipped at 1);
    ``"stretch"`` maps ``min..max`` to ``0..1``.
    """
    if mode == "abs":
        return Y.abs().clamp(0, 1)
    if mode == "stretch":
        lo, hi = Y.min(), Y.max()
        return (Y - lo) / (hi - lo) if hi > lo else torch.zeros_like(Y)
    return Y.clamp(0, 1)


_SHOWN_AS = {
    "clip": "values below 0 shown black, above 1 white",
    "abs": "the size of each value shown, whatever its sign (bright: large)",
    "stretch": "the smallest value shown black, the largest white",
}


def describe_kernel(state: dict, *, image: str = "flower") -> dict[str, str]:
    """What the kernel playground's two pictures show, in words, from its state.

    Returns:
        ``before`` and ``after``: text alternatives of the photo and of the filtered
        photo; ``text``: one paragraph shown under them.
    """
    C, H, W = state["input_shape"]
    kernel = "; ".join(" ".join(f"{v:g}" for v in row) for row in state["kernel"])
    name = state["preset"] if state["preset"] != "custom" else "a custom kernel"
    colour = "in grey (luminance)" if state["grey"] else "per colour channel"
    stats = (f"values from {state['out_min']:.2f} to {state['out_max']:.2f}, mean "
             f"{state['out_mean']:.2f}")  # fmt: skip
    after = (f"The {image} photo after {name} (rows: {kernel}), {colour}, {H}×{W}: {stats}; "
             f"{_SHOWN_AS[state['display']]}.")  # fmt: skip
    return {
        "before": f"Photo of a {image} in colour, {H}×{W} pixels.",
        "after": after,
        "text": (f"Kernel {name}, rows {kernel} (sum {state['kernel_sum']:.2f}), applied "
                 f"{colour} with zero padding 1: output {tuple(state['output_shape'])}, "
                 f"{stats}; shown as {state['display']}: {_SHOWN_AS[state['display']]}."),
    }


def kernel_playground(*, image: str = "flower", width: int = 160, scale: int = 2) -> Explorer:
    """Apply a preset or hand-edited 3x3 kernel to a real photo.

    Introduced in ``course/02_convolutions_padding_stride.ipynb``.

    Args:
        image: ``"flower"`` or ``"china"`` (:func:`cnnkit.data.sample_image`).
        width: the photo is shrunk to this many columns first, so each redraw is fast.
        scale: the images are shown enlarged by this factor.

    Returns:
        An :class:`~cnnkit.widgets._base.Explorer`. Controls: ``"preset"`` (a name of
        :data:`PRESETS` or ``"custom"``), ``"k00"`` .. ``"k22"`` (kernel entry ``K[r, c]``
        is ``"k{r}{c}"``; a preset fills them, editing one switches the preset to
        ``"custom"``), ``"grey"`` and ``"display"`` (one of :data:`DISPLAYS`). State:
        ``preset``, ``kernel`` (3x3 list), ``kernel_sum``, ``grey``, ``display`` (the mode
        used), ``input_shape``, ``output_shape``, ``out_min``, ``out_max``, ``out_mean``,
        ``description`` (the pictures in words, :func:`describe_kernel`).
    """
    X = downscale(sample_image(image), width)  # (3, h, w)
    preset = widgets.Dropdown(options=[*PRESETS, CUSTOM], value="Sobel x", description="preset")
    cells = {
        f"k{r}{c}": widgets.FloatText(  # a visible label, which screen readers read too
            value=PRESETS["Sobel x"][r][c], step=0.1, description=f"K[{r},{c}]",
            style={"description_width": "40px"}, layout={"width": "120px"},
        )
        for r in range(3)
        for c in range(3)
    }
    grey = widgets.Checkbox(value=True, description="grey (else per colour channel)")
    display = widgets.Dropdown(options=DISPLAYS, value="auto", description="display")
    before = AltImage(value=array_png(X, scale=scale))
    after, stats, described = AltImage(), widgets.HTML(), widgets.HTML()
    quiet = Quiet()

    link_presets(preset, cells, PRESETS, quiet, custom=CUSTOM)

    def render() -> dict:
        K = torch.tensor([[cells[f"k{r}{c}"].value for c in range(3)] for r in range(3)])
        Y = apply_kernel(X, K, grey=grey.value)  # (1 or 3, h, w)
        mode = display_mode(K, display.value)
        after.value = array_png(to_display(Y, mode), scale=scale)
        state = {
            "preset": preset.value,
            "kernel": K.tolist(),
            "kernel_sum": float(K.sum()),
            "grey": grey.value,
            "display": mode,
            "input_shape": tuple(X.shape),
            "output_shape": tuple(Y.shape),
            "out_min": float(Y.min()),
            "out_max": float(Y.max()),
            "out_mean": float(Y.mean()),
        }
        stats.value = (
            f"output {tuple(Y.shape)}: min {state['out_min']:.2f}, max {state['out_max']:.2f}, "
            f"mean {state['out_mean']:.2f}; kernel sum {state['kernel_sum']:.2f}; shown as "
            f"<b>{mode}</b>"
        )
        words = describe_kernel(state, image=image)
        before.alt, after.alt = words["before"], words["after"]
        described.value = f"<p>{html.escape(words['text'])}</p>"
        return {**state, "description": words["text"]}

    grid = widgets.GridBox(
        list(cells.values()), layout={"grid_template_columns": "repeat(3, 124px)"}
    )
    images = widgets.HBox(
        [
            widgets.VBox([widgets.HTML("<b>photo</b>"), before]),
            widgets.VBox([widgets.HTML("<b>after the kernel</b>"), after]),
        ]
    )
    controls = {"preset": preset, **cells, "grey": grey, "display": display}
    header = widgets.HBox(
        [
            widgets.VBox([preset, grey, display]),
            widgets.VBox([widgets.HTML("kernel <code>K</code>"), grid]),
        ]
    )
    return Explorer(controls, [header, stats, images, described], quiet.wrap(render))
