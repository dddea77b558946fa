"""avg_pool_as_conv pads only the top and the left (F.pad's pairs read as (left, top))."""
# kind: wrong
# fails: test_avg_pool_as_conv_vs_torch

# %% avg_pool_as_conv
def avg_pool_as_conv(X, kernel_size, stride=None, padding=0):
    N, C, H, W = X.shape
    k_h, k_w = _pair(kernel_size)
    p_h, p_w = _pair(padding)
    stride = (k_h, k_w) if stride is None else _pair(stride)
    X = F.pad(X, (p_w, 0, p_h, 0))
    K = torch.full((C, 1, k_h, k_w), 1 / (k_h * k_w))
    return F.conv2d(X, K, stride=stride, groups=C)
