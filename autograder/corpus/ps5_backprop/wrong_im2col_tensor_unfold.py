"""im2col with the tensor method X.unfold (a strided view, right values): the rules forbid unfold of any kind."""
# kind: wrong
# fails: test_im2col_example test_im2col_vs_unfold test_conv2d_forward_example test_conv2d_forward_vs_torch test_conv2d_backward_example test_conv2d_backward_vs_autograd test_conv2d_backward_edge_cases test_maxpool2d_forward_example test_maxpool2d_forward_vs_torch test_maxpool2d_backward_example test_maxpool2d_backward_vs_autograd

# %% im2col
def im2col(X, kernel_size, stride=1, padding=0):
    k_h, k_w = _pair(kernel_size)
    s_h, s_w = _pair(stride)
    p_h, p_w = _pair(padding)
    X = F.pad(X, (p_w, p_w, p_h, p_h))
    windows = X.unfold(2, k_h, s_h).unfold(3, k_w, s_w)  # (N, C, h_out, w_out, k_h, k_w)
    N, C, h_out, w_out = windows.shape[:4]
    return windows.permute(0, 1, 4, 5, 2, 3).reshape(N, C * k_h * k_w, h_out * w_out)
