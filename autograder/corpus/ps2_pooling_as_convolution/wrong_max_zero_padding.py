"""max_pool_via_unfold lets F.unfold pad with zeros, which win over negative inputs."""
# kind: wrong
# fails: test_max_pool_via_unfold_example test_max_pool_via_unfold_vs_torch

# %% max_pool_via_unfold
def max_pool_via_unfold(X, kernel_size, stride=None, padding=0):
    k_h, k_w = _pair(kernel_size)
    s_h, s_w = (k_h, k_w) if stride is None else _pair(stride)
    p_h, p_w = _pair(padding)
    N, C, H, W = X.shape
    h_out, w_out = (H + 2 * p_h - k_h) // s_h + 1, (W + 2 * p_w - k_w) // s_w + 1
    cols = F.unfold(X, (k_h, k_w), padding=(p_h, p_w), stride=(s_h, s_w))
    return cols.reshape(N, C, k_h * k_w, -1).amax(dim=2).reshape(N, C, h_out, w_out)
