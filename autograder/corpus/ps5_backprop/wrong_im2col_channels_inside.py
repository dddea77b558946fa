"""im2col lists each window offset's channels together ((k_h, k_w, C) rows), not channel by channel."""
# kind: wrong
# fails: test_im2col_example test_im2col_vs_unfold test_conv2d_forward_example test_conv2d_forward_vs_torch test_conv2d_backward_vs_autograd test_conv2d_backward_edge_cases

# %% im2col
def im2col(X, kernel_size, stride=1, padding=0):
    k_h, k_w = _pair(kernel_size)
    s_h, s_w = _pair(stride)
    p_h, p_w = _pair(padding)
    X = F.pad(X, (p_w, p_w, p_h, p_h))
    N, C, H, W = X.shape
    h_out, w_out = (H - k_h) // s_h + 1, (W - k_w) // s_w + 1
    cols = X.new_empty((N, k_h, k_w, C, h_out, w_out))
    for i in range(k_h):
        for j in range(k_w):
            cols[:, i, j] = X[:, :, i:i + s_h * (h_out - 1) + 1:s_h, j:j + s_w * (w_out - 1) + 1:s_w]
    return cols.reshape(N, C * k_h * k_w, h_out * w_out)
