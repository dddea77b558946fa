"""avg_pool_as_conv without groups: a (C, C, k_h, k_w) kernel adds up the channels."""
# kind: wrong
# fails: test_avg_pool_as_conv_example test_avg_pool_as_conv_vs_torch

# %% avg_pool_as_conv
def avg_pool_as_conv(X, kernel_size, stride=None, padding=0):
    C = X.shape[1]
    k_h, k_w = _pair(kernel_size)
    stride = (k_h, k_w) if stride is None else _pair(stride)
    K = torch.full((C, C, k_h, k_w), 1 / (k_h * k_w))
    return F.conv2d(X, K, stride=stride, padding=_pair(padding))
