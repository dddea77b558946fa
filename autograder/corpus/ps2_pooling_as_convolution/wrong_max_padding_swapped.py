"""max_pool_via_unfold pads the width by p_h and the height by p_w (F.pad starts with the last dim)."""
# kind: wrong
# fails: test_max_pool_via_unfold_vs_torch

# %% max_pool_via_unfold
def max_pool_via_unfold(X, kernel_size, stride=None, padding=0):
    k_h, k_w = _pair(kernel_size)
    s_h, s_w = (k_h, k_w) if stride is None else _pair(stride)
    p_h, p_w = _pair(padding)
    X = F.pad(X, (p_h, p_h, p_w, p_w), value=float("-inf"))
    N, C, H, W = X.shape
    h_out, w_out = (H - k_h) // s_h + 1, (W - k_w) // s_w + 1
    cols = F.unfold(X, (k_h, k_w), stride=(s_h, s_w))
    return cols.reshape(N, C, k_h * k_w, h_out * w_out).amax(dim=2).reshape(N, C, h_out, w_out)
