"""sum_pool with nn.AdaptiveAvgPool2d: an average, and a forbidden pooling layer."""
# kind: wrong
# fails: test_sum_pool_example test_sum_pool_vs_torch

# %% sum_pool
from torch import nn


def sum_pool(X, kernel_size, stride=None):
    k_h, k_w = _pair(kernel_size)
    s_h, s_w = (k_h, k_w) if stride is None else _pair(stride)
    H, W = X.shape[-2:]
    return nn.AdaptiveAvgPool2d(((H - k_h) // s_h + 1, (W - k_w) // s_w + 1))(X)
