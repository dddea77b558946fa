"""sum_pool's loops slice X[i * s : i + k] (the end forgets the stride): right only for stride 1."""
# kind: wrong
# fails: test_sum_pool_vs_torch

# %% sum_pool
def sum_pool(X, kernel_size, stride=None):
    k_h, k_w = _pair(kernel_size)
    s_h, s_w = (k_h, k_w) if stride is None else _pair(stride)
    N, C, H, W = X.shape
    h_out, w_out = (H - k_h) // s_h + 1, (W - k_w) // s_w + 1
    Y = torch.zeros(N, C, h_out, w_out)
    for i in range(h_out):
        for j in range(w_out):
            Y[:, :, i, j] = X[:, :, i * s_h:i + k_h, j * s_w:j + k_w].sum(dim=(2, 3))
    return Y
