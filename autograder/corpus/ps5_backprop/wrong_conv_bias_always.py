"""conv2d_forward always adds b, so b=None (no bias, as F.conv2d allows) crashes."""
# kind: wrong
# fails: test_conv2d_forward_vs_torch

# %% conv2d_forward
def conv2d_forward(X, K, b, stride=1, padding=0):
    c_o, c_i, k_h, k_w = K.shape
    N, _, H, W = X.shape
    (s_h, s_w), (p_h, p_w) = _pair(stride), _pair(padding)
    h_out, w_out = (H + 2 * p_h - k_h) // s_h + 1, (W + 2 * p_w - k_w) // s_w + 1
    Y = torch.matmul(K.view(c_o, -1), im2col(X, (k_h, k_w), stride, padding))
    return (Y + b.view(1, c_o, 1)).view(N, c_o, h_out, w_out)
