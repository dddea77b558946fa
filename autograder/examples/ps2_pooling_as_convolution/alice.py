"""alice: correct answers."""

# %% avg_pool_as_conv
def avg_pool_as_conv(X, kernel_size, stride=None, padding=0):
    C = X.shape[1]
    k = _pair(kernel_size)
    weight = torch.ones(C, 1, *k, dtype=X.dtype, device=X.device) / (k[0] * k[1])
    return F.conv2d(X, weight, stride=k if stride is None else stride, padding=padding, groups=C)

# %% sum_pool
def sum_pool(X, kernel_size, stride=None):
    C = X.shape[1]
    k = _pair(kernel_size)
    weight = torch.ones(C, 1, *k, dtype=X.dtype, device=X.device)
    return F.conv2d(X, weight, stride=k if stride is None else stride, groups=C)

# %% max_pool_via_unfold
def max_pool_via_unfold(X, kernel_size, stride=None, padding=0):
    k_h, k_w = _pair(kernel_size)
    s_h, s_w = (k_h, k_w) if stride is None else _pair(stride)
    p_h, p_w = _pair(padding)
    N, C, H, W = X.shape
    X = F.pad(X, (p_w, p_w, p_h, p_h), value=-float("inf"))
    h_out = (H + 2 * p_h - k_h) // s_h + 1
    w_out = (W + 2 * p_w - k_w) // s_w + 1
    windows = F.unfold(X, (k_h, k_w), stride=(s_h, s_w)).view(N, C, k_h * k_w, -1)
    return windows.max(dim=2).values.view(N, C, h_out, w_out)

# %% min_pool
def min_pool(X, kernel_size, stride=None):
    return -max_pool_via_unfold(-X, kernel_size, stride)

# %% global_avg_pool_as_conv
def global_avg_pool_as_conv(X):
    N, C, H, W = X.shape
    return avg_pool_as_conv(X, (H, W))
