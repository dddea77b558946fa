"""Oracle tests for cnnkit.shapes: each formula against what PyTorch's layers produce.

Like micrograd's ``test/test_engine.py``: the same computation done by ``cnnkit`` and by
PyTorch, compared, over parametrized textbook cases and hypothesis-generated ones. Where
PyTorch refuses a combination, ``cnnkit`` must raise ``ValueError``, and the other way
round.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from cnnkit.shapes import (
    conv2d_macs,
    conv2d_output_shape,
    conv2d_params,
    pool2d_output_shape,
    same_padding,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # see conftest.py

# Derandomized and without an example database: every run checks the same cases.
PROPERTY = settings(max_examples=300, deadline=None, derandomize=True, database=None)
FEW = settings(max_examples=60, deadline=None, derandomize=True, database=None)

REPO = Path(__file__).resolve().parents[1]


def size2d(lo: int, hi: int) -> st.SearchStrategy:
    """An int in [lo, hi] or an (h, w) pair of them: both forms the API accepts."""
    ints = st.integers(lo, hi)
    return st.one_of(ints, st.tuples(ints, ints))


def hw(value: int | tuple[int, int]) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else tuple(value)


def torch_conv_hw(input_hw, kernel_size, padding=0, stride=1, dilation=1):
    """(H, W) that F.conv2d gives on a 1x1xHxW input, or None when PyTorch raises."""
    X = torch.zeros(1, 1, *hw(input_hw))  # (N, C, H, W)
    K = torch.zeros(1, 1, *hw(kernel_size))  # (c_o, c_i, k_h, k_w)
    try:
        Y = F.conv2d(X, K, padding=padding, stride=stride, dilation=dilation)
    except RuntimeError:
        return None
    return tuple(Y.shape[-2:])


def torch_pool_hw(pool, input_hw):
    """(H, W) that a pooling layer gives on a 1x1xHxW input, or None when PyTorch raises."""
    try:
        return tuple(pool(torch.zeros(1, 1, *hw(input_hw))).shape[-2:])
    except RuntimeError:
        return None


def assert_agrees(expected, ours, *args, **kwargs):
    """``ours(*args, **kwargs) == expected``, or ValueError where PyTorch raised (None)."""
    if expected is None:
        with pytest.raises(ValueError):
            ours(*args, **kwargs)
    else:
        assert ours(*args, **kwargs) == expected


# --- conv2d_output_shape ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("input_hw", "kernel_size", "padding", "stride", "expected"),
    [
        (8, 3, 1, 1, (8, 8)),  # padding 1 keeps a 3x3 kernel's output at 8x8
        (8, (5, 3), (2, 1), 1, (8, 8)),  # padding (k - 1)/2 per dimension
        (8, 3, 1, 2, (4, 4)),  # stride 2 halves it
        (8, (3, 5), (0, 1), (3, 4), (2, 2)),  # the textbook's uneven stride example
        (28, 5, 0, 1, (24, 24)),  # LeNet's first layer
        (224, 11, 1, 4, (54, 54)),  # AlexNet's first layer
    ],
)
def test_conv2d_output_shape_textbook(input_hw, kernel_size, padding, stride, expected):
    assert conv2d_output_shape(input_hw, kernel_size, padding, stride) == expected
    conv = nn.Conv2d(1, 1, kernel_size, stride=stride, padding=padding, device="meta")
    assert tuple(conv(torch.empty(1, 1, *hw(input_hw), device="meta")).shape[-2:]) == expected


@PROPERTY
@given(
    input_hw=size2d(1, 12),
    kernel_size=size2d(1, 6),
    padding=st.one_of(size2d(0, 4), st.sampled_from(["same", "valid"])),
    stride=size2d(1, 4),
    dilation=size2d(1, 3),
)
def test_conv2d_output_shape_matches_pytorch(input_hw, kernel_size, padding, stride, dilation):
    expected = torch_conv_hw(input_hw, kernel_size, padding, stride, dilation)
    assert_agrees(expected, conv2d_output_shape, input_hw, kernel_size, padding, stride, dilation)


@PROPERTY
@given(
    input_hw=size2d(0, 6),
    kernel_size=size2d(0, 4),
    padding=st.one_of(size2d(-1, 2), st.sampled_from(["same", "valid"])),
    stride=size2d(0, 2),
    dilation=size2d(0, 2),
)
def test_conv2d_output_shape_rejects_what_pytorch_rejects(
    input_hw, kernel_size, padding, stride, dilation
):
    """Zero and negative sizes included: both must refuse the same combinations."""
    expected = torch_conv_hw(input_hw, kernel_size, padding, stride, dilation)
    assert_agrees(expected, conv2d_output_shape, input_hw, kernel_size, padding, stride, dilation)


def test_conv2d_output_shape_same_padding_with_stride_is_rejected():
    assert torch_conv_hw(8, 3, "same", 2) is None
    with pytest.raises(ValueError, match="padding='same'.*stride"):
        conv2d_output_shape(8, 3, "same", 2)


# --- pool2d_output_shape ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("input_hw", "kernel_size", "stride", "padding", "expected"),
    [
        (3, 2, 1, 0, (2, 2)),  # the textbook's 3x3 example with a 2x2 window, stride 1
        (4, 3, None, 0, (1, 1)),  # stride defaults to the window: one window fits
        (4, 3, 2, 1, (2, 2)),
        (4, (2, 3), (2, 3), (0, 1), (2, 2)),
        (54, 3, 2, 0, (26, 26)),  # AlexNet's first pooling
    ],
)
def test_pool2d_output_shape_textbook(input_hw, kernel_size, stride, padding, expected):
    assert pool2d_output_shape(input_hw, kernel_size, stride, padding) == expected
    pool = nn.MaxPool2d(kernel_size, stride, padding)
    assert torch_pool_hw(pool, input_hw) == expected


@PROPERTY
@given(
    input_hw=size2d(1, 12),
    kernel_size=size2d(1, 6),
    stride=st.one_of(st.none(), size2d(1, 4)),
    padding=size2d(0, 3),
    dilation=size2d(1, 3),
    ceil_mode=st.booleans(),
)
def test_pool2d_output_shape_matches_max_pool(
    input_hw, kernel_size, stride, padding, dilation, ceil_mode
):
    pool = nn.MaxPool2d(kernel_size, stride, padding, dilation, ceil_mode=ceil_mode)
    expected = torch_pool_hw(pool, input_hw)
    args = (input_hw, kernel_size, stride, padding, dilation, ceil_mode)
    assert_agrees(expected, pool2d_output_shape, *args)


@PROPERTY
@given(
    input_hw=size2d(1, 12),
    kernel_size=size2d(1, 6),
    stride=st.one_of(st.none(), size2d(1, 4)),
    padding=size2d(0, 3),
    ceil_mode=st.booleans(),
)
def test_pool2d_output_shape_matches_avg_pool(input_hw, kernel_size, stride, padding, ceil_mode):
    """AvgPool2d has no dilation; with dilation 1 its shapes and rules are max-pool's."""
    pool = nn.AvgPool2d(kernel_size, stride, padding, ceil_mode=ceil_mode)
    expected = torch_pool_hw(pool, input_hw)
    args = (input_hw, kernel_size, stride, padding, 1, ceil_mode)  # dilation 1
    assert_agrees(expected, pool2d_output_shape, *args)


@PROPERTY
@given(
    input_hw=size2d(0, 5),
    kernel_size=size2d(0, 4),
    stride=st.one_of(st.none(), size2d(0, 2)),
    padding=size2d(-1, 2),
    dilation=size2d(0, 2),
    ceil_mode=st.booleans(),
)
def test_pool2d_output_shape_rejects_what_pytorch_rejects(
    input_hw, kernel_size, stride, padding, dilation, ceil_mode
):
    def pool(X):
        return F.max_pool2d(X, kernel_size, stride, padding, dilation, ceil_mode=ceil_mode)

    expected = torch_pool_hw(pool, input_hw)
    args = (input_hw, kernel_size, stride, padding, dilation, ceil_mode)
    assert_agrees(expected, pool2d_output_shape, *args)


@pytest.mark.parametrize(
    ("kernel_size", "padding", "dilation", "allowed"),
    [
        (3, 1, 1, True),
        (3, 2, 1, False),
        (4, 2, 1, True),
        (1, 1, 5, False),  # a 1x1 window takes no padding, whatever the dilation
        (2, 2, 3, False),  # effective window 4 would allow 2, but PyTorch checks k // 2 = 1
        (3, 2, 2, False),  # effective window 5 would allow 2, but PyTorch checks k // 2 = 1
    ],
)
def test_pool_padding_is_at_most_half_the_window(kernel_size, padding, dilation, allowed):
    """PyTorch checks pad <= k // 2 of the undilated window (and of the dilated one)."""
    pool = nn.MaxPool2d(kernel_size, 1, padding, dilation)
    assert (torch_pool_hw(pool, 12) is not None) is allowed
    if allowed:
        pool2d_output_shape(12, kernel_size, 1, padding, dilation)
    else:
        with pytest.raises(ValueError, match="padding .* more than half of kernel_size"):
            pool2d_output_shape(12, kernel_size, 1, padding, dilation)


def test_pool_ceil_mode_drops_a_window_that_starts_in_the_right_padding():
    # n=5, k=2, s=2, p=1: ceil((5 + 2 - 2)/2) + 1 = 4 windows would start at -1, 1, 3, 5;
    # the one at 5 starts in the right padding, so PyTorch keeps 3.
    assert torch_pool_hw(nn.MaxPool2d(2, 2, 1, ceil_mode=True), 5) == (3, 3)
    assert pool2d_output_shape(5, 2, 2, 1, ceil_mode=True) == (3, 3)
    assert pool2d_output_shape(6, 2, 2, 1, ceil_mode=True) == (4, 4)  # here it starts inside


# --- same_padding ----------------------------------------------------------------------


@PROPERTY
@given(
    input_hw=size2d(1, 8),
    kernel_size=size2d(1, 6),
    dilation=size2d(1, 3),
    seed=st.integers(0, 2**16),
)
def test_same_padding_keeps_the_size_and_equals_pytorch_same(input_hw, kernel_size, dilation, seed):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(1, 2, *hw(input_hw), generator=g, dtype=torch.float64)
    K = torch.randn(3, 2, *hw(kernel_size), generator=g, dtype=torch.float64)
    p_top, p_bottom, p_left, p_right = same_padding(kernel_size, dilation)
    Y = F.conv2d(F.pad(X, (p_left, p_right, p_top, p_bottom)), K, dilation=dilation)
    assert Y.shape[-2:] == X.shape[-2:]
    # Not only the size: the values are PyTorch's, so the split is the same one.
    torch.testing.assert_close(Y, F.conv2d(X, K, padding="same", dilation=dilation))


@pytest.mark.parametrize(
    ("kernel_size", "dilation", "expected"),
    [
        (3, 1, (1, 1, 1, 1)),
        (5, 2, (4, 4, 4, 4)),
        (2, 1, (0, 1, 0, 1)),  # odd total: the extra goes on bottom/right
        (4, 1, (1, 2, 1, 2)),
        (2, 2, (1, 1, 1, 1)),  # even kernel, even dilation: even total
        (2, 3, (1, 2, 1, 2)),  # even kernel, odd dilation: odd total 3
        ((4, 3), (3, 1), (4, 5, 1, 1)),
    ],
)
def test_same_padding_values(kernel_size, dilation, expected):
    assert same_padding(kernel_size, dilation) == expected


def test_same_padding_puts_the_extra_row_and_column_on_bottom_right():
    p_top, p_bottom, p_left, p_right = same_padding(4)
    X = F.pad(torch.ones(1, 1, 5, 5), (p_left, p_right, p_top, p_bottom))  # (1, 1, 8, 8)
    assert X[0, 0].sum(dim=1).tolist() == [0, 5, 5, 5, 5, 5, 0, 0]  # rows: 2 zero at bottom
    assert X[0, 0].sum(dim=0).tolist() == [0, 5, 5, 5, 5, 5, 0, 0]  # columns: 2 on the right


# --- conv2d_params and conv2d_macs -----------------------------------------------------


@PROPERTY
@given(
    groups=st.integers(1, 4),
    c_i_per_group=st.integers(1, 4),
    c_o_per_group=st.integers(1, 4),
    kernel_size=size2d(1, 5),
    bias=st.booleans(),
)
def test_conv2d_params_matches_nn_conv2d(groups, c_i_per_group, c_o_per_group, kernel_size, bias):
    c_i, c_o = groups * c_i_per_group, groups * c_o_per_group
    conv = nn.Conv2d(c_i, c_o, kernel_size, bias=bias, groups=groups, device="meta")
    expected = sum(p.numel() for p in conv.parameters())
    assert conv2d_params(c_i, c_o, kernel_size, bias=bias, groups=groups) == expected


def torch_conv_flops(c_i, c_o, input_hw, kernel_size, groups=1, **conv_kwargs):
    """FLOPs of F.conv2d on one image by PyTorch's FlopCounterMode (2 per multiply-add)."""
    X = torch.empty(1, c_i, *hw(input_hw), device="meta")  # shapes only, no compute
    K = torch.empty(c_o, c_i // groups, *hw(kernel_size), device="meta")
    with FlopCounterMode(display=False) as counter:
        F.conv2d(X, K, groups=groups, **conv_kwargs)
    return counter.get_total_flops()


@FEW
@given(
    groups=st.integers(1, 3),
    c_i_per_group=st.integers(1, 3),
    c_o_per_group=st.integers(1, 3),
    input_hw=size2d(6, 12),
    kernel_size=size2d(1, 3),
    padding=size2d(0, 2),
    stride=size2d(1, 3),
    dilation=size2d(1, 2),
)
def test_conv2d_macs_matches_flop_counter(
    groups, c_i_per_group, c_o_per_group, input_hw, kernel_size, padding, stride, dilation
):
    c_i, c_o = groups * c_i_per_group, groups * c_o_per_group
    kwargs = {"padding": padding, "stride": stride, "dilation": dilation}
    flops = torch_conv_flops(c_i, c_o, input_hw, kernel_size, groups, **kwargs)
    assert 2 * conv2d_macs(c_i, c_o, input_hw, kernel_size, groups=groups, **kwargs) == flops


def test_conv2d_cost_textbook_example():
    """256x256 input, 5x5 kernel, 128 -> 128 channels, "same" padding."""
    macs = 256 * 256 * 128 * 128 * 25
    assert conv2d_macs(128, 128, 256, 5, padding="same") == macs
    assert conv2d_macs(128, 128, 256, 5, padding=2) == macs
    assert 2 * macs == torch_conv_flops(128, 128, 256, 5, padding="same")
    assert conv2d_params(128, 128, 5) == 128 * 128 * 25 + 128


# --- errors ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("func", "kwargs", "fragment"),
    [
        (conv2d_output_shape, {"input_hw": 0, "kernel_size": 3}, "input_hw"),
        (conv2d_output_shape, {"input_hw": 8, "kernel_size": -1}, "kernel_size"),
        (conv2d_output_shape, {"input_hw": 8, "kernel_size": 3, "stride": 0}, "stride must be a positive int or an (h, w) pair of positive ints, got 0"),  # noqa: E501
        (conv2d_output_shape, {"input_hw": 8, "kernel_size": 3, "dilation": 0}, "dilation"),
        (conv2d_output_shape, {"input_hw": 8, "kernel_size": 3, "padding": -1}, "padding"),
        (conv2d_output_shape, {"input_hw": 8, "kernel_size": 3, "padding": "full"}, "padding"),
        (conv2d_output_shape, {"input_hw": 8, "kernel_size": 2.0}, "kernel_size"),
        (conv2d_output_shape, {"input_hw": "8", "kernel_size": 2}, "input_hw"),
        (conv2d_output_shape, {"input_hw": 8, "kernel_size": True}, "kernel_size"),
        (conv2d_output_shape, {"input_hw": (8, 8, 3), "kernel_size": 3}, "input_hw"),
        (conv2d_output_shape, {"input_hw": 8, "kernel_size": (3,)}, "kernel_size"),
        (conv2d_output_shape, {"input_hw": 5, "kernel_size": 7}, "kernel_size 7 (effective 7 with dilation 1) is larger than the padded input 5 (input 5 + 2*padding 0); add padding"),  # noqa: E501
        (conv2d_output_shape, {"input_hw": 5, "kernel_size": 3, "dilation": 3}, "effective 7"),
        (pool2d_output_shape, {"input_hw": 8, "kernel_size": 3, "padding": 2}, "padding"),
        (pool2d_output_shape, {"input_hw": 8, "kernel_size": 3, "stride": 0}, "stride"),
        (pool2d_output_shape, {"input_hw": 2, "kernel_size": 3}, "kernel_size"),
        (pool2d_output_shape, {"input_hw": 8, "kernel_size": 2, "ceil_mode": "yes"}, "ceil_mode"),
        (same_padding, {"kernel_size": 0}, "kernel_size"),
        (same_padding, {"kernel_size": 3, "dilation": 1.5}, "dilation"),
        (conv2d_params, {"c_i": 0, "c_o": 4, "kernel_size": 3}, "c_i"),
        (conv2d_params, {"c_i": 4, "c_o": 4.0, "kernel_size": 3}, "c_o"),
        (conv2d_params, {"c_i": 4, "c_o": 6, "kernel_size": 3, "groups": 4}, "groups"),
        (conv2d_params, {"c_i": 4, "c_o": 4, "kernel_size": 3, "groups": 0}, "groups"),
        (conv2d_params, {"c_i": 4, "c_o": 4, "kernel_size": 3, "bias": 1}, "bias"),
        (conv2d_macs, {"c_i": 4, "c_o": 6, "input_hw": 8, "kernel_size": 3, "groups": 3}, "groups"),
        (conv2d_macs, {"c_i": 4, "c_o": 6, "input_hw": 2, "kernel_size": 3}, "kernel_size"),
    ],
)
def test_invalid_input_raises_value_error_naming_the_argument(func, kwargs, fragment):
    with pytest.raises(ValueError) as excinfo:
        func(**kwargs)
    assert fragment in str(excinfo.value)


@pytest.mark.parametrize(
    ("func", "kwargs", "dim"),
    [
        (conv2d_output_shape, {"input_hw": 8, "kernel_size": 3, "stride": (2, 0)}, "width"),
        (conv2d_output_shape, {"input_hw": 8, "kernel_size": (2.5, 3)}, "height"),
        (conv2d_output_shape, {"input_hw": (8, 2), "kernel_size": 3}, "width"),
        (conv2d_output_shape, {"input_hw": (2, 8), "kernel_size": 3}, "height"),
        (pool2d_output_shape, {"input_hw": 8, "kernel_size": (3, 2), "padding": (1, 2)}, "width"),
        (pool2d_output_shape, {"input_hw": (1, 8), "kernel_size": 2}, "height"),
    ],
)
def test_error_message_says_which_dimension(func, kwargs, dim):
    with pytest.raises(ValueError, match=dim):
        func(**kwargs)


def test_error_message_has_no_dimension_when_both_agree():
    with pytest.raises(ValueError) as excinfo:
        conv2d_output_shape(5, 7)
    assert "height" not in str(excinfo.value) and "width" not in str(excinfo.value)


def test_shapes_import_without_torch():
    """``import cnnkit`` and cnnkit.shapes must work where torch cannot be imported."""
    code = (
        "import sys; sys.modules['torch'] = None; "  # any `import torch` now fails
        "import cnnkit.shapes, cnnkit; print(cnnkit.conv2d_output_shape(28, 5))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "(24, 24)"
