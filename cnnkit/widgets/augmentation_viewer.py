"""Random data augmentation on a real photo (``course/11_transfer_learning.ipynb``).

:func:`build_augmentation` turns a few numbers into a ``torchvision.transforms.v2``
pipeline (random resized crop, horizontal flip, rotation, colour jitter; a transform
whose setting is 0 is left out), and :func:`augment_samples` draws ``n`` augmented
copies of one image, the same ones for the same ``seed``. The widget shows them as a
grid next to the original; "resample" draws the next seed.
"""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as widgets
import torch
from torchvision.transforms import v2
from torchvision.utils import make_grid

from cnnkit.widgets._a11y import AltImage
from cnnkit.widgets._base import Explorer, array_png

__all__ = [
    "augment_samples",
    "augmentation_viewer",
    "build_augmentation",
    "describe_augmentation",
    "downscale",
]


def downscale(image: torch.Tensor, *, height: int = 128) -> torch.Tensor:
    """Shrink an image ``(C, H, W)`` to ``height`` rows, keeping its aspect ratio (antialiased)."""
    C, H, W = image.shape
    if H <= height:
        return image
    width = max(1, round(W * height / H))
    return v2.functional.resize(image, [height, width], antialias=True).clamp(0, 1)


def build_augmentation(
    *,
    crop_scale: float = 1.0,
    flip_p: float = 0.0,
    degrees: float = 0.0,
    brightness: float = 0.0,
    contrast: float = 0.0,
    saturation: float = 0.0,
    hue: float = 0.0,
    size: tuple[int, int] | None = None,
) -> v2.Compose:
    """A training-time augmentation pipeline; settings of 0 (or ``crop_scale=1``) are left out.

    Args:
        crop_scale: smallest fraction of the image's area a random crop keeps; the crop
            is resized back to ``size`` (``v2.RandomResizedCrop(size, scale=(crop_scale, 1))``).
        flip_p: probability of a horizontal (left-right) flip.
        degrees: rotate by an angle drawn uniformly from ``[-degrees, degrees]``.
        brightness, contrast, saturation: jitter factors drawn from ``[1 - b, 1 + b]``.
        hue: hue shift drawn from ``[-hue, hue]`` (at most 0.5, half the colour circle).
        size: ``(H, W)`` of the crops; required when ``crop_scale < 1``.

    Returns:
        A ``v2.Compose`` that takes and returns an image tensor ``(C, H, W)`` (holding
        just ``v2.Identity()`` when every setting is off).
    """
    steps: list[torch.nn.Module] = []
    if not 0 < crop_scale <= 1:
        raise ValueError(f"crop_scale must be in (0, 1], got {crop_scale!r}")
    if crop_scale < 1:
        if size is None:
            raise ValueError("size=(H, W) is needed for a random resized crop (crop_scale < 1)")
        steps.append(v2.RandomResizedCrop(size, scale=(crop_scale, 1.0), antialias=True))
    if flip_p > 0:
        steps.append(v2.RandomHorizontalFlip(p=flip_p))
    if degrees > 0:
        steps.append(v2.RandomRotation(degrees))
    if brightness or contrast or saturation or hue:
        steps.append(v2.ColorJitter(brightness=brightness, contrast=contrast,
                                    saturation=saturation, hue=hue))  # fmt: skip
    return v2.Compose(steps or [v2.Identity()])  # Compose needs at least one transform


def augment_samples(
    image: torch.Tensor, *, n: int = 8, seed: int = 0, **params: Any
) -> torch.Tensor:
    """``n`` random augmentations of ``image``, the same ones for the same ``seed``.

    The global random state is left as it was (the draws happen in a forked generator).

    Args:
        image: float ``(C, H, W)`` in ``[0, 1]``.
        n: how many augmented copies.
        seed: seeds the random draws.
        **params: the settings of :func:`build_augmentation` (``size`` defaults to the
            image's ``(H, W)``).

    Returns:
        A tensor ``(n, C, H, W)`` in ``[0, 1]``.
    """
    if image.ndim != 3:
        raise ValueError(f"image must be (C, H, W), got shape {tuple(image.shape)}")
    params.setdefault("size", tuple(image.shape[-2:]))
    augment = build_augmentation(**params)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return torch.stack([augment(image) for _ in range(n)])


def describe_augmentation(state: dict[str, Any], image_shape: tuple[int, ...]) -> dict[str, str]:
    """What the augmentation viewer's pictures show, in words, from its state.

    Returns:
        ``original`` and ``samples``: text alternatives of the photo and of the grid of
        augmented copies; ``text``: one paragraph shown under them.
    """
    C, H, W = image_shape
    q = state["params"]
    settings = [
        f"random crops keeping {q['crop_scale']:.0%} to 100% of the area, resized back"
        if q["crop_scale"] < 1 else "",
        f"a left-right flip with probability {q['flip_p']:.0%}" if q["flip_p"] else "",
        f"rotation by up to ±{q['degrees']}°" if q["degrees"] else "",
        ", ".join(f"{k} ±{q[k]:.0%}" for k in ("brightness", "contrast", "saturation")
                  if q[k]),
        f"hue shifts up to ±{q['hue']:.2f} of the colour circle" if q["hue"] else "",
    ]
    settings = [t for t in settings if t]
    how = "; ".join(settings) if settings else "no augmentation: every copy equals the photo"
    n = state["n"]
    samples = (f"{n} augmented copies of the photo (seed {state['seed']}), "
               f"{min(4, n)} per row, each {state['sample_shape'][1]}×{state['sample_shape'][2]}: "
               f"{how}.")  # fmt: skip
    return {"original": f"The original photo, a flower in colour, {H}×{W} pixels.",
            "samples": samples,
            "text": (f"{samples} Transforms in order: "
                     f"{' → '.join(state['transforms']) or 'none'}.")}  # fmt: skip


def augmentation_viewer(image: torch.Tensor | None = None, *, n: int = 8) -> Explorer:
    """Explore augmentation settings on a photo (``course/11_transfer_learning.ipynb``).

    Args:
        image: float ``(C, H, W)`` in ``[0, 1]``; default: scikit-learn's flower photo,
            downscaled to 96 rows. Larger images are downscaled the same way.
        n: augmented samples per draw (shown 4 per row).

    Returns:
        An :class:`Explorer` with controls ``"crop_scale"``, ``"flip_p"``, ``"degrees"``,
        ``"brightness"``, ``"contrast"``, ``"saturation"``, ``"hue"``, ``"seed"`` and the
        button ``"resample"`` (next seed), and state keys ``seed``, ``params`` (the
        settings), ``transforms`` (names of the active transforms), ``n``,
        ``sample_shape`` and ``description`` (:func:`describe_augmentation`).
    """
    if image is None:
        from cnnkit.data import sample_image

        image = sample_image("flower")
    image = downscale(image, height=96)

    def slider(cls: type, value: float, lo: float, hi: float, step: float, label: str):
        return cls(value=value, min=lo, max=hi, step=step, description=label,
                   continuous_update=False, style={"description_width": "initial"})  # fmt: skip

    controls: dict[str, widgets.Widget] = {
        "crop_scale": slider(widgets.FloatSlider, 0.5, 0.08, 1.0, 0.02, "crop: min area"),
        "flip_p": slider(widgets.FloatSlider, 0.5, 0.0, 1.0, 0.1, "flip probability"),
        "degrees": slider(widgets.IntSlider, 15, 0, 180, 5, "rotation ±degrees"),
        "brightness": slider(widgets.FloatSlider, 0.3, 0.0, 1.0, 0.05, "brightness"),
        "contrast": slider(widgets.FloatSlider, 0.3, 0.0, 1.0, 0.05, "contrast"),
        "saturation": slider(widgets.FloatSlider, 0.3, 0.0, 1.0, 0.05, "saturation"),
        "hue": slider(widgets.FloatSlider, 0.0, 0.0, 0.5, 0.02, "hue"),
        "seed": widgets.BoundedIntText(value=0, min=0, max=2**31 - 1, description="seed"),
        "resample": widgets.Button(description="resample", icon="refresh"),
    }
    controls["resample"].on_click(lambda _: setattr(controls["seed"], "value",
                                                    controls["seed"].value + 1))  # fmt: skip
    original = AltImage(value=array_png(image))
    samples = AltImage()
    caption, described = widgets.HTML(), widgets.HTML()
    names = [k for k in controls if k not in ("seed", "resample")]

    def render() -> dict[str, Any]:
        params = {k: controls[k].value for k in names}
        seed = controls["seed"].value
        augment = build_augmentation(**params, size=tuple(image.shape[-2:]))
        X = augment_samples(image, n=n, seed=seed, **params)  # (n, C, H, W)
        samples.value = array_png(make_grid(X, nrow=4, padding=4, pad_value=1.0))
        transforms = [type(t).__name__ for t in augment.transforms
                      if not isinstance(t, v2.Identity)]  # fmt: skip
        caption.value = (f"{n} samples, seed {seed}: "
                         f"<code>{' → '.join(transforms) or 'no augmentation'}</code>")  # fmt: skip
        state = {"seed": seed, "params": params, "transforms": transforms, "n": n,
                 "sample_shape": tuple(X.shape[1:])}  # fmt: skip
        words = describe_augmentation(state, tuple(image.shape))
        original.alt, samples.alt = words["original"], words["samples"]
        described.value = f"<p>{html.escape(words['text'])}</p>"
        return {**state, "description": words["text"]}

    sliders = [controls[k] for k in names]
    return Explorer(
        controls,
        [widgets.HBox([widgets.VBox(sliders[:4]), widgets.VBox(sliders[4:])]),
         widgets.HBox([controls["seed"], controls["resample"]]),
         caption,
         widgets.HBox([widgets.VBox([widgets.HTML("original"), original]), samples]),
         described],
        render,
    )  # fmt: skip
