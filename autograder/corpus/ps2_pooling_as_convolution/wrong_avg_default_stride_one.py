"""avg_pool_as_conv treats stride=None as stride 1 (the default is the window size)."""
# kind: wrong
# fails: test_avg_pool_as_conv_example test_avg_pool_as_conv_vs_torch

# %% avg_pool_as_conv
def avg_pool_as_conv(X, kernel_size, stride=None, padding=0):
    C = X.shape[1]
    k_h, k_w = _pair(kernel_size)
    K = torch.full((C, 1, k_h, k_w), 1 / (k_h * k_w))
    return F.conv2d(X, K, stride=stride or 1, padding=_pair(padding), groups=C)
