"""conv2d_forward builds its output with torch.zeros(..., dtype=torch.float32): float32, not float64."""
# kind: wrong
# fails: test_conv2d_forward_example test_conv2d_forward_vs_torch

# %% conv2d_forward
def conv2d_forward(X, K, b, stride=1, padding=0):
    c_o, c_i, k_h, k_w = K.shape
    N, _, H, W = X.shape
    (s_h, s_w), (p_h, p_w) = _pair(stride), _pair(padding)
    h_out, w_out = (H + 2 * p_h - k_h) // s_h + 1, (W + 2 * p_w - k_w) // s_w + 1
    cols = im2col(X, (k_h, k_w), stride, padding)
    Y = torch.zeros((N, c_o, h_out * w_out), dtype=torch.float32)
    for n in range(N):
        Y[n] = K.reshape(c_o, -1) @ cols[n]
    if b is not None:
        Y += b.reshape(c_o, 1)
    return Y.reshape(N, c_o, h_out, w_out)
