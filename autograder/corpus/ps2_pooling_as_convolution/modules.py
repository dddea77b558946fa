"""modules: a fixed-weight nn.Conv2d (random init overwritten), loops over channels, list sizes, float64 constants."""
# kind: correct

# %% avg_pool_as_conv
from torch import nn


def avg_pool_as_conv(X, kernel_size, stride=None, padding=0):
    C = X.shape[1]
    k = _pair(kernel_size)
    conv = nn.Conv2d(C, C, k, stride=k if stride is None else stride, padding=padding,
                     groups=C, bias=False)
    with torch.no_grad():
        conv.weight.fill_(1.0 / (k[0] * k[1]))
        return conv(X)

# %% sum_pool
def _window_sums(x, k_h, k_w, s_h, s_w):
    """Sums of the k_h x k_w windows of one (N, 1, H, W) channel."""
    return F.conv2d(x, torch.ones(1, 1, k_h, k_w, dtype=x.dtype), stride=(s_h, s_w))


def sum_pool(X, kernel_size, stride=None):
    k_h, k_w = _pair(kernel_size)
    s_h, s_w = _pair(stride if stride is not None else kernel_size)
    out = []
    for c in range(X.shape[1]):
        out.append(_window_sums(X[:, [c]], k_h, k_w, s_h, s_w))
    return torch.cat(out, 1)

# %% max_pool_via_unfold
def max_pool_via_unfold(X, kernel_size, stride=None, padding=0):
    kernel = list(_pair(kernel_size))
    step = kernel if stride is None else list(_pair(stride))
    pad = list(_pair(padding))
    N, C = X.shape[:2]
    X = F.pad(X, [pad[1], pad[1], pad[0], pad[0]], value=float("-inf"))
    h_out = (X.shape[2] - kernel[0]) // step[0] + 1
    w_out = (X.shape[3] - kernel[1]) // step[1] + 1
    windows = F.unfold(X, kernel_size=kernel, stride=step)  # (N, C * k_h * k_w, L)
    windows = windows.reshape(N, C, kernel[0] * kernel[1], h_out, w_out)
    Y, _ = windows.max(dim=2)  # (N, C, h_out, w_out)
    return Y

# %% min_pool
def min_pool(X, kernel_size, stride=None):
    torch.rand(3)  # a stray random draw must not matter
    return max_pool_via_unfold(X * -1, kernel_size, stride, 0) * -1

# %% global_avg_pool_as_conv
def global_avg_pool_as_conv(X):
    N, C, H, W = X.shape
    X = X.reshape(N * C, 1, H, W)  # every channel on its own
    K = torch.full((1, 1, H, W), 1.0 / float(H * W))
    return F.conv2d(X, K).reshape(N, C, 1, 1)
