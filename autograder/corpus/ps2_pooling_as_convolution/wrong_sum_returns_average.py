"""sum_pool returns the window average (AdaptiveAvgPool-style thinking), not the sum."""
# kind: wrong
# fails: test_sum_pool_example test_sum_pool_vs_torch

# %% sum_pool
def sum_pool(X, kernel_size, stride=None):
    C = X.shape[1]
    k_h, k_w = _pair(kernel_size)
    stride = (k_h, k_w) if stride is None else _pair(stride)
    K = torch.full((C, 1, k_h, k_w), 1 / (k_h * k_w))
    return F.conv2d(X, K, stride=stride, groups=C)
