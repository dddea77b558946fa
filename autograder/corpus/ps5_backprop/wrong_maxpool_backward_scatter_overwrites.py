"""maxpool2d_backward uses scatter_ (overwrite) instead of scatter_add_: an input winning several windows gets one gradient."""
# kind: wrong
# fails: test_maxpool2d_backward_example test_maxpool2d_backward_vs_autograd

# %% maxpool2d_backward
def maxpool2d_backward(dY, X, kernel_size, stride=None):
    k_h, k_w = _pair(kernel_size)
    s_h, s_w = (k_h, k_w) if stride is None else _pair(stride)
    N, C, H, W = X.shape
    h_out, w_out = (H - k_h) // s_h + 1, (W - k_w) // s_w + 1
    offset = im2col(X.reshape(N * C, 1, H, W), (k_h, k_w), stride=(s_h, s_w)).argmax(dim=1)
    r = torch.arange(h_out).repeat_interleave(w_out) * s_h + offset // k_w
    c = torch.arange(w_out).repeat(h_out) * s_w + offset % k_w
    dX = torch.zeros((N * C, H * W), dtype=X.dtype)
    dX.scatter_(1, r * W + c, dY.reshape(N * C, -1))
    return dX.reshape(N, C, H, W)
