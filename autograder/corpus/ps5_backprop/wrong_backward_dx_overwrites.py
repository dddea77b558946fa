"""conv2d_backward's col2im assigns (=) instead of adding (+=): where windows overlap, gradients are lost."""
# kind: wrong
# fails: test_conv2d_backward_example test_conv2d_backward_vs_autograd test_conv2d_backward_edge_cases

# %% conv2d_backward
def conv2d_backward(dY, X, K, stride=1, padding=0):
    c_o, c_i, k_h, k_w = K.shape
    N, _, H, W = X.shape
    (s_h, s_w), (p_h, p_w) = _pair(stride), _pair(padding)
    h_out, w_out = dY.shape[2:]
    g = dY.reshape(N, c_o, -1)
    cols = im2col(X, (k_h, k_w), stride, padding)
    dK = torch.einsum("nol,nrl->or", g, cols).reshape(K.shape)
    dcols = torch.einsum("or,nol->nrl", K.reshape(c_o, -1), g).reshape(N, c_i, k_h, k_w, h_out, w_out)
    dX = torch.zeros((N, c_i, H + 2 * p_h, W + 2 * p_w), dtype=X.dtype)
    for i in range(k_h):
        for j in range(k_w):
            dX[:, :, i:i + s_h * (h_out - 1) + 1:s_h, j:j + s_w * (w_out - 1) + 1:s_w] = dcols[:, :, i, j]
    return dX[:, :, p_h:p_h + H, p_w:p_w + W], dK, dY.sum((0, 2, 3))
