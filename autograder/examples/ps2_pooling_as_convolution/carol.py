"""carol: uses PyTorch's pooling functions instead of building them."""

# %% avg_pool_as_conv
def avg_pool_as_conv(X, kernel_size, stride=None, padding=0):
    return F.avg_pool2d(X, kernel_size, stride=stride, padding=padding)

# %% sum_pool
def sum_pool(X, kernel_size, stride=None):
    k = _pair(kernel_size)
    return F.avg_pool2d(X, kernel_size, stride=stride) * (k[0] * k[1])

# %% max_pool_via_unfold
pool = F.max_pool2d  # an alias does not hide it


def max_pool_via_unfold(X, kernel_size, stride=None, padding=0):
    return pool(X, kernel_size, stride=stride, padding=padding)

# %% min_pool
def min_pool(X, kernel_size, stride=None):
    return -max_pool_via_unfold(-X, kernel_size, stride)

# %% global_avg_pool_as_conv
def global_avg_pool_as_conv(X):
    N, C, H, W = X.shape
    weight = torch.full((C, 1, H, W), 1 / (H * W))
    return F.conv2d(X, weight, groups=C)
