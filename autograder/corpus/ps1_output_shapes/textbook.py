"""textbook: one named variable per dimension, math.floor/math.ceil on true division."""
# kind: correct

# %% conv_output_shape
def to_pair(x):
    """An int or an (h, w) pair (tuple or list) as an (h, w) tuple."""
    if isinstance(x, int):
        return x, x
    h, w = x
    return h, w


def conv_output_shape(input_hw, kernel_size, padding=0, stride=1, dilation=1):
    n_h, n_w = to_pair(input_hw)
    k_h, k_w = to_pair(kernel_size)
    p_h, p_w = to_pair(padding)
    s_h, s_w = to_pair(stride)
    d_h, d_w = to_pair(dilation)
    h_out = math.floor((n_h + 2 * p_h - d_h * (k_h - 1) - 1) / s_h) + 1
    w_out = math.floor((n_w + 2 * p_w - d_w * (k_w - 1) - 1) / s_w) + 1
    return h_out, w_out

# %% pool_output_shape
def pool_output_shape(input_hw, kernel_size, stride=None, padding=0, ceil_mode=False):
    n_h, n_w = to_pair(input_hw)
    k_h, k_w = to_pair(kernel_size)
    if stride is None:
        stride = kernel_size
    s_h, s_w = to_pair(stride)
    p_h, p_w = to_pair(padding)
    rounding = math.ceil if ceil_mode else math.floor
    h_out = rounding((n_h + 2 * p_h - k_h) / s_h) + 1
    w_out = rounding((n_w + 2 * p_w - k_w) / s_w) + 1
    if ceil_mode:
        # PyTorch drops a last window that would start in the right padding
        if (h_out - 1) * s_h >= n_h + p_h:
            h_out = h_out - 1
        if (w_out - 1) * s_w >= n_w + p_w:
            w_out = w_out - 1
    return (h_out, w_out)

# %% same_padding
def same_padding(kernel_size):
    k_h, k_w = to_pair(kernel_size)
    top = math.floor((k_h - 1) / 2)
    bottom = math.ceil((k_h - 1) / 2)
    left = math.floor((k_w - 1) / 2)
    right = math.ceil((k_w - 1) / 2)
    return (top, bottom, left, right)

# %% conv_params_macs
def conv_params(c_i, c_o, kernel_size, bias=True):
    k_h, k_w = to_pair(kernel_size)
    weights = c_o * c_i * k_h * k_w
    biases = c_o if bias else 0
    return weights + biases


def conv_macs(c_i, c_o, input_hw, kernel_size, padding=0, stride=1):
    k_h, k_w = to_pair(kernel_size)
    h_out, w_out = conv_output_shape(input_hw, kernel_size, padding=padding, stride=stride)
    cost_per_output = c_i * k_h * k_w
    num_outputs = c_o * h_out * w_out
    return cost_per_output * num_outputs

# %% lenet_shapes
def lenet_shapes(input_hw=(28, 28)):
    conv1 = conv_output_shape(input_hw, kernel_size=5, padding=2)
    pool1 = pool_output_shape(conv1, kernel_size=2, stride=2)
    conv2 = conv_output_shape(pool1, kernel_size=5)
    pool2 = pool_output_shape(conv2, kernel_size=2, stride=2)
    return [(6, conv1[0], conv1[1]), (6, pool1[0], pool1[1]),
            (16, conv2[0], conv2[1]), (16, pool2[0], pool2[1])]
