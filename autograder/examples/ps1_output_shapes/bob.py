"""bob: forgets dilation, ignores ceil_mode, puts same padding's extra row on top."""

# %% conv_output_shape
def conv_output_shape(input_hw, kernel_size, padding=0, stride=1, dilation=1):
    pair = lambda v: (v, v) if isinstance(v, int) else tuple(v)  # noqa: E731
    (n_h, n_w), (k_h, k_w) = pair(input_hw), pair(kernel_size)
    (p_h, p_w), (s_h, s_w) = pair(padding), pair(stride)
    # mistake: dilation is ignored
    return ((n_h + 2 * p_h - k_h) // s_h + 1, (n_w + 2 * p_w - k_w) // s_w + 1)

# %% pool_output_shape
def pool_output_shape(input_hw, kernel_size, stride=None, padding=0, ceil_mode=False):
    # mistake: ceil_mode is ignored
    return conv_output_shape(input_hw, kernel_size, padding,
                             kernel_size if stride is None else stride)

# %% same_padding
def same_padding(kernel_size):
    k_h, k_w = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    # mistake: the extra row and column go to the top and left
    return (k_h // 2, (k_h - 1) // 2, k_w // 2, (k_w - 1) // 2)

# %% conv_params_macs
def conv_params(c_i, c_o, kernel_size, bias=True):
    k_h, k_w = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    return c_i * c_o * k_h * k_w + (c_o if bias else 0)


def conv_macs(c_i, c_o, input_hw, kernel_size, padding=0, stride=1):
    k_h, k_w = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    h, w = conv_output_shape(input_hw, kernel_size, padding, stride)
    return c_i * c_o * k_h * k_w * h * w

# %% lenet_shapes
def lenet_shapes(input_hw=(28, 28)):
    h, w = conv_output_shape(input_hw, 5, padding=2)
    shapes = [(6, h, w)]
    h, w = pool_output_shape((h, w), 2, 2)
    shapes.append((6, h, w))
    h, w = conv_output_shape((h, w), 5)
    shapes.append((16, h, w))
    h, w = pool_output_shape((h, w), 2, 2)
    shapes.append((16, h, w))
    return shapes
