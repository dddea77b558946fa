"""avg_pool_as_conv builds a k_w x k_h kernel (height and width swapped; right for squares)."""
# kind: wrong
# fails: test_avg_pool_as_conv_vs_torch

# %% avg_pool_as_conv
def avg_pool_as_conv(X, kernel_size, stride=None, padding=0):
    C = X.shape[1]
    k_h, k_w = _pair(kernel_size)
    stride = (k_h, k_w) if stride is None else _pair(stride)
    K = torch.full((C, 1, k_w, k_h), 1 / (k_h * k_w))
    return F.conv2d(X, K, stride=stride, padding=_pair(padding), groups=C)
