"""Oracle tests for cnnkit.ops: each teaching loop against torch.nn.functional.

Like micrograd's ``test/test_engine.py``: the same computation by ``cnnkit`` and by
PyTorch, compared with ``torch.testing.assert_close``, on textbook examples and on
hypothesis-generated sizes, channels, kernels, padding, stride and dilation. Sizes stay
small because the reference loops are slow on purpose.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from cnnkit.ops import (
    conv2d_naive,
    corr2d,
    corr2d_multi_in,
    corr2d_multi_in_out,
    corr2d_multi_in_out_1x1,
    pool2d,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # see conftest.py

# Derandomized and without an example database: every run checks the same cases.
LOOPS = settings(max_examples=30, deadline=None, derandomize=True, database=None)


def randn(seed: int, *shape: int) -> torch.Tensor:
    """A seeded standard-normal float64 tensor (float64: the loops and PyTorch sum in
    different orders, and the comparison should not depend on rounding)."""
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


seeds = st.integers(0, 2**16)
small = st.integers(1, 3)


def size2d(lo: int, hi: int) -> st.SearchStrategy:
    """An int in [lo, hi] or an (h, w) pair of them."""
    ints = st.integers(lo, hi)
    return st.one_of(ints, st.tuples(ints, ints))


def hw(value: int | tuple[int, int]) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else tuple(value)


# --- corr2d and channels ---------------------------------------------------------------


def test_corr2d_textbook_example():
    X = torch.tensor([[0.0, 1.0, 2.0], [3.0, 4.0, 5.0], [6.0, 7.0, 8.0]])
    K = torch.tensor([[0.0, 1.0], [2.0, 3.0]])
    torch.testing.assert_close(corr2d(X, K), torch.tensor([[19.0, 25.0], [37.0, 43.0]]))


def test_corr2d_detects_vertical_edges():
    X = torch.ones((6, 8))
    X[:, 2:6] = 0  # a dark band in the middle
    Y = corr2d(X, torch.tensor([[1.0, -1.0]]))  # (6, 7)
    expected = torch.zeros((6, 7))
    expected[:, 1], expected[:, 5] = 1.0, -1.0  # light-to-dark, then dark-to-light
    torch.testing.assert_close(Y, expected)


@LOOPS
@given(n_h=st.integers(1, 7), n_w=st.integers(1, 7), data=st.data(), seed=seeds)
def test_corr2d_matches_conv2d(n_h, n_w, data, seed):
    k_h, k_w = data.draw(st.integers(1, n_h)), data.draw(st.integers(1, n_w))
    X, K = randn(seed, n_h, n_w), randn(seed + 1, k_h, k_w)
    expected = F.conv2d(X[None, None], K[None, None])[0, 0]  # (N, C, H, W) and back
    torch.testing.assert_close(corr2d(X, K), expected)


def test_corr2d_multi_in_textbook_example():
    X = torch.tensor([[[0.0, 1.0, 2.0], [3.0, 4.0, 5.0], [6.0, 7.0, 8.0]],
                      [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]]])  # fmt: skip
    K = torch.tensor([[[0.0, 1.0], [2.0, 3.0]], [[1.0, 2.0], [3.0, 4.0]]])
    expected = torch.tensor([[56.0, 72.0], [104.0, 120.0]])
    torch.testing.assert_close(corr2d_multi_in(X, K), expected)


@LOOPS
@given(c_i=small, c_o=small, n=size2d(3, 6), k=size2d(1, 3), seed=seeds)
def test_corr2d_multi_in_out_matches_conv2d(c_i, c_o, n, k, seed):
    X, K = randn(seed, c_i, *hw(n)), randn(seed + 1, c_o, c_i, *hw(k))
    expected = F.conv2d(X[None], K)[0]  # (c_o, h', w')
    torch.testing.assert_close(corr2d_multi_in_out(X, K), expected)
    torch.testing.assert_close(corr2d_multi_in(X, K[0]), expected[0])


@LOOPS
@given(c_i=small, c_o=small, n=size2d(1, 6), seed=seeds)
def test_1x1_as_matrix_product_matches_conv2d(c_i, c_o, n, seed):
    X, K = randn(seed, c_i, *hw(n)), randn(seed + 1, c_o, c_i, 1, 1)
    Y = corr2d_multi_in_out_1x1(X, K)
    torch.testing.assert_close(Y, F.conv2d(X[None], K)[0])
    torch.testing.assert_close(Y, corr2d_multi_in_out(X, K))


# --- pool2d ----------------------------------------------------------------------------


def test_pool2d_textbook_example():
    X = torch.tensor([[0.0, 1.0, 2.0], [3.0, 4.0, 5.0], [6.0, 7.0, 8.0]])
    torch.testing.assert_close(pool2d(X, 2, stride=1), torch.tensor([[4.0, 5.0], [7.0, 8.0]]))
    torch.testing.assert_close(
        pool2d(X, 2, "avg", stride=1), torch.tensor([[2.0, 3.0], [5.0, 6.0]])
    )


def test_pool2d_stride_defaults_to_the_window():
    X = torch.arange(16.0).reshape((4, 4))
    torch.testing.assert_close(pool2d(X, 2), torch.tensor([[5.0, 7.0], [13.0, 15.0]]))


@LOOPS
@given(
    mode=st.sampled_from(["max", "avg"]),
    channels=st.sampled_from([None, 1, 3]),  # None: a 2-D (n_h, n_w) input
    pool_size=size2d(1, 4),
    stride=st.one_of(st.none(), size2d(1, 3)),
    data=st.data(),
    seed=seeds,
)
def test_pool2d_matches_functional(mode, channels, pool_size, stride, data, seed):
    k_h, k_w = hw(pool_size)
    padding = data.draw(st.tuples(st.integers(0, k_h // 2), st.integers(0, k_w // 2)))
    n_h = data.draw(st.integers(max(1, k_h - 2 * padding[0]), 8))
    n_w = data.draw(st.integers(max(1, k_w - 2 * padding[1]), 8))
    X = randn(seed, *((channels,) if channels else ()), n_h, n_w)
    if mode == "max":  # pads with -inf
        expected = F.max_pool2d(X[None], pool_size, stride, padding)[0]
    else:  # pads with zeros that count in the mean
        expected = F.avg_pool2d(X[None], pool_size, stride, padding, count_include_pad=True)[0]
    torch.testing.assert_close(pool2d(X, pool_size, mode, padding, stride), expected)


def test_max_pool_padding_never_wins():
    X = -torch.ones((2, 2))  # all negative: a zero in the padding would win
    torch.testing.assert_close(pool2d(X, 3, padding=1), -torch.ones((1, 1)))
    torch.testing.assert_close(pool2d(X, 3, "avg", padding=1), torch.full((1, 1), -4 / 9))


# --- conv2d_naive ----------------------------------------------------------------------


@LOOPS
@given(
    c_i=small,
    c_o=small,
    kernel_size=size2d(1, 3),
    padding=size2d(0, 2),
    stride=size2d(1, 3),
    dilation=size2d(1, 2),
    data=st.data(),
    seed=seeds,
)
def test_conv2d_naive_matches_conv2d(c_i, c_o, kernel_size, padding, stride, dilation, data, seed):
    (k_h, k_w), (p_h, p_w), (d_h, d_w) = hw(kernel_size), hw(padding), hw(dilation)
    # at least as large as the effective kernel once padded, at least 1
    n_h = data.draw(st.integers(max(1, d_h * (k_h - 1) + 1 - 2 * p_h), 8))
    n_w = data.draw(st.integers(max(1, d_w * (k_w - 1) + 1 - 2 * p_w), 8))
    X, K = randn(seed, c_i, n_h, n_w), randn(seed + 1, c_o, c_i, k_h, k_w)
    expected = F.conv2d(X[None], K, padding=padding, stride=stride, dilation=dilation)[0]
    torch.testing.assert_close(conv2d_naive(X, K, padding, stride, dilation), expected)


@LOOPS
@given(
    padding=st.sampled_from(["same", "valid"]),
    kernel_size=size2d(1, 4),
    dilation=size2d(1, 2),
    n=size2d(7, 9),  # "valid" needs room for the effective kernel, up to 7
    seed=seeds,
)
def test_conv2d_naive_same_and_valid_match_conv2d(padding, kernel_size, dilation, n, seed):
    """Even kernels included: "same" must put the extra row/column where PyTorch does."""
    X, K = randn(seed, 2, *hw(n)), randn(seed + 1, 3, 2, *hw(kernel_size))
    expected = F.conv2d(X[None], K, padding=padding, dilation=dilation)[0]
    torch.testing.assert_close(conv2d_naive(X, K, padding, dilation=dilation), expected)


def test_conv2d_naive_accepts_one_channel_2d_inputs():
    X, K = randn(0, 6, 5), randn(1, 3, 2)
    expected = F.conv2d(X[None, None], K[None, None], padding=1, stride=2)[0, 0]
    torch.testing.assert_close(conv2d_naive(X, K, padding=1, stride=2), expected)
    torch.testing.assert_close(conv2d_naive(X, K), corr2d(X, K))


# --- errors ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "fragment"),
    [
        (lambda: corr2d(torch.zeros(1, 3, 3), torch.zeros(2, 2)), "X must be a tensor of shape (n_h, n_w), got shape (1, 3, 3)"),  # noqa: E501
        (lambda: corr2d(torch.zeros(3, 3), torch.zeros(1, 2, 2)), "K must be a tensor"),
        (lambda: corr2d([[0.0, 1.0], [2.0, 3.0]], torch.zeros(1, 1)), "got list"),
        (lambda: corr2d(torch.zeros(3, 3), torch.zeros(4, 2)), "larger than the padded input"),
        (lambda: corr2d_multi_in(torch.zeros(2, 4, 4), torch.zeros(3, 2, 2)), "X.shape = (2, 4, 4), K.shape = (3, 2, 2)"),  # noqa: E501
        (lambda: corr2d_multi_in_out(torch.zeros(3, 4, 4), torch.zeros(2, 3, 2)), "(c_o, c_i, k_h, k_w)"),  # noqa: E501
        (lambda: corr2d_multi_in_out(torch.zeros(3, 4, 4), torch.zeros(5, 2, 2, 2)), "K.shape = (5, 2, 2, 2)"),  # noqa: E501
        (lambda: corr2d_multi_in_out_1x1(torch.zeros(3, 4, 4), torch.zeros(2, 3, 3, 3)), "(c_o, c_i, 1, 1)"),  # noqa: E501
        (lambda: pool2d(torch.zeros(4, 4), 2, mode="min"), "'max' or 'avg'"),
        (lambda: pool2d(torch.zeros(4, 4, dtype=torch.int64), 2), "floating-point"),
        (lambda: pool2d(torch.zeros(1, 1, 4, 4), 2), "X must be a tensor of shape"),
        (lambda: pool2d(torch.zeros(4, 4), 3, padding=2), "padding"),
        (lambda: pool2d(torch.zeros(4, 4), 0), "pool_size"),
        (lambda: conv2d_naive(torch.zeros(2, 5, 5), torch.zeros(3, 2, 2)), "(c_o, c_i, k_h, k_w)"),
        (lambda: conv2d_naive(torch.zeros(5, 5), torch.zeros(1, 1, 2, 2)), "(k_h, k_w)"),
        (lambda: conv2d_naive(torch.zeros(2, 5, 5), torch.zeros(1, 3, 2, 2)), "X.shape = (2, 5, 5), K.shape = (1, 3, 2, 2)"),  # noqa: E501
        (lambda: conv2d_naive(torch.zeros(1, 5, 5), torch.zeros(1, 1, 3, 3), stride=0), "stride"),
        (lambda: conv2d_naive(torch.zeros(1, 5, 5), torch.zeros(1, 1, 3, 3), "same", 2), "'same'"),
        (lambda: conv2d_naive(torch.zeros(1, 3, 3), torch.zeros(1, 1, 3, 3), dilation=2), "effective 5"),  # noqa: E501
    ],
)
def test_invalid_input_raises_value_error(call, fragment):
    with pytest.raises(ValueError) as excinfo:
        call()
    assert fragment in str(excinfo.value)
