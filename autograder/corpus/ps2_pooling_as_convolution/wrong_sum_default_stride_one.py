"""sum_pool slides by 1 when stride is None (the default is the window size)."""
# kind: wrong
# fails: test_sum_pool_vs_torch

# %% sum_pool
def sum_pool(X, kernel_size, stride=None):
    C = X.shape[1]
    k_h, k_w = _pair(kernel_size)
    K = torch.ones((C, 1, k_h, k_w))
    return F.conv2d(X, K, stride=1 if stride is None else stride, groups=C)
