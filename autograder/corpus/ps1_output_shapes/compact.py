"""compact: comprehensions and zip, int() on true division, math.prod, numpy for the arithmetic."""
# kind: correct

# %% conv_output_shape
import numpy as np


def _two(v):
    return tuple(v) if isinstance(v, (tuple, list)) else (v,) * 2


def conv_output_shape(input_hw, kernel_size, padding=0, stride=1, dilation=1):
    # numerator >= 0 for any valid convolution, so int() truncates like floor
    return tuple(int((n + 2 * p - d * (k - 1) - 1) / s) + 1 for n, k, p, s, d in
                 zip(_two(input_hw), _two(kernel_size), _two(padding), _two(stride),
                     _two(dilation)))

# %% pool_output_shape
def pool_output_shape(input_hw, kernel_size, stride=None, padding=0, ceil_mode=False):
    n = np.array(_two(input_hw), dtype=np.int64)
    k = np.array(_two(kernel_size), dtype=np.int64)
    s = k.copy() if stride is None else np.array(_two(stride), dtype=np.int64)
    p = np.array(_two(padding), dtype=np.int64)
    span = n + 2 * p - k
    out = (-(-span // s) if ceil_mode else span // s) + 1
    if ceil_mode:
        out -= ((out - 1) * s >= n + p).astype(np.int64)
    return tuple(int(v) for v in out)

# %% same_padding
def same_padding(kernel_size):
    (k_h, k_w) = _two(kernel_size)
    bottom, right = k_h // 2, k_w // 2
    return k_h - 1 - bottom, bottom, k_w - 1 - right, right

# %% conv_params_macs
def conv_params(c_i, c_o, kernel_size, bias=True):
    return math.prod((c_i, c_o, *_two(kernel_size))) + int(bias) * c_o


def conv_macs(c_i, c_o, input_hw, kernel_size, padding=0, stride=1):
    out_h, out_w = conv_output_shape(input_hw, kernel_size, padding, stride)
    per_output = conv_params(c_i, 1, kernel_size, bias=False)  # c_i * k_h * k_w
    return per_output * c_o * out_h * out_w

# %% lenet_shapes
def lenet_shapes(input_hw=(28, 28)):
    h1 = conv_output_shape(input_hw, 5, 2)
    h2 = pool_output_shape(h1, 2)  # stride defaults to the window: 2
    h3 = conv_output_shape(h2, 5)
    h4 = pool_output_shape(h3, 2)
    return [(c,) + hw for c, hw in zip((6, 6, 16, 16), (h1, h2, h3, h4))]
