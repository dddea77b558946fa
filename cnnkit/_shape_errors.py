"""Why a layer cannot take its input, worked out before it runs (``course/07_lenet.ipynb``).

Private helpers of :mod:`cnnkit.summarize`: :func:`_diagnose` looks at a leaf module and
the tensor about to reach it and returns a :class:`_Diagnosis` (what the layer expected
and a concrete fix) for a Linear without its Flatten, a convolution with the wrong
channels, dimensions or a kernel larger than the padded input, a BatchNorm with the wrong
number of features, or a pooling window that does not fit; :func:`_size_that_fits`
searches the smallest larger image size the whole model runs on. Shapes are written per
example, with ``N`` for the batch dimension. This module does not import
:mod:`cnnkit.summarize`, which builds the :class:`~cnnkit.summarize.ShapeMismatchError`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm
from torch.nn.modules.conv import _ConvNd
from torch.nn.modules.utils import _ntuple
from torch.nn.parameter import is_lazy

Shape = tuple[int, ...]

_POOLS = {nn.MaxPool1d: 1, nn.MaxPool2d: 2, nn.MaxPool3d: 3,
          nn.AvgPool1d: 1, nn.AvgPool2d: 2, nn.AvgPool3d: 3}  # fmt: skip
_LAYOUTS = {1: "(N, C, L)", 2: "(N, C, H, W)", 3: "(N, C, D, H, W)"}


def _fmt(shape: Sequence[int], batch: bool = False) -> str:
    """``(6, 28, 28)``, ``(10,)``, or with ``batch=True`` ``(N, 6, 28, 28)``."""
    dims = ["N"] * batch + [str(d) for d in shape]
    return "(" + ", ".join(dims) + ("," if len(dims) == 1 else "") + ")"


def _xs(sizes: Sequence[int]) -> str:
    return "x".join(map(str, sizes))


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


@dataclass
class _Diagnosis:
    expected: str
    fix: str
    probe: int = 0  # > 0: look for an image size that fits (the number of spatial dims)


def _check_linear(m: nn.Linear, X: torch.Tensor) -> _Diagnosis | None:
    if X.dim() < 2 or X.shape[-1] == m.in_features:
        return None
    n_in, n_out, shape = m.in_features, m.out_features, _fmt(X.shape[1:], batch=True)
    bias = "" if m.bias is not None else ", bias=False"
    if X.dim() >= 3:  # e.g. (N, C, H, W) reaching a Linear: the Flatten is missing
        n, dims = math.prod(X.shape[1:]), "*".join(map(str, X.shape[1:]))
        fix = f"add nn.Flatten() before this layer; then in_features must be {dims} = {n}"
        fix += ", which already matches" if n == n_in else (
            f": use nn.Linear({n}, {n_out}{bias}) here, or nn.LazyLinear({n_out}) to infer it")
        return _Diagnosis(f"Linear expected in_features={n_in} features per example, but the "
                          f"input still has shape {shape}: it was not flattened", fix)
    return _Diagnosis(
        f"Linear expected in_features={n_in} but received {X.shape[-1]} features per example "
        f"(input shape {shape})",
        f"use nn.Linear({X.shape[-1]}, {n_out}{bias}) here, or nn.LazyLinear({n_out}) to infer "
        f"it; or change the layers before it so that they output {n_in} features",
    )


def _check_window(cls: str, kernel: Any, padding: Any, dilation: Any, X: torch.Tensor,
                  n: int, first: bool, conv: bool) -> _Diagnosis | None:  # fmt: skip
    """Does a convolution kernel or pooling window fit the padded input?"""
    if X.dim() < n + 1 or padding == "same":
        return None
    k, d, size = _ntuple(n)(kernel), _ntuple(n)(dilation), tuple(X.shape[-n:])
    p = (0,) * n if padding == "valid" else _ntuple(n)(padding)
    span = [d_ * (k_ - 1) + 1 for k_, d_ in zip(k, d, strict=True)]
    padded = [s + 2 * p_ for s, p_ in zip(size, p, strict=True)]
    if all(pd >= sp for pd, sp in zip(padded, span, strict=True)):
        return None
    expected = (f"{cls} kernel {_xs(k)} does not fit the padded input {_xs(padded)} "
                f"(input {_xs(size)}, padding {_xs(p) if len(set(p)) > 1 else p[0]})")
    if max(d) > 1:
        expected += f"; with dilation {_xs(d)} the kernel spans {_xs(span)}"
    fixes = []
    if conv:  # the padding that keeps the size (odd kernels), and at least enough to fit
        need = [max((sp - 1) // 2, -(-(sp - s) // 2)) for sp, s in zip(span, size, strict=True)]
        fixes.append(f"add padding={need[0] if len(set(need)) == 1 else tuple(need)}")
    small = [(pd - 1) // d_ + 1 for pd, d_ in zip(padded, d, strict=True)]
    fixes.append(f"use a smaller kernel (at most {_xs(small)} here)")
    if not first:
        fixes.append("remove a pooling layer (or a stride) earlier")
    return _Diagnosis(expected, ", ".join(fixes), probe=n)


def _check_conv_dims(m: _ConvNd, X: torch.Tensor, first: bool) -> _Diagnosis:
    """A convolution got too many or too few dimensions (missing channel, flattened...)."""
    cls, n, c_i, per = type(m).__name__, len(m.kernel_size), m.in_channels, tuple(X.shape[1:])
    want, layout = n + 2, _LAYOUTS.get(n, "")
    expected = (f"{cls} expects {want}-D input {layout} but received {X.dim()}-D input of "
                f"shape {_fmt(per, batch=True)}")
    if X.dim() > want:
        fix = "remove the extra dimension"
        if first and per[0] == 1:
            fix += f": summary()'s input_shape leaves out the batch dimension, use {per[1:]}"
        return _Diagnosis(expected, fix)
    s = round((math.prod(per) / c_i) ** (1 / n)) if per else 0
    image = (1, *per) if X.dim() == want - 1 else (c_i, *(s,) * n)  # per example
    if math.prod(image) != math.prod(per):
        fix = f"reshape the input to {layout} before this layer"
    elif first:
        fix = (f"give each example its channel dimension: input_shape={image}; for a batch X "
               f"use X.reshape(-1, {', '.join(map(str, image))})")
    else:  # split dim 1 (of size per[0]) into the missing dims
        fix = f"add nn.Unflatten(1, {image[: len(image) - len(per) + 1]}) before this layer"
        fix += ", or remove the nn.Flatten() before it" if X.dim() == 2 else ""
    return _Diagnosis(expected, fix)


def _check_conv(m: _ConvNd, X: torch.Tensor, first: bool) -> _Diagnosis | None:
    cls, c_i, c = type(m).__name__, m.in_channels, X.shape[1] if X.dim() > 1 else 0
    if X.dim() != len(m.kernel_size) + 2:
        return _check_conv_dims(m, X, first)
    if c != c_i:
        rest = m.extra_repr().split(", ", 1)[1]  # "6, kernel_size=(5, 5), stride=(1, 1), ..."
        fix = f"use nn.{cls}({c}, {rest}) here, or nn.Lazy{cls}({rest}) to infer it"
        if first and c == 1:
            fix += (f"; or convert the images, e.g. repeat the gray channel: "
                    f"X.repeat(1, {c_i}, 1, 1) or transforms.Grayscale(num_output_channels={c_i})")
        elif first and c_i == 1:
            fix += "; or convert the images to gray: transforms.Grayscale()"
        return _Diagnosis(f"{cls} expected {_plural(c_i, 'input channel')} (in_channels={c_i}) "
                          f"but the input has {_plural(c, 'channel')}, shape "
                          f"{_fmt(X.shape[1:], batch=True)}", fix)  # fmt: skip
    if m.transposed:
        return None
    return _check_window(cls, m.kernel_size, m.padding, m.dilation, X, len(m.kernel_size),
                         first, conv=True)  # fmt: skip


def _diagnose(m: nn.Module, X: Any, first: bool) -> _Diagnosis | None:
    """Explain, before the layer runs, why it cannot take ``X``; ``None`` if it can."""
    if not isinstance(X, torch.Tensor):
        return None
    if isinstance(m, nn.Linear):
        return _check_linear(m, X)
    if isinstance(m, _ConvNd):
        return _check_conv(m, X, first)
    if isinstance(m, _BatchNorm) and X.dim() >= 2 and X.shape[1] != m.num_features:
        cls, c = type(m).__name__, X.shape[1]
        lazy = f", or nn.Lazy{cls}() to infer it" if hasattr(nn, f"Lazy{cls}") else ""
        return _Diagnosis(f"{cls} expected num_features={m.num_features} channels but the "
                          f"input has {_plural(c, 'channel')}, shape {_fmt(X.shape[1:], True)}",
                          f"use nn.{cls}({c}) here (the channels of the layer before){lazy}")
    n = next((n for cls, n in _POOLS.items() if isinstance(m, cls)), 0)
    if n and not m.ceil_mode:
        return _check_window(type(m).__name__, m.kernel_size, m.padding,
                             getattr(m, "dilation", 1), X, n, first, conv=False)  # fmt: skip
    return None


def _size_that_fits(model: nn.Module, X: torch.Tensor, n: int) -> Shape | None:
    """The smallest growth of the last ``n`` input dims that lets the whole model run."""
    if any(is_lazy(p) for p in model.parameters()):
        return None  # running would initialize the lazy layers: leave the model alone
    start = time.perf_counter()
    for t in range(1, 129):
        size = tuple(d + t for d in X.shape[-n:])
        try:
            model(X.new_zeros((*X.shape[:-n], *size)))
            return size
        except Exception:  # any failure: try the next size, for at most 2 seconds
            if time.perf_counter() - start > 2.0:
                return None
    return None
