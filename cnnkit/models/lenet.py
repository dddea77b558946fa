"""LeNet-5 (LeCun et al., 1998) as taught in ``course/07_lenet.ipynb``.

The lecture's version keeps the historical choices, sigmoid activations and average
pooling, but pads the first convolution so that 28x28 inputs (MNIST, Fashion-MNIST)
reach the classifier as 16x5x5 feature maps::

    (1, 28, 28) -conv5x5 p2-> (6, 28, 28) -pool2-> (6, 14, 14)
                -conv5x5----> (16, 10, 10) -pool2-> (16, 5, 5) -flatten-> 400
                -> 120 -> 84 -> num_classes
"""

from __future__ import annotations

from typing import Literal

from torch import nn

_ACTIVATIONS: dict[str, type[nn.Module]] = {"sigmoid": nn.Sigmoid, "relu": nn.ReLU}
_POOLS: dict[str, type[nn.Module]] = {"avg": nn.AvgPool2d, "max": nn.MaxPool2d}


def _choice(kind: str, value: str, options: dict[str, type[nn.Module]]) -> type[nn.Module]:
    try:
        return options[value]
    except KeyError:
        valid = ", ".join(repr(k) for k in options)
        raise ValueError(f"{kind}={value!r} is not supported; choose one of {valid}") from None


def _lenet(
    *, act: type[nn.Module], pool: type[nn.Module], num_classes: int, in_channels: int
) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(in_channels, 6, kernel_size=5, padding=2), act(),
        pool(kernel_size=2, stride=2),
        nn.Conv2d(6, 16, kernel_size=5), act(),
        pool(kernel_size=2, stride=2),
        nn.Flatten(),
        nn.Linear(16 * 5 * 5, 120), act(),
        nn.Linear(120, 84), act(),
        nn.Linear(84, num_classes),
    )  # fmt: skip


def lenet5(
    *,
    activation: Literal["sigmoid", "relu"] = "sigmoid",
    pool: Literal["avg", "max"] = "avg",
    num_classes: int = 10,
    in_channels: int = 1,
) -> nn.Sequential:
    """LeNet-5 for ``(in_channels, 28, 28)`` inputs (lecture ``07_lenet``).

    Args:
        activation: ``"sigmoid"`` (the 1998 network) or ``"relu"``.
        pool: ``"avg"`` (the 1998 network) or ``"max"``.
        num_classes: outputs of the last layer.
        in_channels: channels of the input images.

    Returns:
        An ``nn.Sequential``; the default has 61,706 parameters.
    """
    for name, value in (("num_classes", num_classes), ("in_channels", in_channels)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}")
    return _lenet(
        act=_choice("activation", activation, _ACTIVATIONS),
        pool=_choice("pool", pool, _POOLS),
        num_classes=num_classes,
        in_channels=in_channels,
    )
