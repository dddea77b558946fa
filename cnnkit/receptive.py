"""Receptive fields of stacked convolution and pooling layers, in plain ints.

Introduced in ``course/06_backprop_conv_pooling.ipynb``. The receptive field of a unit is
the set of input pixels it depends on. Along one dimension, a stack of layers with kernel
sizes ``k_l``, strides ``s_l`` and dilations ``d_l`` gives a unit of layer ``L`` a field of

    r_L = 1 + sum_l d_l (k_l - 1) * s_1 * ... * s_{l-1}

input pixels: each layer widens the field by its (dilated) kernel minus one, counted in
steps of the input that all strides before it multiply up (the "jump"). Padding moves the
field but does not change its size. No torch here; ``tests/test_receptive.py`` checks the
formula against the support of autograd's input gradient of one output unit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["LayerField", "receptive_fields"]


@dataclass(frozen=True)
class LayerField:
    """One layer's receptive field, along one dimension.

    Attributes:
        size: input pixels one unit of this layer depends on.
        jump: input pixels between two neighbouring units of this layer (the product of
            the strides so far).
    """

    size: int
    jump: int


def receptive_fields(layers: Sequence[tuple[int, int] | tuple[int, int, int]]) -> list[LayerField]:
    """Receptive field after each layer of a stack (lecture ``06_backprop_conv_pooling``).

    Args:
        layers: ``(kernel_size, stride)`` or ``(kernel_size, stride, dilation)`` per layer,
            input side first; a pooling layer counts like a convolution with its window.

    Returns:
        One :class:`LayerField` per layer.

    Raises:
        ValueError: a kernel size, stride or dilation that is not a positive int.
    """
    size, jump, fields = 1, 1, []
    for index, layer in enumerate(layers):
        if len(layer) not in (2, 3):
            raise ValueError(f"layer {index}: give (kernel_size, stride) or "
                             f"(kernel_size, stride, dilation), got {layer!r}")
        k, s, d = (*layer, 1) if len(layer) == 2 else layer
        for name, value in (("kernel_size", k), ("stride", s), ("dilation", d)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"layer {index}: {name} must be a positive int, got {value!r}")
        size += d * (k - 1) * jump
        jump *= s
        fields.append(LayerField(size, jump))
    return fields
