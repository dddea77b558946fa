"""conv2d_forward flips the kernel (a true convolution), but F.conv2d is a cross-correlation."""
# kind: wrong
# fails: test_conv2d_forward_example test_conv2d_forward_vs_torch

# %% conv2d_forward
def conv2d_forward(X, K, b, stride=1, padding=0):
    c_o, c_i, k_h, k_w = K.shape
    N = X.shape[0]
    cols = im2col(X, (k_h, k_w), stride=stride, padding=padding)  # (N, c_i*k_h*k_w, L)
    Y = K.flip(2, 3).reshape(c_o, -1) @ cols
    if b is not None:
        Y = Y + b[:, None]
    p_h, p_w = _pair(padding)
    s_h, s_w = _pair(stride)
    h_out = (X.shape[2] + 2 * p_h - k_h) // s_h + 1
    return Y.reshape(N, c_o, h_out, -1)
