"""Readable reference versions of convolution and pooling, written as loops that teach.

These follow D2L chapter 7: slow, but every output element is computed the way the
lecture draws it. ``tests/test_ops.py`` checks each one against ``torch.nn.functional``.
Use ``nn.Conv2d`` / ``nn.MaxPool2d`` for real work.

Lecture notebooks: ``course/02_convolutions_padding_stride.ipynb`` (:func:`corr2d`),
``course/03_convolution_layer_by_hand.ipynb`` (:func:`conv2d_naive`, checked against a
convolution layer written with loops), ``course/04_channels.ipynb`` (multiple channels, 1x1
convolution)
and ``course/05_pooling.ipynb`` (:func:`pool2d`).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from cnnkit.shapes import (
    Size2d,
    _pair,  # the same int-or-pair parsing (and messages) as the shape functions
    conv2d_output_shape,
    pool2d_output_shape,
    same_padding,
)

__all__ = [
    "corr2d",
    "corr2d_multi_in",
    "corr2d_multi_in_out",
    "corr2d_multi_in_out_1x1",
    "pool2d",
    "conv2d_naive",
]


def _check_ndim(name: str, T: torch.Tensor, layouts: dict[int, str]) -> None:
    """Raise ValueError unless ``T`` is a tensor with one of the ``layouts`` (ndim -> shape)."""
    if not isinstance(T, torch.Tensor) or T.ndim not in layouts:
        expected = " or ".join(layouts.values())
        got = f"shape {tuple(T.shape)}" if isinstance(T, torch.Tensor) else type(T).__name__
        raise ValueError(f"{name} must be a tensor of shape {expected}, got {got}")


def _check_channels(X: torch.Tensor, K: torch.Tensor, k_dim: int) -> None:
    """Raise ValueError unless ``X.shape[0]`` (c_i) equals ``K.shape[k_dim]``."""
    if X.shape[0] != K.shape[k_dim]:
        raise ValueError(
            f"X has {X.shape[0]} input channels but K expects {K.shape[k_dim]}: "
            f"X.shape = {tuple(X.shape)}, K.shape = {tuple(K.shape)}"
        )


def corr2d(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """2-D cross-correlation (what deep learning calls convolution), one channel.

    Introduced in ``course/02_convolutions_padding_stride.ipynb``.

    Args:
        X: input, shape ``(n_h, n_w)``.
        K: kernel, shape ``(k_h, k_w)``, no larger than ``X``.

    Returns:
        ``Y`` of shape ``(n_h - k_h + 1, n_w - k_w + 1)``.
    """
    _check_ndim("X", X, {2: "(n_h, n_w)"})
    _check_ndim("K", K, {2: "(k_h, k_w)"})
    conv2d_output_shape(tuple(X.shape), tuple(K.shape))  # raises if K is larger than X
    n_h, n_w = X.shape
    k_h, k_w = K.shape
    dtype = torch.promote_types(X.dtype, K.dtype)
    Y = torch.zeros((n_h - k_h + 1, n_w - k_w + 1), dtype=dtype, device=X.device)
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = (X[i : i + k_h, j : j + k_w] * K).sum()
    return Y


def corr2d_multi_in(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """Cross-correlation with several input channels: one kernel per channel, summed.

    Introduced in ``course/04_channels.ipynb``.

    Args:
        X: input, shape ``(c_i, n_h, n_w)``.
        K: kernel, shape ``(c_i, k_h, k_w)``.

    Returns:
        ``Y`` of shape ``(n_h - k_h + 1, n_w - k_w + 1)``.
    """
    _check_ndim("X", X, {3: "(c_i, n_h, n_w)"})
    _check_ndim("K", K, {3: "(c_i, k_h, k_w)"})
    _check_channels(X, K, 0)
    return sum(corr2d(x, k) for x, k in zip(X, K, strict=True))


def corr2d_multi_in_out(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """Cross-correlation with several input and output channels.

    Each output channel has its own ``(c_i, k_h, k_w)`` kernel; the results are stacked.
    Introduced in ``course/04_channels.ipynb``.

    Args:
        X: input, shape ``(c_i, n_h, n_w)``.
        K: kernels, shape ``(c_o, c_i, k_h, k_w)``.

    Returns:
        ``Y`` of shape ``(c_o, n_h - k_h + 1, n_w - k_w + 1)``.
    """
    _check_ndim("X", X, {3: "(c_i, n_h, n_w)"})
    _check_ndim("K", K, {4: "(c_o, c_i, k_h, k_w)"})
    _check_channels(X, K, 1)
    return torch.stack([corr2d_multi_in(X, k) for k in K], 0)


def corr2d_multi_in_out_1x1(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """A 1x1 convolution as one matrix product: it mixes channels at every pixel.

    Introduced in ``course/04_channels.ipynb``.

    Args:
        X: input, shape ``(c_i, h, w)``.
        K: kernels, shape ``(c_o, c_i, 1, 1)``.

    Returns:
        ``Y`` of shape ``(c_o, h, w)``, equal to ``corr2d_multi_in_out(X, K)``.
    """
    _check_ndim("X", X, {3: "(c_i, h, w)"})
    _check_ndim("K", K, {4: "(c_o, c_i, 1, 1)"})
    _check_channels(X, K, 1)
    if K.shape[2:] != (1, 1):
        raise ValueError(f"K must have shape (c_o, c_i, 1, 1), got {tuple(K.shape)}")
    c_i, h, w = X.shape
    c_o = K.shape[0]
    X = X.reshape((c_i, h * w))  # (c_i, h*w): one column per pixel
    K = K.reshape((c_o, c_i))  # (c_o, c_i)
    Y = K @ X  # (c_o, h*w)
    return Y.reshape((c_o, h, w))


def pool2d(
    X: torch.Tensor,
    pool_size: Size2d,
    mode: str = "max",
    padding: Size2d = 0,
    stride: Size2d | None = None,
) -> torch.Tensor:
    """Max or average pooling, one window at a time.

    Padding works like ``nn.MaxPool2d`` (pads with ``-inf``, so it never wins) and
    ``nn.AvgPool2d`` (pads with zeros that count in the average,
    ``count_include_pad=True``). Introduced in ``course/05_pooling.ipynb``.

    Args:
        X: floating-point input, shape ``(n_h, n_w)`` or ``(c, n_h, n_w)`` (each channel
            is pooled on its own).
        pool_size: window ``k_h`` or ``(k_h, k_w)``.
        mode: ``"max"`` or ``"avg"``.
        padding: ``p_h`` or ``(p_h, p_w)`` on each side, at most half the window.
        stride: ``s_h`` or ``(s_h, s_w)``; ``None`` means ``pool_size``.

    Returns:
        ``Y`` of shape ``(h_out, w_out)`` or ``(c, h_out, w_out)``, sizes as given by
        :func:`cnnkit.shapes.pool2d_output_shape`.
    """
    if mode not in ("max", "avg"):
        raise ValueError(f"mode must be 'max' or 'avg', got {mode!r}")
    _check_ndim("X", X, {2: "(n_h, n_w)", 3: "(c, n_h, n_w)"})
    if not X.is_floating_point():
        raise ValueError(f"X must be a floating-point tensor, got {X.dtype}; use X.float()")
    k_h, k_w = _pair(pool_size, "pool_size")
    s_h, s_w = (k_h, k_w) if stride is None else _pair(stride, "stride")
    p_h, p_w = _pair(padding, "padding", minimum=0)
    h_out, w_out = pool2d_output_shape(tuple(X.shape[-2:]), (k_h, k_w), (s_h, s_w), (p_h, p_w))
    fill = -torch.inf if mode == "max" else 0.0
    X = F.pad(X, (p_w, p_w, p_h, p_h), value=fill)  # (..., n_h + 2*p_h, n_w + 2*p_w)
    Y = X.new_zeros((*X.shape[:-2], h_out, w_out))
    for i in range(h_out):
        for j in range(w_out):
            window = X[..., i * s_h : i * s_h + k_h, j * s_w : j * s_w + k_w]  # (..., k_h, k_w)
            Y[..., i, j] = window.amax((-2, -1)) if mode == "max" else window.mean((-2, -1))
    return Y


def conv2d_naive(
    X: torch.Tensor,
    K: torch.Tensor,
    padding: Size2d | str = 0,
    stride: Size2d = 1,
    dilation: Size2d = 1,
) -> torch.Tensor:
    """2-D convolution with padding, stride and dilation, one output position at a time.

    Computes what ``F.conv2d(X[None], K, padding=..., stride=..., dilation=...)[0]``
    computes (without bias). ``padding="same"`` pads like PyTorch: an odd total puts the
    extra row/column on the bottom/right. Introduced in
    ``course/03_convolution_layer_by_hand.ipynb``.

    Args:
        X: input, shape ``(c_i, n_h, n_w)``, or ``(n_h, n_w)`` with a 2-D ``K``.
        K: kernels, shape ``(c_o, c_i, k_h, k_w)``, or ``(k_h, k_w)`` with a 2-D ``X``.
        padding: ``p_h`` or ``(p_h, p_w)`` zeros on each side, ``"valid"`` or ``"same"``.
        stride: ``s_h`` or ``(s_h, s_w)``.
        dilation: ``d_h`` or ``(d_h, d_w)``.

    Returns:
        ``Y`` of shape ``(c_o, h_out, w_out)`` (``(h_out, w_out)`` for 2-D inputs), sizes
        as given by :func:`cnnkit.shapes.conv2d_output_shape`.
    """
    _check_ndim("X", X, {2: "(n_h, n_w)", 3: "(c_i, n_h, n_w)"})
    if X.ndim == 2:  # one channel in, one channel out
        _check_ndim("K", K, {2: "(k_h, k_w) for a 2-D X"})
        return conv2d_naive(X[None], K[None, None], padding, stride, dilation)[0]
    _check_ndim("K", K, {4: "(c_o, c_i, k_h, k_w) for a 3-D X"})
    _check_channels(X, K, 1)
    c_i, n_h, n_w = X.shape
    c_o, _, k_h, k_w = K.shape
    h_out, w_out = conv2d_output_shape((n_h, n_w), (k_h, k_w), padding, stride, dilation)
    s_h, s_w = _pair(stride, "stride")
    d_h, d_w = _pair(dilation, "dilation")
    if padding == "same":  # as PyTorch: an odd total puts the extra on the bottom/right
        p_top, p_bottom, p_left, p_right = same_padding((k_h, k_w), (d_h, d_w))
    else:
        p_h, p_w = (0, 0) if padding == "valid" else _pair(padding, "padding", minimum=0)
        p_top, p_bottom, p_left, p_right = p_h, p_h, p_w, p_w
    X = F.pad(X, (p_left, p_right, p_top, p_bottom))  # (c_i, n_h + p_top + p_bottom, ...)
    Y = X.new_zeros((c_o, h_out, w_out), dtype=torch.promote_types(X.dtype, K.dtype))
    for i in range(h_out):
        for j in range(w_out):
            rows = slice(i * s_h, i * s_h + d_h * (k_h - 1) + 1, d_h)  # k_h rows, d_h apart
            cols = slice(j * s_w, j * s_w + d_w * (k_w - 1) + 1, d_w)
            window = X[:, rows, cols]  # (c_i, k_h, k_w)
            Y[:, i, j] = (window * K).sum((1, 2, 3))  # (c_o, c_i, k_h, k_w) summed -> (c_o,)
    return Y
