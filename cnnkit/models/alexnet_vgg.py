"""AlexNet (Krizhevsky et al., 2012) and VGG (Simonyan & Zisserman, 2014).

Lecture ``course/10_modern_cnns.ipynb``. ``alexnet()`` and ``vgg11()`` have exactly the
layers and parameter counts of ``torchvision.models.alexnet`` (61,100,840) and
``torchvision.models.vgg11`` (132,863,336) for ``(3, 224, 224)`` inputs::

    AlexNet  (3, 224, 224) -conv11 s4-> (64, 55, 55) -pool-> (64, 27, 27) -conv5-> (192, 27, 27)
             -pool-> (192, 13, 13) -3 x conv3-> (256, 13, 13) -pool-> (256, 6, 6) -> 9216
             -> 4096 -> 4096 -> num_classes
    VGG-11   (3, 224, 224) -5 vgg_blocks-> (512, 7, 7) -> 25088 -> 4096 -> 4096 -> num_classes

The ``_small`` variants keep the design (AlexNet: five convolutions, overlapping
pooling, three dense layers with dropout; VGG-11: eight 3x3 convolutions in blocks)
with fewer channels, sized for ``(1, 28, 28)`` images. All start from He initialization
(:func:`~cnnkit.models._common.init_he`): without BatchNorm, PyTorch's default
initialization leaves them at chance level for many steps.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

from torch import nn

from cnnkit.models._common import check_positive_ints, init_he


def _classifier(
    in_features: int, hidden: int, num_classes: int, *, dropout: float, dropout_first: bool
) -> nn.Sequential:
    """The three dense layers of AlexNet and VGG; AlexNet drops out before each hidden one."""

    def hidden_layer(n_in: int) -> list[nn.Module]:
        layers = [nn.Linear(n_in, hidden), nn.ReLU()]
        return [nn.Dropout(dropout), *layers] if dropout_first else [*layers, nn.Dropout(dropout)]

    return nn.Sequential(
        *hidden_layer(in_features), *hidden_layer(hidden), nn.Linear(hidden, num_classes)
    )


def _alexnet(
    *,
    widths: tuple[int, int, int, int, int],
    k_1: int,
    s_1: int,
    p_1: int,
    pool_size: int,
    hidden: int,
    dropout: float,
    num_classes: int,
    in_channels: int,
) -> nn.Sequential:
    c1, c2, c3, c4, c5 = widths
    features = nn.Sequential(
        nn.Conv2d(in_channels, c1, kernel_size=k_1, stride=s_1, padding=p_1), nn.ReLU(),
        nn.MaxPool2d(kernel_size=3, stride=2),  # overlapping pooling: H -> (H - 3) // 2 + 1
        nn.Conv2d(c1, c2, kernel_size=5, padding=2), nn.ReLU(),
        nn.MaxPool2d(kernel_size=3, stride=2),
        nn.Conv2d(c2, c3, kernel_size=3, padding=1), nn.ReLU(),
        nn.Conv2d(c3, c4, kernel_size=3, padding=1), nn.ReLU(),
        nn.Conv2d(c4, c5, kernel_size=3, padding=1), nn.ReLU(),
        nn.MaxPool2d(kernel_size=3, stride=2),
    )  # fmt: skip
    return init_he(nn.Sequential(OrderedDict(
        features=features,
        avgpool=nn.AdaptiveAvgPool2d(pool_size),  # (c5, pool_size, pool_size) for any input
        flatten=nn.Flatten(),  # (N, c5, s, s) -> (N, c5 * s * s)
        classifier=_classifier(c5 * pool_size * pool_size, hidden, num_classes,
                               dropout=dropout, dropout_first=True),
    )))  # fmt: skip


def vgg_block(num_convs: int, in_channels: int, out_channels: int) -> nn.Sequential:
    """``num_convs`` 3x3 convolutions (padding 1) with ReLU, then 2x2 max pooling.

    Lecture ``course/10_modern_cnns.ipynb``. Shapes: ``(N, in_channels, H, W)`` ->
    ``(N, out_channels, H // 2, W // 2)``.

    Args:
        num_convs: how many convolutions.
        in_channels: channels of the input.
        out_channels: channels of every convolution's output.
    """
    check_positive_ints(num_convs=num_convs, in_channels=in_channels, out_channels=out_channels)
    layers: list[nn.Module] = []
    for _ in range(num_convs):
        layers += [nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1), nn.ReLU()]
        in_channels = out_channels
    layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
    return nn.Sequential(*layers)


def _vgg(
    *,
    conv_arch: Sequence[tuple[int, int]],
    pool_size: int,
    hidden: int,
    dropout: float,
    num_classes: int,
    in_channels: int,
) -> nn.Sequential:
    blocks = []
    for num_convs, out_channels in conv_arch:
        blocks.append(vgg_block(num_convs, in_channels, out_channels))
        in_channels = out_channels
    return init_he(nn.Sequential(OrderedDict(
        features=nn.Sequential(*blocks),
        avgpool=nn.AdaptiveAvgPool2d(pool_size),
        flatten=nn.Flatten(),  # (N, c, s, s) -> (N, c * s * s)
        classifier=_classifier(in_channels * pool_size * pool_size, hidden, num_classes,
                               dropout=dropout, dropout_first=False),
    )))  # fmt: skip


def alexnet(*, num_classes: int = 1000, in_channels: int = 3) -> nn.Sequential:
    """AlexNet for ``(in_channels, 224, 224)`` images, as in torchvision.

    Lecture ``course/10_modern_cnns.ipynb``. torchvision's version (the "one weird trick"
    single-GPU variant) has 64/192/384/256/256 channels instead of the paper's
    96/256/384/384/256 split over two GPUs.

    Args:
        num_classes: outputs of the last layer.
        in_channels: channels of the input images.

    Returns:
        An ``nn.Sequential`` (``features``, ``avgpool``, ``flatten``, ``classifier``);
        the default has 61,100,840 parameters, like ``torchvision.models.alexnet()``.
    """
    check_positive_ints(num_classes=num_classes, in_channels=in_channels)
    return _alexnet(widths=(64, 192, 384, 256, 256), k_1=11, s_1=4, p_1=2, pool_size=6,
                    hidden=4096, dropout=0.5, num_classes=num_classes,
                    in_channels=in_channels)  # fmt: skip


def alexnet_small(*, num_classes: int = 10, in_channels: int = 1) -> nn.Sequential:
    """A narrow AlexNet for ``(in_channels, 28, 28)`` images (lecture ``10_modern_cnns``).

    The first convolution is 5x5 with stride 1 instead of 11x11 with stride 4::

        (1, 28, 28) -> (16, 28, 28) -pool-> (16, 13, 13) -> (32, 13, 13) -pool-> (32, 6, 6)
        -> (48, 6, 6) -> (48, 6, 6) -> (32, 6, 6) -pool-> (32, 2, 2) -> 128 -> 512 -> 512
        -> num_classes

    Dropout 0.3 instead of 0.5: the dense layers are 8 times narrower.

    Args:
        num_classes: outputs of the last layer.
        in_channels: channels of the input images.
    """
    check_positive_ints(num_classes=num_classes, in_channels=in_channels)
    return _alexnet(widths=(16, 32, 48, 48, 32), k_1=5, s_1=1, p_1=2, pool_size=2,
                    hidden=512, dropout=0.3, num_classes=num_classes,
                    in_channels=in_channels)  # fmt: skip


def vgg11(*, num_classes: int = 1000, in_channels: int = 3) -> nn.Sequential:
    """VGG-11 (configuration "A", no BatchNorm) for ``(in_channels, 224, 224)`` images.

    Lecture ``course/10_modern_cnns.ipynb``. Five :func:`vgg_block` s with
    ``(num_convs, out_channels)`` = (1, 64), (1, 128), (2, 256), (2, 512), (2, 512).

    Args:
        num_classes: outputs of the last layer.
        in_channels: channels of the input images.

    Returns:
        An ``nn.Sequential`` (``features``, ``avgpool``, ``flatten``, ``classifier``);
        the default has 132,863,336 parameters, like ``torchvision.models.vgg11()``.
    """
    check_positive_ints(num_classes=num_classes, in_channels=in_channels)
    return _vgg(conv_arch=((1, 64), (1, 128), (2, 256), (2, 512), (2, 512)), pool_size=7,
                hidden=4096, dropout=0.5, num_classes=num_classes,
                in_channels=in_channels)  # fmt: skip


def vgg11_small(*, num_classes: int = 10, in_channels: int = 1) -> nn.Sequential:
    """A narrow VGG-11 for ``(in_channels, 28, 28)`` images (lecture ``10_modern_cnns``).

    Still eight 3x3 convolutions, in four blocks of two since 28 can be halved only four
    times::

        (1, 28, 28) -> (16, 14, 14) -> (32, 7, 7) -> (64, 3, 3) -> (128, 1, 1) -> 128
        -> 512 -> 512 -> num_classes

    Dropout 0.3 instead of 0.5: the dense layers are 8 times narrower.

    Args:
        num_classes: outputs of the last layer.
        in_channels: channels of the input images.
    """
    check_positive_ints(num_classes=num_classes, in_channels=in_channels)
    return _vgg(conv_arch=((2, 16), (2, 32), (2, 64), (2, 128)), pool_size=1,
                hidden=512, dropout=0.3, num_classes=num_classes,
                in_channels=in_channels)  # fmt: skip
