"""The architectures of the modern-CNN lecture side by side (``course/10_modern_cnns.ipynb``).

:data:`ARCHITECTURES` maps a display name to an :class:`Architecture` record;
:func:`compare` tabulates parameters, MACs and shapes (computed by
:func:`cnnkit.summary`) for a widget or a pandas ``DataFrame``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Literal

import torch
from torch import nn

from cnnkit.lazy_layers import has_lazy
from cnnkit.models.alexnet_vgg import alexnet, alexnet_small, vgg11, vgg11_small
from cnnkit.models.efficientnet import efficientnet_b0, efficientnet_b0_small
from cnnkit.models.lenet import lenet5
from cnnkit.models.nin_googlenet import googlenet, googlenet_small, nin, nin_small
from cnnkit.models.resnet_densenet import densenet121, densenet121_small, resnet18, resnet18_small
from cnnkit.summarize import ShapeMismatchError, summary

__all__ = ["ARCHITECTURES", "INPUT_SHAPES", "Architecture", "compare"]


@dataclass(frozen=True)
class Architecture:
    """One network of the lecture.

    Attributes:
        full: builder of the ImageNet-size network (``(3, 224, 224)`` -> 1000 classes),
            ``None`` for LeNet-5, which only exists for small images.
        small: builder of the variant for ``(1, 28, 28)`` images and 10 classes.
        torchvision: name of the matching builder in ``torchvision.models``, or ``None``.
        year: year of the paper.
        idea: what the architecture introduced, in one line.
    """

    full: Callable[..., nn.Module] | None
    small: Callable[..., nn.Module]
    torchvision: str | None
    year: int
    idea: str


ARCHITECTURES: MappingProxyType[str, Architecture] = MappingProxyType({
    "LeNet-5": Architecture(None, lenet5, None, 1998,
                            "convolution, pooling and dense layers trained end to end"),
    "AlexNet": Architecture(alexnet, alexnet_small, "alexnet", 2012,
                            "a deeper LeNet with ReLU, dropout and GPU training"),
    "VGG-11": Architecture(vgg11, vgg11_small, "vgg11", 2014,
                           "repeated blocks of 3x3 convolutions, then pooling"),
    "NiN": Architecture(nin, nin_small, None, 2013,
                        "1x1 convolutions and global average pooling instead of dense layers"),
    "GoogLeNet": Architecture(googlenet, googlenet_small, "googlenet", 2014,
                              "Inception blocks: parallel 1x1, 3x3, 5x5 and pooling branches"),
    "ResNet-18": Architecture(resnet18, resnet18_small, "resnet18", 2015,
                              "residual blocks y = f(x) + x make deep networks trainable"),
    "DenseNet-121": Architecture(densenet121, densenet121_small, "densenet121", 2017,
                                 "each layer sees the concatenated features of all before it"),
    "EfficientNet-B0": Architecture(efficientnet_b0, efficientnet_b0_small, "efficientnet_b0",
                                    2019, "MBConv blocks, scaled in width, depth and "
                                          "resolution together"),
})  # fmt: skip

INPUT_SHAPES = MappingProxyType({"small": (1, 28, 28), "imagenet": (3, 224, 224)})


@functools.cache
def _row(name: str, variant: str, size: int) -> dict[str, Any]:
    arch = ARCHITECTURES[name]
    builder = arch.small if variant == "small" else arch.full
    assert builder is not None  # compare() checked it
    channels = INPUT_SHAPES[variant][0]
    with torch.device("meta"):  # shapes and counts only: no memory, no arithmetic
        model = builder()
    row = {"name": name, "variant": variant, "year": arch.year, "params": None, "macs": None,
           "input_shape": (channels, size, size), "output_shape": None, "layers": None,
           "torchvision": arch.torchvision, "idea": arch.idea, "error": None}  # fmt: skip
    try:
        report = summary(model, (channels, size, size))  # initializes lazy layers first
    except (ShapeMismatchError, RuntimeError, ValueError) as err:
        # A fixed-size classifier (flatten + Linear) fits one input size only; a lazy
        # model that did not run has no parameter count either.
        if not has_lazy(model):
            row["params"] = sum(p.numel() for p in model.parameters())
        row["error"] = str(err).splitlines()[0]
        return row
    row.update(
        params=report.total_params,
        macs=report.total_macs,
        output_shape=report.output_shape,
        layers=sum(r.macs > 0 for r in report.rows),  # convolution and dense calls
    )
    return row


def compare(
    names: str | Sequence[str],
    *,
    variant: Literal["small", "imagenet"] = "small",
    size: int | None = None,
) -> list[dict[str, Any]]:
    """Parameters, MACs and shapes of some architectures (lecture ``10_modern_cnns``).

    Models are built on PyTorch's ``meta`` device, so even VGG-11 costs no memory and
    no arithmetic; rows are cached, repeated calls (a widget's) are instant.

    Args:
        names: keys of :data:`ARCHITECTURES` (one name or a sequence), in the order wanted.
        variant: ``"small"`` (the ``_small`` builders on ``(1, 28, 28)``) or
            ``"imagenet"`` (the full builders on ``(3, 224, 224)``; not LeNet-5).
        size: another input height and width (default 28 or 224). Networks that end in
            global average pooling take any size; a fixed-size classifier (flatten and
            ``Linear``) does not, and its row then has ``macs=None`` and an ``error``.

    Returns:
        One dict per name with ``name``, ``variant``, ``year``, ``params`` (``None`` for
        a model with lazy layers that cannot run this size), ``macs`` (per
        example), ``input_shape``, ``output_shape`` (per example, no batch dimension),
        ``layers`` (calls of convolution and dense layers, shortcut and
        squeeze-excitation convolutions included), ``torchvision``, ``idea`` and
        ``error`` (``None``, or why the network does not take this input size).

    Raises:
        ValueError: an unknown name or variant, or LeNet-5 with ``variant="imagenet"``.
    """
    if variant not in INPUT_SHAPES:
        raise ValueError(f"variant must be 'small' or 'imagenet', got {variant!r}")
    names = [names] if isinstance(names, str) else list(names)
    valid = [n for n, a in ARCHITECTURES.items() if variant == "small" or a.full is not None]
    for name in names:
        if name not in valid:
            why = f"has no {variant!r} variant" if name in ARCHITECTURES else "is unknown"
            raise ValueError(f"{name!r} {why}; choose from {', '.join(valid)}")
    if size is None:
        size = INPUT_SHAPES[variant][1]
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise ValueError(f"size must be a positive int, got {size!r}")
    return [dict(_row(name, variant, size)) for name in names]  # copies: the cache stays intact
