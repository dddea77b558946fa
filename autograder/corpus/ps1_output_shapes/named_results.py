"""named results: namedtuples for shapes and paddings, from-imports and module-level helpers (conv, pool, layers) that the tests must not overwrite."""
# kind: correct

# %% conv_output_shape
from collections import namedtuple
from math import ceil, floor

Size = namedtuple("Size", ["h", "w"])


def pair(x):
    return Size(x, x) if isinstance(x, int) else Size(*x)


def conv(n, k, p=0, s=1, d=1):
    """Output length of a 1-D convolution."""
    return floor((n + 2 * p - d * (k - 1) - 1) / s) + 1


def conv_output_shape(input_hw, kernel_size, padding=0, stride=1, dilation=1):
    n, k, p, s, d = (pair(v) for v in (input_hw, kernel_size, padding, stride, dilation))
    return Size(conv(n.h, k.h, p.h, s.h, d.h), conv(n.w, k.w, p.w, s.w, d.w))

# %% pool_output_shape
def pool(n, k, s, p, ceil_mode):
    """Output length of a 1-D pooling window (PyTorch's rule for ceil_mode)."""
    if not ceil_mode:
        return conv(n, k, p, s)  # a pooling window slides like a kernel
    out = ceil((n + 2 * p - k) / s) + 1
    return out - 1 if (out - 1) * s >= n + p else out


def pool_output_shape(input_hw, kernel_size, stride=None, padding=0, ceil_mode=False):
    n, k, p = pair(input_hw), pair(kernel_size), pair(padding)
    s = k if stride is None else pair(stride)
    return Size(pool(n.h, k.h, s.h, p.h, ceil_mode), pool(n.w, k.w, s.w, p.w, ceil_mode))

# %% same_padding
Padding = namedtuple("Padding", "top bottom left right")


def same_padding(kernel_size):
    k = pair(kernel_size)
    return Padding(top=(k.h - 1) // 2, bottom=k.h // 2, left=(k.w - 1) // 2, right=k.w // 2)

# %% conv_params_macs
def conv_params(c_i, c_o, kernel_size, bias=True):
    k = pair(kernel_size)
    n = c_i * k.h * k.w * c_o
    if bias:
        n += c_o
    return n


def conv_macs(c_i, c_o, input_hw, kernel_size, padding=0, stride=1):
    out = conv_output_shape(input_hw, kernel_size, padding=padding, stride=stride)
    # every weight is used once per output position
    return conv_params(c_i, c_o, kernel_size, bias=False) * out.h * out.w

# %% lenet_shapes
layers = [("conv", 6, dict(kernel_size=5, padding=2)),
          ("pool", 6, dict(kernel_size=2, stride=2)),
          ("conv", 16, dict(kernel_size=5)),
          ("pool", 16, dict(kernel_size=2, stride=2))]


def lenet_shapes(input_hw=(28, 28)):
    size = pair(input_hw)
    out = []
    for kind, channels, settings in layers:
        layer = conv_output_shape if kind == "conv" else pool_output_shape
        size = layer(size, **settings)
        out.append((channels, size.h, size.w))
    return out
