"""im2col calls F.unfold: right values, but the library cuts the windows (and every function using im2col inherits it)."""
# kind: wrong
# fails: test_im2col_example test_im2col_vs_unfold test_conv2d_forward_example test_conv2d_forward_vs_torch test_conv2d_backward_example test_conv2d_backward_vs_autograd test_conv2d_backward_edge_cases test_maxpool2d_forward_example test_maxpool2d_forward_vs_torch test_maxpool2d_backward_example test_maxpool2d_backward_vs_autograd

# %% im2col
def im2col(X, kernel_size, stride=1, padding=0):
    return F.unfold(X, kernel_size, stride=stride, padding=padding)
