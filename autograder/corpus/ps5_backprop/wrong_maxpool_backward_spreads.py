"""maxpool2d_backward shares each dY equally over its window (average pooling's gradient), not to the winner."""
# kind: wrong
# fails: test_maxpool2d_backward_example test_maxpool2d_backward_vs_autograd

# %% maxpool2d_backward
def maxpool2d_backward(dY, X, kernel_size, stride=None):
    k_h, k_w = _pair(kernel_size)
    s_h, s_w = (k_h, k_w) if stride is None else _pair(stride)
    dX = torch.zeros_like(X)
    for r in range(dY.shape[2]):
        for c in range(dY.shape[3]):
            dX[:, :, r * s_h:r * s_h + k_h, c * s_w:c * s_w + k_w] += \
                dY[:, :, r:r + 1, c:c + 1] / (k_h * k_w)
    return dX
