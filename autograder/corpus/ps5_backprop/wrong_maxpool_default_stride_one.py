"""maxpool2d_forward reads stride=None as 1, but F.max_pool2d's default stride is the kernel size."""
# kind: wrong
# fails: test_maxpool2d_forward_example test_maxpool2d_forward_vs_torch

# %% maxpool2d_forward
def maxpool2d_forward(X, kernel_size, stride=None):
    k_h, k_w = _pair(kernel_size)
    s_h, s_w = _pair(1 if stride is None else stride)
    N, C, H, W = X.shape
    cols = im2col(X.reshape(N * C, 1, H, W), (k_h, k_w), stride=(s_h, s_w))
    return cols.max(dim=1).values.reshape(N, C, (H - k_h) // s_h + 1, (W - k_w) // s_w + 1)
