"""per channel: one channel at a time (loops, torch.cat), zero padding by F.pad, pooled windows by unfold of (N*C, 1, H, W)."""
# kind: correct

# %% avg_pool_as_conv
def avg_pool_as_conv(X, kernel_size, stride=None, padding=0):
    k_h, k_w = _pair(kernel_size)
    s = _pair(kernel_size if stride is None else stride)
    p_h, p_w = _pair(padding)
    X = F.pad(X, (p_w, p_w, p_h, p_h))  # zeros, counted in the average
    K = torch.ones(1, 1, k_h, k_w) / (k_h * k_w)
    channels = [F.conv2d(X[:, c:c + 1], K, stride=s) for c in range(X.shape[1])]
    return torch.cat(channels, dim=1)

# %% sum_pool
def sum_pool(X, kernel_size, stride=None):
    k_h, k_w = _pair(kernel_size)
    s_h, s_w = (k_h, k_w) if stride is None else _pair(stride)
    N, C, H, W = X.shape
    h_out, w_out = (H - k_h) // s_h + 1, (W - k_w) // s_w + 1
    Y = torch.zeros(N, C, h_out, w_out)
    for i in range(h_out):
        for j in range(w_out):
            window = X[:, :, i * s_h:i * s_h + k_h, j * s_w:j * s_w + k_w]
            Y[:, :, i, j] = window.sum(dim=(2, 3))
    return Y

# %% max_pool_via_unfold
def max_pool_via_unfold(X, kernel_size, stride=None, padding=0):
    k_h, k_w = _pair(kernel_size)
    s_h, s_w = (k_h, k_w) if stride is None else _pair(stride)
    p_h, p_w = _pair(padding)
    N, C, H, W = X.shape
    H, W = H + 2 * p_h, W + 2 * p_w
    X = F.pad(X, (p_w, p_w, p_h, p_h), value=-float("inf"))
    X = X.reshape(N * C, 1, H, W)  # each channel is an image of its own
    cols = F.unfold(X, (k_h, k_w), stride=(s_h, s_w))  # (N * C, k_h * k_w, L)
    Y = cols.max(dim=1).values  # (N * C, L)
    return Y.reshape(N, C, (H - k_h) // s_h + 1, (W - k_w) // s_w + 1)

# %% min_pool
def min_pool(X, kernel_size, stride=None):
    return torch.neg(max_pool_via_unfold(torch.neg(X), kernel_size, stride=stride))

# %% global_avg_pool_as_conv
def global_avg_pool_as_conv(X):
    N, C, H, W = X.shape
    K = torch.ones(1, 1, H, W)
    sums = torch.cat([F.conv2d(X[:, c:c + 1], K) for c in range(C)], dim=1)  # (N, C, 1, 1)
    return sums / (H * W)
