"""Network in Network (Lin et al., 2013) and GoogLeNet (Szegedy et al., 2014).

Lecture ``course/10_modern_cnns.ipynb``. NiN replaces the dense layers by 1x1
convolutions (an MLP applied at every pixel) and ends with global average pooling over
``num_classes`` channels, so it has no fully connected layer at all. It has no
BatchNorm, starts from He initialization, and even so leaves chance level more slowly
than the other networks. GoogLeNet stacks :class:`Inception` blocks: four parallel
branches whose outputs are concatenated along the channels.

``googlenet()`` has the layers and parameter count of
``torchvision.models.googlenet(aux_logits=False)`` (6,624,904), including torchvision's
3x3 kernel in the "5x5" branch (pytorch/vision#906); its pretrained weights have that shape.
"""

from __future__ import annotations

from collections import OrderedDict
from functools import partial

import torch
from torch import nn

from cnnkit.models._common import check_positive_ints, conv_bn_act, init_he


def nin_block(
    in_channels: int, out_channels: int, kernel_size: int, stride: int, padding: int
) -> nn.Sequential:
    """One convolution, then two 1x1 convolutions, each followed by ReLU.

    Lecture ``course/10_modern_cnns.ipynb``. Shapes: ``(N, in_channels, H, W)`` ->
    ``(N, out_channels, (H + 2 * padding - kernel_size) // stride + 1, ...)``.
    """
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size, stride=stride, padding=padding),
        nn.ReLU(),
        nn.Conv2d(out_channels, out_channels, kernel_size=1), nn.ReLU(),
        nn.Conv2d(out_channels, out_channels, kernel_size=1), nn.ReLU(),
    )  # fmt: skip


def _nin(
    *,
    widths: tuple[int, int, int],
    stem: tuple[int, int, int],
    k_2: int,
    num_classes: int,
    in_channels: int,
) -> nn.Sequential:
    c1, c2, c3 = widths
    k, s, p = stem  # kernel, stride, padding of the first convolution
    model = nn.Sequential(
        nin_block(in_channels, c1, kernel_size=k, stride=s, padding=p),
        nn.MaxPool2d(3, stride=2),
        nin_block(c1, c2, kernel_size=k_2, stride=1, padding=k_2 // 2),
        nn.MaxPool2d(3, stride=2),
        nin_block(c2, c3, kernel_size=3, stride=1, padding=1),
        nn.MaxPool2d(3, stride=2),
        nn.Dropout(0.5),
        nin_block(c3, num_classes, kernel_size=3, stride=1, padding=1),  # one map per class
        nn.AdaptiveAvgPool2d(1),  # (N, num_classes, 1, 1)
        nn.Flatten(),  # (N, num_classes, 1, 1) -> (N, num_classes)
    )
    return init_he(model)


def nin(*, num_classes: int = 1000, in_channels: int = 3) -> nn.Sequential:
    """Network in Network for ``(in_channels, 224, 224)`` images (lecture ``10_modern_cnns``).

    The AlexNet-like layout of the d2l textbook: NiN blocks with 96, 256, 384 and
    ``num_classes`` channels, the first with an 11x11 kernel and stride 4. Not in
    torchvision.

    Args:
        num_classes: outputs (channels of the last NiN block).
        in_channels: channels of the input images.

    Returns:
        An ``nn.Sequential``; the default has 7,439,608 parameters.
    """
    check_positive_ints(num_classes=num_classes, in_channels=in_channels)
    return _nin(widths=(96, 256, 384), stem=(11, 4, 0), k_2=5, num_classes=num_classes,
                in_channels=in_channels)  # fmt: skip


def nin_small(*, num_classes: int = 10, in_channels: int = 1) -> nn.Sequential:
    """A narrow NiN for ``(in_channels, 28, 28)`` images (lecture ``10_modern_cnns``).

    ::

        (1, 28, 28) -> (16, 28, 28) -pool-> (16, 13, 13) -> (32, 13, 13) -pool-> (32, 6, 6)
        -> (64, 6, 6) -pool-> (64, 2, 2) -> (num_classes, 2, 2) -average-> num_classes

    Args:
        num_classes: outputs (channels of the last NiN block).
        in_channels: channels of the input images.
    """
    check_positive_ints(num_classes=num_classes, in_channels=in_channels)
    return _nin(widths=(16, 32, 64), stem=(5, 1, 2), k_2=3, num_classes=num_classes,
                in_channels=in_channels)  # fmt: skip


class Inception(nn.Module):
    """Four parallel branches, concatenated along the channels (lecture ``10_modern_cnns``).

    Shapes: ``(N, in_channels, H, W)`` -> ``(N, c1 + c2[1] + c3[1] + c4, H, W)``.

    Args:
        in_channels: channels of the input.
        c1: channels of the 1x1 branch.
        c2: ``(reduce, out)`` channels of the 1x1 -> 3x3 branch.
        c3: ``(reduce, out)`` channels of the 1x1 -> 5x5 branch.
        c4: channels of the 3x3 max-pool -> 1x1 branch.
        k_3: kernel of the third branch's wide convolution: 5 as in the paper;
            torchvision's GoogLeNet (and its pretrained weights) use 3.

    Each convolution is followed by BatchNorm (``eps=1e-3``, as torchvision) and ReLU.
    """

    def __init__(self, in_channels: int, c1: int, c2: tuple[int, int], c3: tuple[int, int],
                 c4: int, *, k_3: int = 5) -> None:  # fmt: skip
        super().__init__()
        check_positive_ints(in_channels=in_channels, c1=c1, c4=c4, k_3=k_3)
        conv = conv_bn_act
        self.branch1 = conv(in_channels, c1, 1, eps=1e-3)
        self.branch2 = nn.Sequential(conv(in_channels, c2[0], 1, eps=1e-3),
                                     conv(c2[0], c2[1], 3, eps=1e-3))  # fmt: skip
        self.branch3 = nn.Sequential(conv(in_channels, c3[0], 1, eps=1e-3),
                                     conv(c3[0], c3[1], k_3, eps=1e-3))  # fmt: skip
        self.branch4 = nn.Sequential(nn.MaxPool2d(3, stride=1, padding=1),
                                     conv(in_channels, c4, 1, eps=1e-3))  # fmt: skip
        self.out_channels = c1 + c2[1] + c3[1] + c4

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        branches = [self.branch1, self.branch2, self.branch3, self.branch4]
        return torch.cat([branch(X) for branch in branches], dim=1)  # (N, out_channels, H, W)


def _head(in_features: int, num_classes: int, dropout: float) -> nn.Sequential:
    return nn.Sequential(
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),  # (N, in_features, 1, 1) -> (N, in_features)
        nn.Dropout(dropout),
        nn.Linear(in_features, num_classes),
    )


def googlenet(*, num_classes: int = 1000, in_channels: int = 3) -> nn.Sequential:
    """GoogLeNet (Inception v1) for ``(in_channels, 224, 224)`` images, as in torchvision.

    Lecture ``course/10_modern_cnns.ipynb``. Without the two auxiliary classifiers that
    the paper adds during training; with BatchNorm after every convolution, as torchvision::

        (3, 224, 224) -stem-> (192, 28, 28) -2 Inception, pool-> (480, 14, 14)
        -5 Inception, pool-> (832, 7, 7) -2 Inception-> (1024, 7, 7) -average-> 1024
        -> num_classes

    Args:
        num_classes: outputs of the last layer.
        in_channels: channels of the input images.

    Returns:
        An ``nn.Sequential`` (``stem``, ``inception3``, ``inception4``, ``inception5``,
        ``head``); the default has 6,624,904 parameters, like
        ``torchvision.models.googlenet(aux_logits=False)``.
    """
    check_positive_ints(num_classes=num_classes, in_channels=in_channels)

    inc = partial(Inception, k_3=3)  # torchvision's kernel in the third branch
    return nn.Sequential(OrderedDict(
        stem=nn.Sequential(
            conv_bn_act(in_channels, 64, 7, stride=2, eps=1e-3),  # (64, 112, 112)
            nn.MaxPool2d(3, stride=2, ceil_mode=True),  # (64, 56, 56)
            conv_bn_act(64, 64, 1, eps=1e-3),
            conv_bn_act(64, 192, 3, eps=1e-3),
            nn.MaxPool2d(3, stride=2, ceil_mode=True),  # (192, 28, 28)
        ),
        inception3=nn.Sequential(
            inc(192, 64, (96, 128), (16, 32), 32),
            inc(256, 128, (128, 192), (32, 96), 64),
            nn.MaxPool2d(3, stride=2, ceil_mode=True),  # (480, 14, 14)
        ),
        inception4=nn.Sequential(
            inc(480, 192, (96, 208), (16, 48), 64),
            inc(512, 160, (112, 224), (24, 64), 64),
            inc(512, 128, (128, 256), (24, 64), 64),
            inc(512, 112, (144, 288), (32, 64), 64),
            inc(528, 256, (160, 320), (32, 128), 128),
            nn.MaxPool2d(2, stride=2, ceil_mode=True),  # (832, 7, 7)
        ),
        inception5=nn.Sequential(
            inc(832, 256, (160, 320), (32, 128), 128),
            inc(832, 384, (192, 384), (48, 128), 128),  # (1024, 7, 7)
        ),
        head=_head(1024, num_classes, dropout=0.2),
    ))  # fmt: skip


def googlenet_small(*, num_classes: int = 10, in_channels: int = 1) -> nn.Sequential:
    """A narrow GoogLeNet for ``(in_channels, 28, 28)`` images (lecture ``10_modern_cnns``).

    Paper-style :class:`Inception` blocks (5x5 third branch), four instead of nine; as
    in GoogLeNet, the stem shrinks the images before the first Inception block::

        (1, 28, 28) -stem-> (32, 7, 7) -2 Inception-> (120, 7, 7) -pool-> (120, 4, 4)
        -2 Inception-> (160, 4, 4) -average-> 160 -> num_classes

    Args:
        num_classes: outputs of the last layer.
        in_channels: channels of the input images.
    """
    check_positive_ints(num_classes=num_classes, in_channels=in_channels)
    return nn.Sequential(OrderedDict(
        stem=nn.Sequential(
            conv_bn_act(in_channels, 16, 3, eps=1e-3),  # (16, 28, 28)
            nn.MaxPool2d(3, stride=2, padding=1),  # (16, 14, 14)
            conv_bn_act(16, 32, 3, eps=1e-3),  # (32, 14, 14)
            nn.MaxPool2d(3, stride=2, padding=1),  # (32, 7, 7)
        ),
        inception3=nn.Sequential(
            Inception(32, 16, (16, 32), (4, 8), 8),  # (64, 7, 7)
            Inception(64, 32, (32, 48), (8, 24), 16),  # (120, 7, 7)
            nn.MaxPool2d(3, stride=2, padding=1),  # (120, 4, 4)
        ),
        inception4=nn.Sequential(
            Inception(120, 48, (24, 52), (4, 12), 16),  # (128, 4, 4)
            Inception(128, 64, (32, 64), (8, 16), 16),  # (160, 4, 4)
        ),
        head=_head(160, num_classes, dropout=0.2),
    ))  # fmt: skip
