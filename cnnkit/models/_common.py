"""Helpers shared by the model families: argument checks and the conv-BN-activation unit."""

from __future__ import annotations

from torch import nn


def check_positive_ints(**values: object) -> None:
    """Raise ``ValueError`` unless every keyword value is a positive ``int`` (not a bool)."""
    for name, value in values.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}")


def check_probability(name: str, value: object) -> None:
    """Raise ``ValueError`` unless ``value`` is a number in ``[0, 1)`` (a drop probability)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
        raise ValueError(f"{name} must be a number in [0, 1), got {value!r}")


def conv_bn_act(
    c_i: int,
    c_o: int,
    kernel_size: int,
    *,
    stride: int = 1,
    padding: int | None = None,
    groups: int = 1,
    act: type[nn.Module] | None = nn.ReLU,
    eps: float = 1e-5,
) -> nn.Sequential:
    """Convolution without bias (the BatchNorm shift replaces it), BatchNorm, activation.

    ``padding=None`` pads ``(kernel_size - 1) // 2``: "same" size for odd kernels and
    stride 1, ``ceil(H / stride)`` otherwise. ``act=None`` leaves the activation out.
    """
    p = (kernel_size - 1) // 2 if padding is None else padding
    layers: list[nn.Module] = [
        nn.Conv2d(c_i, c_o, kernel_size, stride=stride, padding=p, groups=groups, bias=False),
        nn.BatchNorm2d(c_o, eps=eps),
    ]
    if act is not None:
        layers.append(act())
    return nn.Sequential(*layers)


def init_he(model: nn.Module) -> nn.Module:
    """He (Kaiming) normal weights for ReLU networks, zero biases, a small last layer.

    PyTorch's default initialization divides the signal's variance by about 6 per
    convolution + ReLU, so deep networks without BatchNorm (AlexNet, VGG, NiN) sit at
    chance level for many steps; He et al.'s (2015) ``std = sqrt(2 / fan_in)`` keeps the
    variance. The last layer, which computes the class scores, gets ``std = 0.01``:
    predictions start near uniform, the loss near ``log(num_classes)``.
    """
    layers = [m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    for layer in layers:
        nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")
        if layer.bias is not None:
            nn.init.zeros_(layer.bias)
    if layers:
        nn.init.normal_(layers[-1].weight, std=0.01)
    return model
