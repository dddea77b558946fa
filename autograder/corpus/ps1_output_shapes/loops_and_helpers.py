"""loops and helpers: one-dimension helpers applied in loops, a window-counting pool, lists inside lenet_shapes, extra random draws."""
# kind: correct

# %% conv_output_shape
import random


def as_hw(value):
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"expected an int or an (h, w) pair, got {value!r}")
        return list(value)
    return [value, value]


def conv_size_1d(n, k, p, s, d):
    effective_k = d * (k - 1) + 1  # the span of a dilated kernel
    return (n + 2 * p - effective_k) // s + 1


def conv_output_shape(input_hw, kernel_size, padding=0, stride=1, dilation=1):
    random.random()  # a stray draw from Python's random stream must not matter
    args = [as_hw(input_hw), as_hw(kernel_size), as_hw(padding), as_hw(stride), as_hw(dilation)]
    result = []
    for dim in range(2):
        result.append(conv_size_1d(*[a[dim] for a in args]))
    return tuple(result)

# %% pool_output_shape
def pool_size_1d(n, k, s, p, ceil_mode):
    """Count the window starts, as PyTorch keeps them."""
    count = 0
    start = 0
    last = n + 2 * p - k  # the last start that fits entirely
    while True:
        fits = start <= last
        partial = ceil_mode and start < last + s and start < n + p
        if not (fits or partial):
            break
        count += 1
        start += s
    return count


def pool_output_shape(input_hw, kernel_size, stride=None, padding=0, ceil_mode=False):
    random.random()
    ks = as_hw(kernel_size)
    ss = ks if stride is None else as_hw(stride)
    return tuple(pool_size_1d(n, k, s, p, ceil_mode)
                 for n, k, s, p in zip(as_hw(input_hw), ks, ss, as_hw(padding)))

# %% same_padding
def same_padding(kernel_size):
    paddings = []
    for k in as_hw(kernel_size):
        before, extra = divmod(k - 1, 2)
        paddings += [before, before + extra]  # the extra one goes after (bottom / right)
    return tuple(paddings)

# %% conv_params_macs
def conv_params(c_i, c_o, kernel_size, bias=True):
    total = 0
    for k in as_hw(kernel_size):
        total = k if total == 0 else total * k
    total *= c_i * c_o
    if bias:
        total += c_o
    return total


def conv_macs(c_i, c_o, input_hw, kernel_size, padding=0, stride=1):
    random.random()
    macs = c_i * c_o
    for n, k, p, s in zip(as_hw(input_hw), as_hw(kernel_size), as_hw(padding), as_hw(stride)):
        macs *= k * conv_size_1d(n, k, p, s, 1)
    return macs

# %% lenet_shapes
LENET = [("conv", 6, 5, 2), ("pool", 6, 2, 0), ("conv", 16, 5, 0), ("pool", 16, 2, 0)]


def lenet_shapes(input_hw=(28, 28)):
    hw = as_hw(input_hw)
    shapes = []
    for kind, channels, k, p in LENET:
        if kind == "conv":
            hw = conv_output_shape(hw, k, padding=p)
        else:
            hw = pool_output_shape(hw, k, stride=k, padding=p)
        shapes.append([channels, hw[0], hw[1]])  # lists are fine: the task wants (C, H, W)
    return shapes
