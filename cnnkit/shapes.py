"""Output shapes, parameter counts and cost of 2-D convolution and pooling, in plain ints.

No torch here: ``import cnnkit`` stays cheap, and every formula can be read (and checked
by hand) the way the lecture notes write it. ``tests/test_shapes.py`` checks each one
against what PyTorch's layers actually produce.

Lecture notebooks: ``course/02_convolutions_padding_stride.ipynb`` (output shape, padding,
stride, dilation), ``course/04_channels.ipynb`` (parameters and cost) and
``course/05_pooling.ipynb`` (pooling).

Every size argument is an ``int`` (the same for height and width) or an ``(h, w)`` pair.
Invalid input raises :class:`ValueError` naming the argument and the rule it breaks.
"""

from __future__ import annotations

import operator

__all__ = [
    "conv2d_output_shape",
    "pool2d_output_shape",
    "same_padding",
    "conv2d_params",
    "conv2d_macs",
]

#: An int for both dimensions, or a pair ``(h, w)``.
Size2d = int | tuple[int, int] | list[int]

_DIMS = ("height", "width")


def _pair(value: object, name: str, *, minimum: int = 1) -> tuple[int, int]:
    """Return ``(h, w)`` from an int or an ``(h, w)`` pair of ints ``>= minimum``."""
    kind = "positive" if minimum == 1 else "non-negative"
    rule = f"{name} must be a {kind} int or an (h, w) pair of {kind} ints, got {value!r}"
    is_pair = isinstance(value, tuple | list)
    if is_pair and len(value) != 2:
        raise ValueError(f"{rule}: a pair has exactly 2 entries (height, width)")
    items = tuple(value) if is_pair else (value, value)
    result = []
    for dim, item in zip(_DIMS, items, strict=True):
        where = f" ({dim} is {item!r})" if is_pair else ""
        if isinstance(item, bool):  # True is an int in Python, but never a size
            raise ValueError(f"{rule}{where}; True/False is not a size")
        try:
            number = operator.index(item)  # ints (and NumPy/torch integers), never 2.0 or "2"
        except TypeError:
            raise ValueError(f"{rule}{where}; write whole numbers such as 2, not 2.0") from None
        if number < minimum:
            raise ValueError(f"{rule}{where}")
        result.append(number)
    return result[0], result[1]


def _positive_int(value: object, name: str) -> int:
    """Return ``value`` as an int if it is a positive int (a channel count or ``groups``)."""
    try:
        number = operator.index(value) if not isinstance(value, bool) else 0
    except TypeError:
        number = 0
    if number < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    return number


def _dim_error(problems: list[str | None]) -> None:
    """Raise one ValueError for per-dimension problems ``[height, width]`` (None = fine)."""
    h, w = problems
    if h is not None and h == w:
        raise ValueError(h)  # the same problem in both dimensions: say it once
    for dim, problem in zip(_DIMS, problems, strict=True):
        if problem is not None:
            raise ValueError(f"in {dim}: {problem}")


def _check_fits(n: int, k: int, p: int, d: int) -> str | None:
    """Describe why an (effective) kernel does not fit the padded input, or None."""
    k_eff = d * (k - 1) + 1
    if k_eff <= n + 2 * p:
        return None
    return (
        f"kernel_size {k} (effective {k_eff} with dilation {d}) is larger than the padded "
        f"input {n + 2 * p} (input {n} + 2*padding {p}); add padding or use a smaller kernel"
    )


def conv2d_output_shape(
    input_hw: Size2d,
    kernel_size: Size2d,
    padding: Size2d | str = 0,
    stride: Size2d = 1,
    dilation: Size2d = 1,
) -> tuple[int, int]:
    """Height and width of the output of a 2-D convolution (as ``nn.Conv2d`` computes them).

    Per dimension, with input ``n``, kernel ``k``, padding ``p`` (on each side), stride
    ``s`` and dilation ``d``: ``out = (n + 2*p - d*(k - 1) - 1) // s + 1``.
    Introduced in ``course/02_convolutions_padding_stride.ipynb``.

    Args:
        input_hw: input size ``n_h`` or ``(n_h, n_w)``.
        kernel_size: ``k_h`` or ``(k_h, k_w)``.
        padding: ``p_h`` or ``(p_h, p_w)`` zeros on each side, or ``"valid"`` (no
            padding) or ``"same"`` (output size = input size; only with stride 1, as in
            PyTorch).
        stride: ``s_h`` or ``(s_h, s_w)``.
        dilation: ``d_h`` or ``(d_h, d_w)``; the effective kernel is ``d*(k - 1) + 1``.

    Returns:
        ``(h_out, w_out)``.

    Raises:
        ValueError: for a non-int or non-positive size, negative padding, ``"same"`` with
            stride > 1, or an effective kernel larger than the padded input.
    """
    n_h, n_w = _pair(input_hw, "input_hw")
    k_h, k_w = _pair(kernel_size, "kernel_size")
    s_h, s_w = _pair(stride, "stride")
    d_h, d_w = _pair(dilation, "dilation")
    if padding == "same":
        if (s_h, s_w) != (1, 1):
            raise ValueError(
                f"padding='same' needs stride 1, got stride={stride!r} (PyTorch rejects "
                "'same' for strided convolutions); use stride=1 or give padding as ints"
            )
        return n_h, n_w  # total padding d*(k - 1) per dimension, see same_padding()
    if padding == "valid":
        padding = 0
    elif isinstance(padding, str):
        raise ValueError(
            f"padding must be an int, an (h, w) pair, 'same' or 'valid', got {padding!r}"
        )
    p_h, p_w = _pair(padding, "padding", minimum=0)
    _dim_error([_check_fits(n_h, k_h, p_h, d_h), _check_fits(n_w, k_w, p_w, d_w)])
    h_out = (n_h + 2 * p_h - d_h * (k_h - 1) - 1) // s_h + 1
    w_out = (n_w + 2 * p_w - d_w * (k_w - 1) - 1) // s_w + 1
    return h_out, w_out


def _pool1d(n: int, k: int, s: int, p: int, d: int, ceil_mode: bool) -> tuple[int, str | None]:
    """Output size of pooling along one dimension, and the rule it breaks (or None)."""
    if p > k // 2:
        return 0, (
            f"padding {p} is more than half of kernel_size {k} (PyTorch allows at most "
            f"kernel_size // 2 = {k // 2}, whatever the dilation); use less padding"
        )
    if ceil_mode:
        out = (n + 2 * p - d * (k - 1) - 1 + (s - 1)) // s + 1
        if (out - 1) * s >= n + p:  # the last window would start in the right padding
            out -= 1
    else:
        out = (n + 2 * p - d * (k - 1) - 1) // s + 1
    return out, _check_fits(n, k, p, d) if out < 1 else None


def pool2d_output_shape(
    input_hw: Size2d,
    kernel_size: Size2d,
    stride: Size2d | None = None,
    padding: Size2d = 0,
    dilation: Size2d = 1,
    ceil_mode: bool = False,
) -> tuple[int, int]:
    """Height and width of the output of 2-D pooling (as ``nn.MaxPool2d`` computes them).

    The formula is the convolution's, ``out = (n + 2*p - d*(k - 1) - 1) // s + 1``, with
    the stride defaulting to the window size. With ``ceil_mode=True`` the division rounds
    up, but a window must start inside the input or the left padding, so PyTorch drops
    the last one when ``(out - 1)*s >= n + p``. ``nn.AvgPool2d`` gives the same shapes
    (it has no dilation). Introduced in ``course/05_pooling.ipynb``.

    Args:
        input_hw: input size ``n_h`` or ``(n_h, n_w)``.
        kernel_size: pooling window ``k_h`` or ``(k_h, k_w)``.
        stride: ``s_h`` or ``(s_h, s_w)``; ``None`` means ``kernel_size``.
        padding: ``p_h`` or ``(p_h, p_w)`` on each side; PyTorch allows at most
            ``kernel_size // 2`` (of the window itself, not of the dilated window).
        dilation: ``d_h`` or ``(d_h, d_w)``.
        ceil_mode: round the output size up instead of down.

    Returns:
        ``(h_out, w_out)``.

    Raises:
        ValueError: for a non-int or non-positive size, negative padding, padding more
            than half the window, or an output smaller than 1.
    """
    n_h, n_w = _pair(input_hw, "input_hw")
    k_h, k_w = _pair(kernel_size, "kernel_size")
    s_h, s_w = (k_h, k_w) if stride is None else _pair(stride, "stride")
    p_h, p_w = _pair(padding, "padding", minimum=0)
    d_h, d_w = _pair(dilation, "dilation")
    if not isinstance(ceil_mode, bool):
        raise ValueError(f"ceil_mode must be True or False, got {ceil_mode!r}")
    h_out, h_problem = _pool1d(n_h, k_h, s_h, p_h, d_h, ceil_mode)
    w_out, w_problem = _pool1d(n_w, k_w, s_w, p_w, d_w, ceil_mode)
    _dim_error([h_problem, w_problem])
    return h_out, w_out


def same_padding(kernel_size: Size2d, dilation: Size2d = 1) -> tuple[int, int, int, int]:
    """Padding that keeps the output size equal to the input size (with stride 1).

    Per dimension the total padding is ``d*(k - 1)``. An even total is split equally; an
    odd total (an even kernel with odd dilation) puts the extra row at the bottom and the
    extra column on the right, exactly where PyTorch's ``padding="same"`` puts them:
    ``p_top = floor(total/2)``, ``p_bottom = ceil(total/2)``, so
    ``F.conv2d(F.pad(X, (p_left, p_right, p_top, p_bottom)), K, dilation=d)`` equals
    ``F.conv2d(X, K, padding="same", dilation=d)``. (Some textbooks put the extra on
    top/left instead: same output size, values shifted by one pixel.) Introduced in
    ``course/02_convolutions_padding_stride.ipynb``.

    Args:
        kernel_size: ``k_h`` or ``(k_h, k_w)``.
        dilation: ``d_h`` or ``(d_h, d_w)``.

    Returns:
        ``(p_top, p_bottom, p_left, p_right)``, e.g. ``(1, 2, 1, 2)`` for ``k = 4``. Note
        the order: ``F.pad`` and ``nn.ZeroPad2d`` take ``(p_left, p_right, p_top, p_bottom)``.
    """
    k_h, k_w = _pair(kernel_size, "kernel_size")
    d_h, d_w = _pair(dilation, "dilation")
    total_h, total_w = d_h * (k_h - 1), d_w * (k_w - 1)
    p_top, p_left = total_h // 2, total_w // 2  # the odd one out goes to bottom/right
    return p_top, total_h - p_top, p_left, total_w - p_left


def _check_channels(c_i: object, c_o: object, groups: object) -> tuple[int, int, int]:
    """Check channel counts and ``groups`` (which must divide both)."""
    c_i, c_o = _positive_int(c_i, "c_i"), _positive_int(c_o, "c_o")
    groups = _positive_int(groups, "groups")
    if c_i % groups or c_o % groups:
        raise ValueError(
            f"groups must divide c_i and c_o, got groups={groups} with c_i={c_i}, c_o={c_o}; "
            "pick a common divisor of the channel counts"
        )
    return c_i, c_o, groups


def conv2d_params(
    c_i: int, c_o: int, kernel_size: Size2d, bias: bool = True, groups: int = 1
) -> int:
    """Number of learnable parameters of ``nn.Conv2d(c_i, c_o, kernel_size, ...)``.

    ``c_o * (c_i // groups) * k_h * k_w`` weights, plus ``c_o`` biases. The count does
    not depend on the input size, padding or stride. Introduced in
    ``course/04_channels.ipynb``.

    Args:
        c_i: input channels.
        c_o: output channels.
        kernel_size: ``k_h`` or ``(k_h, k_w)``.
        bias: whether the layer has one bias per output channel.
        groups: number of channel groups; must divide ``c_i`` and ``c_o``.

    Returns:
        The number of parameters.
    """
    c_i, c_o, groups = _check_channels(c_i, c_o, groups)
    k_h, k_w = _pair(kernel_size, "kernel_size")
    if not isinstance(bias, bool):
        raise ValueError(f"bias must be True or False, got {bias!r}")
    return c_o * (c_i // groups) * k_h * k_w + (c_o if bias else 0)


def conv2d_macs(
    c_i: int,
    c_o: int,
    input_hw: Size2d,
    kernel_size: Size2d,
    padding: Size2d | str = 0,
    stride: Size2d = 1,
    dilation: Size2d = 1,
    groups: int = 1,
) -> int:
    """Multiply-accumulates of one forward pass of a 2-D convolution on one image.

    Each of the ``h_out * w_out * c_o`` outputs is a sum of ``(c_i // groups) * k_h * k_w``
    products, so MACs = ``h_out * w_out * c_o * (c_i // groups) * k_h * k_w``. The bias
    additions (``h_out * w_out * c_o``) are not counted. A FLOP counter reports about
    ``2 * MACs`` (one multiply and one add each). Introduced in ``course/04_channels.ipynb``.

    Args:
        c_i: input channels.
        c_o: output channels.
        input_hw: input size ``n_h`` or ``(n_h, n_w)``.
        kernel_size: ``k_h`` or ``(k_h, k_w)``.
        padding: as in :func:`conv2d_output_shape`.
        stride: as in :func:`conv2d_output_shape`.
        dilation: as in :func:`conv2d_output_shape`.
        groups: number of channel groups; must divide ``c_i`` and ``c_o``.

    Returns:
        The number of multiply-accumulates.
    """
    c_i, c_o, groups = _check_channels(c_i, c_o, groups)
    h_out, w_out = conv2d_output_shape(input_hw, kernel_size, padding, stride, dilation)
    k_h, k_w = _pair(kernel_size, "kernel_size")
    return h_out * w_out * c_o * (c_i // groups) * k_h * k_w
