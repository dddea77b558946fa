"""expand and divide: conv with an expanded kernel of ones, then divide; pad with min - 1; math.floor sizes."""
# kind: correct

# %% avg_pool_as_conv
def avg_pool_as_conv(X, kernel_size, stride=None, padding=0):
    C = X.shape[1]
    k_h, k_w = _pair(kernel_size)
    ones = torch.ones(1, 1, k_h, k_w).expand(C, 1, k_h, k_w)
    Y = F.conv2d(X, ones, stride=stride or kernel_size, padding=padding, groups=C)
    return Y / (k_h * k_w)

# %% sum_pool
def sum_pool(X, kernel_size, stride=None):
    N, C, H, W = X.shape
    if stride is None:
        stride = kernel_size
    Y = F.conv2d(X.reshape(N * C, 1, H, W), torch.ones(1, 1, *_pair(kernel_size)), stride=stride)
    return Y.reshape(N, C, Y.shape[-2], Y.shape[-1])  # (N * C, 1, h, w) -> (N, C, h, w)

# %% max_pool_via_unfold
import math


def max_pool_via_unfold(X, kernel_size, stride=None, padding=0):
    k_h, k_w = _pair(kernel_size)
    s_h, s_w = _pair(stride) if stride is not None else (k_h, k_w)
    p_h, p_w = _pair(padding)
    N, C, H, W = X.shape
    h_out = math.floor((H + 2 * p_h - k_h) / s_h) + 1
    w_out = math.floor((W + 2 * p_w - k_w) / s_w) + 1
    low = (X.min() - 1).item()  # below every input value, so padding never wins
    X = F.pad(X, [p_w, p_w, p_h, p_h], value=low)
    cols = F.unfold(X, [k_h, k_w], stride=[s_h, s_w])  # (N, C * k_h * k_w, L)
    cols = cols.view(N, C, k_h * k_w, -1)  # (N, C, k_h * k_w, L)
    return torch.max(cols, dim=2)[0].view(N, C, h_out, w_out)

# %% min_pool
def min_pool(X, kernel_size, stride=None):
    top = X.max()
    return top - max_pool_via_unfold(top - X, kernel_size, stride)  # min x = top - max(top - x)

# %% global_avg_pool_as_conv
def global_avg_pool_as_conv(X):
    C, H, W = X.shape[1:]
    K = X.new_ones(C, 1, H, W) / (H * W)
    return F.conv2d(X, K, groups=C)
