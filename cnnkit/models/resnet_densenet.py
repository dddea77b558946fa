"""ResNet (He et al., 2015) and DenseNet (Huang et al., 2017).

Lecture ``course/10_modern_cnns.ipynb``. A :class:`Residual` block adds its input to
what its convolutions compute, ``Y = relu(f(X) + X)``; a :class:`DenseBlock`
concatenates instead, so each layer sees the features of all the layers before it.

``resnet18()`` and ``densenet121()`` have the layers and parameter counts of
``torchvision.models.resnet18`` (11,689,512) and ``torchvision.models.densenet121``
(7,978,856).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

import torch
from torch import nn
from torch.nn import functional as F

from cnnkit.models._common import check_positive_ints, conv_bn_act


class Residual(nn.Module):
    """ResNet's basic block: two 3x3 convolutions with BatchNorm, plus a shortcut.

    Lecture ``course/10_modern_cnns.ipynb``. Shapes: ``(N, in_channels, H, W)`` ->
    ``(N, out_channels, (H - 1) // stride + 1, (W - 1) // stride + 1)``. When the shape
    changes, the shortcut is a 1x1 convolution (with ``stride``) and BatchNorm, else the
    identity.

    Args:
        in_channels: channels of the input.
        out_channels: channels of the output.
        stride: stride of the first convolution (2 halves height and width).
    """

    def __init__(self, in_channels: int, out_channels: int, *, stride: int = 1) -> None:
        super().__init__()
        check_positive_ints(in_channels=in_channels, out_channels=out_channels, stride=stride)
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1,
                               bias=False)  # fmt: skip
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        if stride != 1 or in_channels != out_channels:
            self.shortcut: nn.Module = conv_bn_act(in_channels, out_channels, 1,
                                                   stride=stride, act=None)  # fmt: skip
        else:
            self.shortcut = nn.Identity()

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        Y = F.relu(self.bn1(self.conv1(X)))
        Y = self.bn2(self.conv2(Y))
        return F.relu(Y + self.shortcut(X))


def _resnet(
    *,
    stem: nn.Module,
    widths: Sequence[int],
    depths: Sequence[int],
    num_classes: int,
) -> nn.Sequential:
    stages = OrderedDict()
    c_i = widths[0]  # the stem's output channels
    for i, (c_o, depth) in enumerate(zip(widths, depths, strict=True)):
        blocks = [Residual(c_i, c_o, stride=1 if i == 0 else 2)]
        blocks += [Residual(c_o, c_o) for _ in range(depth - 1)]
        stages[f"layer{i + 1}"] = nn.Sequential(*blocks)
        c_i = c_o
    return nn.Sequential(OrderedDict(
        stem=stem,
        **stages,
        avgpool=nn.AdaptiveAvgPool2d(1),
        flatten=nn.Flatten(),  # (N, c, 1, 1) -> (N, c)
        fc=nn.Linear(c_i, num_classes),
    ))  # fmt: skip


def resnet18(*, num_classes: int = 1000, in_channels: int = 3) -> nn.Sequential:
    """ResNet-18 for ``(in_channels, 224, 224)`` images, as in torchvision.

    Lecture ``course/10_modern_cnns.ipynb``. 18 weight layers: the 7x7 stem convolution,
    four stages of two :class:`Residual` blocks (64, 128, 256, 512 channels), the last
    dense layer::

        (3, 224, 224) -stem-> (64, 56, 56) -> (64, 56, 56) -> (128, 28, 28)
        -> (256, 14, 14) -> (512, 7, 7) -average-> 512 -> num_classes

    Args:
        num_classes: outputs of the last layer.
        in_channels: channels of the input images.

    Returns:
        An ``nn.Sequential`` (``stem``, ``layer1`` ... ``layer4``, ``avgpool``,
        ``flatten``, ``fc``); the default has 11,689,512 parameters, like
        ``torchvision.models.resnet18()``.
    """
    check_positive_ints(num_classes=num_classes, in_channels=in_channels)
    stem = nn.Sequential(conv_bn_act(in_channels, 64, 7, stride=2),  # (64, 112, 112)
                         nn.MaxPool2d(3, stride=2, padding=1))  # (64, 56, 56)  # fmt: skip
    return _resnet(stem=stem, widths=(64, 128, 256, 512), depths=(2, 2, 2, 2),
                   num_classes=num_classes)  # fmt: skip


def resnet18_small(*, num_classes: int = 10, in_channels: int = 1) -> nn.Sequential:
    """A narrow ResNet-18 for ``(in_channels, 28, 28)`` images (lecture ``10_modern_cnns``).

    Same depth, an eighth of the channels, a 3x3 stem::

        (1, 28, 28) -stem-> (8, 14, 14) -> (8, 14, 14) -> (16, 7, 7) -> (32, 4, 4)
        -> (64, 2, 2) -average-> 64 -> num_classes

    Args:
        num_classes: outputs of the last layer.
        in_channels: channels of the input images.
    """
    check_positive_ints(num_classes=num_classes, in_channels=in_channels)
    stem = nn.Sequential(conv_bn_act(in_channels, 8, 3),  # (8, 28, 28)
                         nn.MaxPool2d(3, stride=2, padding=1))  # (8, 14, 14)  # fmt: skip
    return _resnet(stem=stem, widths=(8, 16, 32, 64), depths=(2, 2, 2, 2),
                   num_classes=num_classes)  # fmt: skip


def _dense_layer(in_channels: int, growth_rate: int, bn_size: int) -> nn.Sequential:
    """BN-ReLU-1x1 conv to ``bn_size * growth_rate`` channels, BN-ReLU-3x3 conv to ``growth_rate``.

    Shapes: ``(N, in_channels, H, W)`` -> ``(N, growth_rate, H, W)``.
    """
    return nn.Sequential(
        nn.BatchNorm2d(in_channels), nn.ReLU(),
        nn.Conv2d(in_channels, bn_size * growth_rate, kernel_size=1, bias=False),
        nn.BatchNorm2d(bn_size * growth_rate), nn.ReLU(),
        nn.Conv2d(bn_size * growth_rate, growth_rate, kernel_size=3, padding=1, bias=False),
    )  # fmt: skip


class DenseBlock(nn.Module):
    """``num_convs`` bottleneck layers, each fed the concatenation of all earlier outputs.

    Lecture ``course/10_modern_cnns.ipynb``. Shapes: ``(N, in_channels, H, W)`` ->
    ``(N, in_channels + num_convs * growth_rate, H, W)``.

    Args:
        num_convs: how many layers (each BN-ReLU-1x1 conv-BN-ReLU-3x3 conv).
        in_channels: channels of the input.
        growth_rate: channels each layer adds.
        bn_size: the 1x1 convolution outputs ``bn_size * growth_rate`` channels.
    """

    def __init__(self, num_convs: int, in_channels: int, growth_rate: int, *,
                 bn_size: int = 4) -> None:  # fmt: skip
        super().__init__()
        check_positive_ints(num_convs=num_convs, in_channels=in_channels,
                            growth_rate=growth_rate, bn_size=bn_size)  # fmt: skip
        self.net = nn.Sequential(*(
            _dense_layer(in_channels + i * growth_rate, growth_rate, bn_size)
            for i in range(num_convs)))  # fmt: skip
        self.out_channels = in_channels + num_convs * growth_rate

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        for layer in self.net:
            Y = layer(X)  # (N, growth_rate, H, W)
            X = torch.cat((X, Y), dim=1)  # (N, C + growth_rate, H, W)
        return X


def transition_block(in_channels: int, out_channels: int) -> nn.Sequential:
    """BN-ReLU-1x1 conv to ``out_channels``, then 2x2 average pooling with stride 2.

    Lecture ``course/10_modern_cnns.ipynb``. Shapes: ``(N, in_channels, H, W)`` ->
    ``(N, out_channels, H // 2, W // 2)``.
    """
    return nn.Sequential(
        nn.BatchNorm2d(in_channels), nn.ReLU(),
        nn.Conv2d(in_channels, out_channels, kernel_size=1, bias=False),
        nn.AvgPool2d(kernel_size=2, stride=2),
    )  # fmt: skip


def _densenet(
    *,
    stem: nn.Module,
    num_channels: int,
    growth_rate: int,
    block_config: Sequence[int],
    num_classes: int,
) -> nn.Sequential:
    features = OrderedDict(stem=stem)
    for i, num_convs in enumerate(block_config):
        block = DenseBlock(num_convs, num_channels, growth_rate)
        features[f"denseblock{i + 1}"] = block
        num_channels = block.out_channels
        if i < len(block_config) - 1:  # halve channels, height and width between blocks
            features[f"transition{i + 1}"] = transition_block(num_channels, num_channels // 2)
            num_channels //= 2
    features["norm"] = nn.BatchNorm2d(num_channels)
    features["relu"] = nn.ReLU()
    return nn.Sequential(OrderedDict(
        features=nn.Sequential(features),
        avgpool=nn.AdaptiveAvgPool2d(1),
        flatten=nn.Flatten(),  # (N, c, 1, 1) -> (N, c)
        classifier=nn.Linear(num_channels, num_classes),
    ))  # fmt: skip


def densenet121(*, num_classes: int = 1000, in_channels: int = 3) -> nn.Sequential:
    """DenseNet-121 (DenseNet-BC, growth rate 32) for ``(in_channels, 224, 224)`` images.

    Lecture ``course/10_modern_cnns.ipynb``. Dense blocks of 6, 12, 24 and 16 layers
    (2 convolutions each) separated by transitions, plus the stem convolution and the
    last dense layer: 121 weight layers::

        (3, 224, 224) -stem-> (64, 56, 56) -> (128, 28, 28) -> (256, 14, 14)
        -> (512, 7, 7) -> (1024, 7, 7) -average-> 1024 -> num_classes

    Args:
        num_classes: outputs of the last layer.
        in_channels: channels of the input images.

    Returns:
        An ``nn.Sequential`` (``features``, ``avgpool``, ``flatten``, ``classifier``);
        the default has 7,978,856 parameters, like ``torchvision.models.densenet121()``.
    """
    check_positive_ints(num_classes=num_classes, in_channels=in_channels)
    stem = nn.Sequential(conv_bn_act(in_channels, 64, 7, stride=2),  # (64, 112, 112)
                         nn.MaxPool2d(3, stride=2, padding=1))  # (64, 56, 56)  # fmt: skip
    return _densenet(stem=stem, num_channels=64, growth_rate=32, block_config=(6, 12, 24, 16),
                     num_classes=num_classes)  # fmt: skip


def densenet121_small(*, num_classes: int = 10, in_channels: int = 1) -> nn.Sequential:
    """A narrow, shallower DenseNet-BC for ``(in_channels, 28, 28)`` images.

    Lecture ``course/10_modern_cnns.ipynb``. Growth rate 8 and dense blocks of 2, 4, 6
    and 4 layers instead of 32 and 6, 12, 24, 16::

        (1, 28, 28) -stem-> (16, 14, 14) -> (16, 7, 7) -> (24, 3, 3) -> (36, 1, 1)
        -> (68, 1, 1) -average-> 68 -> num_classes

    Args:
        num_classes: outputs of the last layer.
        in_channels: channels of the input images.
    """
    check_positive_ints(num_classes=num_classes, in_channels=in_channels)
    stem = nn.Sequential(conv_bn_act(in_channels, 16, 3),  # (16, 28, 28)
                         nn.MaxPool2d(3, stride=2, padding=1))  # (16, 14, 14)  # fmt: skip
    return _densenet(stem=stem, num_channels=16, growth_rate=8, block_config=(2, 4, 6, 4),
                     num_classes=num_classes)  # fmt: skip
