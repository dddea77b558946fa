"""Channel mixer: a 1x1 convolution on an RGB photo, as a matrix of sliders.

Used in ``course/04_channels.ipynb``. A 1x1 convolution with ``c_i = 3`` input and ``c_o``
output channels is a ``c_o x 3`` matrix ``K``: at every pixel, output channel ``o`` is
``K[o, 0]*R + K[o, 1]*G + K[o, 2]*B``. The widget shows the three input channels, each
output channel, and the output channels recombined as a colour image, and checks on every
redraw that the matrix product equals ``F.conv2d`` with the ``(c_o, 3, 1, 1)`` kernel.

The computation is :func:`mix_channels`; :func:`describe_mix` says in words what the
pictures show; :func:`channel_mixer` is layout and wiring.
"""

from __future__ import annotations

import html

import ipywidgets as widgets
import torch
import torch.nn.functional as F

from cnnkit.data import sample_image
from cnnkit.ops import corr2d_multi_in_out_1x1
from cnnkit.widgets._a11y import AltImage
from cnnkit.widgets._base import Explorer, array_png
from cnnkit.widgets._grid import Quiet, link_presets
from cnnkit.widgets.kernel_playground import LUMA, downscale

__all__ = ["PRESETS", "channel_mixer", "describe_mix", "mix_channels", "recombine"]


def _saturate(s: float) -> list[list[float]]:
    """Rows of a saturation change by factor ``s`` (0: grey, 1: unchanged)."""
    return [[(1 - s) * LUMA[i] + s * (i == o) for i in range(3)] for o in range(3)]


#: 3x3 mixing matrices, ``K[o][i]``: output channel ``o`` takes ``K[o][i]`` of input ``i``.
PRESETS: dict[str, list[list[float]]] = {
    "identity": [[1, 0, 0], [0, 1, 0], [0, 0, 1]],
    "greyscale (luminance)": [list(LUMA)] * 3,
    "swap R/B": [[0, 0, 1], [0, 1, 0], [1, 0, 0]],
    "sepia": [[0.393, 0.769, 0.189], [0.349, 0.686, 0.168], [0.272, 0.534, 0.131]],
    "red only": [[1, 0, 0], [0, 0, 0], [0, 0, 0]],
    "more saturated": [[round(v, 3) for v in row] for row in _saturate(1.8)],
    "green minus red": [[0, 0, 0], [-1, 1, 0], [0, 0, 0]],
}
CUSTOM = "custom"
_NAMES = "RGB"


def mix_channels(X: torch.Tensor, K: torch.Tensor) -> tuple[torch.Tensor, float]:
    """A 1x1 convolution as a matrix product, and its distance to ``F.conv2d``.

    Introduced in ``course/04_channels.ipynb``.

    Args:
        X: image, shape ``(c_i, h, w)``.
        K: mixing matrix, shape ``(c_o, c_i)``.

    Returns:
        ``Y`` of shape ``(c_o, h, w)`` (computed as ``K @ X`` over the pixels), and the
        largest absolute difference to ``F.conv2d(X, K[:, :, None, None])``.
    """
    weight = K[:, :, None, None]  # (c_o, c_i, 1, 1)
    Y = corr2d_multi_in_out_1x1(X, weight)  # (c_o, h, w)
    reference = F.conv2d(X[None], weight)[0]  # (c_o, h, w)
    return Y, float((Y - reference).abs().max())


def recombine(Y: torch.Tensor) -> torch.Tensor:
    """Show ``c_o`` output channels as one image: grey for 1, else R, G(, B), clipped."""
    if Y.shape[0] == 1:
        return Y[0].clamp(0, 1)  # (h, w)
    return F.pad(Y[:3], (0, 0, 0, 0, 0, 3 - min(3, Y.shape[0]))).clamp(0, 1)  # (3, h, w)


def describe_mix(state: dict, *, image: str = "flower") -> dict[str, list[str] | str]:
    """What the channel mixer's pictures show, in words, from its state.

    Returns:
        ``inputs``: text alternatives of the photo and its R, G, B channels; ``outputs``:
        of the recombined output and each output channel; ``text``: one paragraph.
    """
    C, H, W = state["input_shape"]
    c_o = len(state["K"])

    def formula(o: int) -> str:
        return " + ".join(f"{k:.3g}·{_NAMES[i]}" for i, k in enumerate(state["K"][o]))

    inputs = [f"Photo of a {image} in colour, {H}×{W} pixels."] + [
        f"Input channel {name} of the photo in grey: bright where the photo has much {word}."
        for name, word in zip(_NAMES, ("red", "green", "blue"), strict=True)
    ]
    channels = [
        f"Output channel {o} = {formula(o)} at every pixel, in grey; values from "
        f"{state['out_min'][o]:.2f} to {state['out_max'][o]:.2f}."
        for o in range(c_o)
    ]
    shown = "in grey" if c_o == 1 else f"as {', '.join(_NAMES[:c_o])} of a colour image"
    clipped = f"{state['clipped_fraction']:.1%} of its values clipped to [0, 1]"
    recombined = f"The {c_o} output channel{'s' if c_o > 1 else ''} shown {shown}; {clipped}."
    text = (f"1x1 convolution with {c_o} output channel{'s' if c_o > 1 else ''} ("
            f"{state['preset']}): " + "; ".join(f"out {o} = {formula(o)}" for o in range(c_o))
            + f". Output {tuple(state['output_shape'])}, {clipped}.")  # fmt: skip
    return {"inputs": inputs, "outputs": [recombined, *channels], "text": text}


def channel_mixer(
    *, image: str = "flower", width: int = 144, c_o: int = 3, scale: int = 1
) -> Explorer:
    """Mix the colour channels of a photo with a 1x1 convolution.

    Introduced in ``course/04_channels.ipynb``.

    Args:
        image: ``"flower"`` or ``"china"`` (:func:`cnnkit.data.sample_image`).
        width: the photo is shrunk to this many columns first, so each redraw is fast.
        c_o: output channels, 1..3 (a preset fills its first ``c_o`` rows).
        scale: the images are shown enlarged by this factor.

    Returns:
        An :class:`~cnnkit.widgets._base.Explorer`. Controls: ``"preset"`` (a name of
        :data:`PRESETS` or ``"custom"``) and one slider per matrix entry, ``"k{o}{i}"``
        for ``K[o, i]`` (output channel ``o``, input channel ``i`` = R, G, B). State:
        ``preset``, ``K`` (``c_o x 3`` list), ``input_shape``, ``output_shape``,
        ``out_min`` and ``out_max`` (per output channel), ``clipped_fraction`` (of the
        recombined image's values outside [0, 1]), ``max_abs_diff_vs_conv2d``,
        ``description`` (the pictures in words, :func:`describe_mix`).
    """
    if c_o not in (1, 2, 3):
        raise ValueError(f"c_o must be 1, 2 or 3 (shown as grey or R, G, B), got {c_o!r}")
    X = downscale(sample_image(image), width)  # (3, h, w)
    presets = {name: rows[:c_o] for name, rows in PRESETS.items()}
    preset = widgets.Dropdown(options=[*presets, CUSTOM], value="identity", description="preset")
    sliders = {
        f"k{o}{i}": widgets.FloatSlider(
            value=presets["identity"][o][i],
            min=-1,
            max=2,
            step=0.001,
            readout_format=".3f",
            description=f"{_NAMES[i]}→out {o}",
            layout={"width": "260px"},
        )
        for o in range(c_o)
        for i in range(3)
    }
    quiet = Quiet()
    link_presets(preset, sliders, presets, quiet, custom=CUSTOM)
    inputs = [AltImage(value=array_png(X, scale=scale))]
    inputs += [AltImage(value=array_png(x, scale=scale)) for x in X]
    outputs = [AltImage() for _ in range(c_o + 1)]
    stats, described = widgets.HTML(), widgets.HTML()

    def render() -> dict:
        K = torch.tensor([[sliders[f"k{o}{i}"].value for i in range(3)] for o in range(c_o)])
        Y, diff = mix_channels(X, K)  # (c_o, h, w)
        shown = recombine(Y)
        outputs[0].value = array_png(shown, scale=scale)
        for image_widget, y in zip(outputs[1:], Y, strict=True):
            image_widget.value = array_png(y, scale=scale)
        clipped = float(((Y[:3] < 0) | (Y[:3] > 1)).float().mean())
        stats.value = (
            f"1x1 convolution, kernel {(c_o, 3, 1, 1)}: output {tuple(Y.shape)}; the matrix "
            f"product differs from <code>F.conv2d</code> by at most {diff:.1e}; "
            f"{clipped:.0%} of the output values lie outside [0, 1] and are shown clipped."
        )
        state = {
            "preset": preset.value,
            "K": K.tolist(),
            "input_shape": tuple(X.shape),
            "output_shape": tuple(Y.shape),
            "out_min": Y.amin((1, 2)).tolist(),
            "out_max": Y.amax((1, 2)).tolist(),
            "clipped_fraction": clipped,
            "max_abs_diff_vs_conv2d": diff,
        }
        words = describe_mix(state, image=image)
        for image_widget, alt in zip(inputs + outputs, words["inputs"] + words["outputs"],
                                     strict=True):  # fmt: skip
            image_widget.alt = alt
        described.value = f"<p>{html.escape(words['text'])}</p>"
        return {**state, "description": words["text"]}

    def column(title: str, image_widget: widgets.Image) -> widgets.VBox:
        return widgets.VBox([widgets.HTML(f"<b>{title}</b>"), image_widget])

    matrix = widgets.GridBox(
        list(sliders.values()), layout={"grid_template_columns": "repeat(3, 265px)"}
    )
    titles = ["photo", "input R", "input G", "input B"]
    in_row = widgets.HBox([column(t, im) for t, im in zip(titles, inputs, strict=True)])
    out_titles = ["output recombined"] + [f"output {o}" for o in range(c_o)]
    out_row = widgets.HBox([column(t, im) for t, im in zip(out_titles, outputs, strict=True)])
    return Explorer(
        {"preset": preset, **sliders},
        [preset, matrix, stats, in_row, out_row, described],
        quiet.wrap(render),
    )
