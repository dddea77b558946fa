"""maxpool2d_forward reshapes im2col of all channels as (window, channel) instead of (channel, window)."""
# kind: wrong
# fails: test_maxpool2d_forward_example test_maxpool2d_forward_vs_torch

# %% maxpool2d_forward
def maxpool2d_forward(X, kernel_size, stride=None):
    k_h, k_w = _pair(kernel_size)
    s_h, s_w = (k_h, k_w) if stride is None else _pair(stride)
    N, C, H, W = X.shape
    cols = im2col(X, (k_h, k_w), stride=(s_h, s_w))  # (N, C*k_h*k_w, L)
    Y = cols.reshape(N, k_h * k_w, C, -1).amax(dim=1)
    return Y.reshape(N, C, (H - k_h) // s_h + 1, (W - k_w) // s_w + 1)
