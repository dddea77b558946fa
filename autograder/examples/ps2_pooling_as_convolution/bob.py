"""bob: forgets groups (mixes channels), pads max pooling with zeros."""

# %% avg_pool_as_conv
def avg_pool_as_conv(X, kernel_size, stride=None, padding=0):
    k = _pair(kernel_size)
    C = X.shape[1]
    # mistake: a (1, C, k, k) kernel without groups sums over the channels
    weight = torch.ones(1, C, *k) / (k[0] * k[1])
    return F.conv2d(X, weight, stride=k if stride is None else stride, padding=padding)

# %% sum_pool
def sum_pool(X, kernel_size, stride=None):
    C = X.shape[1]
    k = _pair(kernel_size)
    weight = torch.ones(C, 1, *k)
    return F.conv2d(X, weight, stride=k if stride is None else stride, groups=C)

# %% max_pool_via_unfold
def max_pool_via_unfold(X, kernel_size, stride=None, padding=0):
    k_h, k_w = _pair(kernel_size)
    s_h, s_w = (k_h, k_w) if stride is None else _pair(stride)
    p_h, p_w = _pair(padding)
    X = F.pad(X, (p_w, p_w, p_h, p_h))  # mistake: zero padding can win the max
    N, C, H, W = X.shape
    h_out, w_out = (H - k_h) // s_h + 1, (W - k_w) // s_w + 1
    windows = F.unfold(X, (k_h, k_w), stride=(s_h, s_w)).reshape(N, C, k_h * k_w, -1)
    return windows.amax(dim=2).reshape(N, C, h_out, w_out)

# %% min_pool
def min_pool(X, kernel_size, stride=None):
    return -max_pool_via_unfold(-X, kernel_size, stride)
