"""EfficientNet (Tan & Le, 2019): MBConv blocks and compound scaling.

Lecture ``course/10_modern_cnns.ipynb``. An :class:`MBConv` block (from MobileNetV2)
expands the channels with a 1x1 convolution, filters each channel with a depthwise
``k x k`` convolution, reweights the channels by squeeze-and-excitation, and projects
back with a 1x1 convolution; a shortcut adds the input when the shape allows.

EfficientNet-B0 is a table of seven stages of such blocks (:data:`B0_STAGES`). The larger
B1...B7 come from *compound scaling*: channels times ``width_mult`` (rounded to a multiple
of 8 by :func:`_round_filters`), blocks per stage times ``depth_mult`` (rounded up by
:func:`_round_repeats`), and a larger input resolution. ``efficientnet_b0()`` has the
layers and parameter count of ``torchvision.models.efficientnet_b0`` (5,288,548);
``efficientnet_scaled(1.0, 1.1)``, ``(1.1, 1.2)``, ``(1.2, 1.4)`` and ``(1.4, 1.8)`` those
of torchvision's B1 to B4.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Sequence
from typing import NamedTuple

import torch
from torch import nn

from cnnkit.models._common import check_positive_ints, check_probability, conv_bn_act


class Stage(NamedTuple):
    """One row of the EfficientNet table: ``repeats`` MBConv blocks."""

    expand_ratio: int
    kernel_size: int
    stride: int  # of the stage's first block; the others have stride 1
    out_channels: int
    repeats: int


STEM_CHANNELS, HEAD_CHANNELS = 32, 1280
B0_STAGES = (  # Table 1 of the paper, for 224x224 inputs (the stem halves them to 112x112)
    Stage(1, 3, 1, 16, 1),  # (16, 112, 112)
    Stage(6, 3, 2, 24, 2),  # (24, 56, 56)
    Stage(6, 5, 2, 40, 2),  # (40, 28, 28)
    Stage(6, 3, 2, 80, 3),  # (80, 14, 14)
    Stage(6, 5, 1, 112, 3),  # (112, 14, 14)
    Stage(6, 5, 2, 192, 4),  # (192, 7, 7)
    Stage(6, 3, 1, 320, 1),  # (320, 7, 7)
)


# For 28x28 inputs: a stride-2 stem, and stage 6 keeps stride 1 so the last maps are 2x2.
_SMALL_STAGES = tuple(
    stage._replace(stride=1) if i == 5 else stage for i, stage in enumerate(B0_STAGES)
)


def _round_filters(channels: float, width_mult: float = 1.0, divisor: int = 8) -> int:
    """``channels * width_mult`` rounded to the nearest multiple of ``divisor``, never 10% lower."""
    scaled = channels * width_mult
    rounded = max(divisor, int(scaled + divisor / 2) // divisor * divisor)
    return rounded + divisor if rounded < 0.9 * scaled else rounded


def _round_repeats(repeats: int, depth_mult: float) -> int:
    """``repeats * depth_mult`` rounded up: a stage never loses its last block."""
    return math.ceil(repeats * depth_mult)


class SqueezeExcitation(nn.Module):
    """Scale each channel by a gate in (0, 1) computed from all channels' averages.

    Shapes: ``(N, C, H, W)`` -> ``(N, C, H, W)``; the gate is ``(N, C, 1, 1)``.
    """

    def __init__(self, channels: int, squeeze_channels: int) -> None:
        super().__init__()
        self.avgpool = nn.AdaptiveAvgPool2d(1)  # squeeze: (N, C, 1, 1)
        self.fc1 = nn.Conv2d(channels, squeeze_channels, kernel_size=1)  # a dense layer
        self.act = nn.SiLU()
        self.fc2 = nn.Conv2d(squeeze_channels, channels, kernel_size=1)
        self.gate = nn.Sigmoid()

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        scale = self.gate(self.fc2(self.act(self.fc1(self.avgpool(X)))))  # (N, C, 1, 1)
        return X * scale  # excitation: broadcast over H and W


class MBConv(nn.Module):
    """Mobile inverted bottleneck with squeeze-and-excitation (lecture ``10_modern_cnns``).

    Shapes: ``(N, in_channels, H, W)`` ->
    ``(N, out_channels, (H - 1) // stride + 1, (W - 1) // stride + 1)``.

    Args:
        in_channels: channels of the input.
        out_channels: channels of the output.
        expand_ratio: the hidden width is ``in_channels * expand_ratio`` rounded to a
            multiple of 8; no expansion convolution when that equals ``in_channels``.
        kernel_size: of the depthwise convolution (3 or 5 in EfficientNet).
        stride: of the depthwise convolution.
        stochastic_depth_prob: in training, the probability that the residual branch of
            an example is dropped (the block is then the identity for it); surviving
            branches are scaled by ``1 / (1 - p)``. Used only with the shortcut.
    """

    def __init__(self, in_channels: int, out_channels: int, *, expand_ratio: int,
                 kernel_size: int, stride: int = 1,
                 stochastic_depth_prob: float = 0.0) -> None:  # fmt: skip
        super().__init__()
        check_positive_ints(in_channels=in_channels, out_channels=out_channels,
                            expand_ratio=expand_ratio, kernel_size=kernel_size,
                            stride=stride)  # fmt: skip
        check_probability("stochastic_depth_prob", stochastic_depth_prob)
        hidden = _round_filters(in_channels, expand_ratio)
        layers = OrderedDict()
        if hidden != in_channels:
            layers["expand"] = conv_bn_act(in_channels, hidden, 1, act=nn.SiLU)
        layers["depthwise"] = conv_bn_act(hidden, hidden, kernel_size, stride=stride,
                                          groups=hidden, act=nn.SiLU)  # fmt: skip
        layers["se"] = SqueezeExcitation(hidden, max(1, in_channels // 4))
        layers["project"] = conv_bn_act(hidden, out_channels, 1, act=None)  # linear
        self.block = nn.Sequential(layers)
        self.use_shortcut = stride == 1 and in_channels == out_channels
        self.stochastic_depth_prob = stochastic_depth_prob

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        Y = self.block(X)
        if not self.use_shortcut:
            return Y
        p = self.stochastic_depth_prob
        if self.training and p > 0:
            keep = torch.empty(X.shape[0], 1, 1, 1, dtype=X.dtype, device=X.device)
            Y = Y * keep.bernoulli_(1 - p) / (1 - p)  # (N, 1, 1, 1) mask over the batch
        return Y + X


def _efficientnet(
    *,
    width_mult: float,
    depth_mult: float,
    stem_stride: int,
    stages: Sequence[Stage],
    stochastic_depth_prob: float,
    dropout: float,
    num_classes: int,
    in_channels: int,
) -> nn.Sequential:
    check_positive_ints(num_classes=num_classes, in_channels=in_channels)
    check_probability("stochastic_depth_prob", stochastic_depth_prob)
    for name, mult in (("width_mult", width_mult), ("depth_mult", depth_mult)):
        if isinstance(mult, bool) or not isinstance(mult, (int, float)) or not mult > 0:
            raise ValueError(f"{name} must be a positive number, got {mult!r}")
    c_i = _round_filters(STEM_CHANNELS, width_mult)
    features = OrderedDict(stem=conv_bn_act(in_channels, c_i, 3, stride=stem_stride,
                                            act=nn.SiLU))  # fmt: skip
    repeats = [_round_repeats(stage.repeats, depth_mult) for stage in stages]
    block_id, num_blocks = 0, sum(repeats)
    for i, (stage, n) in enumerate(zip(stages, repeats, strict=True)):
        c_o = _round_filters(stage.out_channels, width_mult)
        blocks = []
        for j in range(n):
            p = stochastic_depth_prob * block_id / num_blocks  # deeper blocks drop more
            blocks.append(MBConv(c_i, c_o, expand_ratio=stage.expand_ratio,
                                 kernel_size=stage.kernel_size,
                                 stride=stage.stride if j == 0 else 1,
                                 stochastic_depth_prob=p))  # fmt: skip
            c_i, block_id = c_o, block_id + 1
        features[f"stage{i + 1}"] = nn.Sequential(*blocks)
    c_head = _round_filters(HEAD_CHANNELS, width_mult)
    features["head"] = conv_bn_act(c_i, c_head, 1, act=nn.SiLU)
    return nn.Sequential(OrderedDict(
        features=nn.Sequential(features),
        avgpool=nn.AdaptiveAvgPool2d(1),
        flatten=nn.Flatten(),  # (N, c_head, 1, 1) -> (N, c_head)
        classifier=nn.Sequential(nn.Dropout(dropout), nn.Linear(c_head, num_classes)),
    ))  # fmt: skip


def efficientnet_scaled(
    width_mult: float,
    depth_mult: float,
    *,
    num_classes: int = 1000,
    in_channels: int = 3,
    stochastic_depth_prob: float = 0.2,
) -> nn.Sequential:
    """EfficientNet-B0 scaled in width and depth (lecture ``course/10_modern_cnns.ipynb``).

    Compound scaling grows width, depth and resolution together: the paper's B1 is
    ``(1.0, 1.1)`` at 240x240, B2 ``(1.1, 1.2)`` at 260x260, B3 ``(1.2, 1.4)`` at 300x300.
    The resolution is the caller's: the network ends with global average pooling.

    Args:
        width_mult: multiplies every layer's channels (rounded to multiples of 8).
        depth_mult: multiplies the blocks of every stage (rounded up).
        num_classes: outputs of the last layer.
        in_channels: channels of the input images.
        stochastic_depth_prob: drop probability of the residual branches in training; it
            grows linearly with depth, from 0 at the first block to nearly this value.

    Returns:
        An ``nn.Sequential`` (``features``, ``avgpool``, ``flatten``, ``classifier``).
    """
    return _efficientnet(width_mult=width_mult, depth_mult=depth_mult, stem_stride=2,
                         stages=B0_STAGES, stochastic_depth_prob=stochastic_depth_prob,
                         dropout=0.2, num_classes=num_classes,
                         in_channels=in_channels)  # fmt: skip


def efficientnet_b0(
    *, num_classes: int = 1000, in_channels: int = 3, stochastic_depth_prob: float = 0.2
) -> nn.Sequential:
    """EfficientNet-B0 for ``(in_channels, 224, 224)`` images, as in torchvision.

    Lecture ``course/10_modern_cnns.ipynb``. A stride-2 3x3 stem, the 16 MBConv blocks of
    :data:`B0_STAGES`, a 1x1 convolution to 1280 channels, global average pooling::

        (3, 224, 224) -stem-> (32, 112, 112) -16 MBConv-> (320, 7, 7) -1x1-> (1280, 7, 7)
        -average-> 1280 -> num_classes

    Args:
        num_classes: outputs of the last layer.
        in_channels: channels of the input images.
        stochastic_depth_prob: drop probability of the deepest residual branches.

    Returns:
        An ``nn.Sequential``; the default has 5,288,548 parameters, like
        ``torchvision.models.efficientnet_b0()``.
    """
    return efficientnet_scaled(1.0, 1.0, num_classes=num_classes, in_channels=in_channels,
                               stochastic_depth_prob=stochastic_depth_prob)  # fmt: skip


def efficientnet_b0_small(
    *, num_classes: int = 10, in_channels: int = 1, stochastic_depth_prob: float = 0.0
) -> nn.Sequential:
    """EfficientNet-B0 scaled down for ``(in_channels, 28, 28)`` images.

    Lecture ``course/10_modern_cnns.ipynb``. Compound scaling run backwards:
    ``width_mult=0.25`` and ``depth_mult=0.5`` (10 MBConv blocks); 28x28 inputs can be
    halved four times, so stage 6 keeps stride 1::

        (1, 28, 28) -stem-> (8, 14, 14) -10 MBConv-> (80, 2, 2) -1x1-> (320, 2, 2)
        -average-> 320 -> num_classes

    Args:
        num_classes: outputs of the last layer.
        in_channels: channels of the input images.
        stochastic_depth_prob: drop probability of the deepest residual branches
            (default 0: a network this shallow does not need it).
    """
    return _efficientnet(width_mult=0.25, depth_mult=0.5, stem_stride=2, stages=_SMALL_STAGES,
                         stochastic_depth_prob=stochastic_depth_prob, dropout=0.2,
                         num_classes=num_classes, in_channels=in_channels)  # fmt: skip
