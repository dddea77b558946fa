"""carol: calls the course's reference implementation instead of using the formulas."""

# %% conv_output_shape
from cnnkit.shapes import conv2d_output_shape, pool2d_output_shape


def conv_output_shape(input_hw, kernel_size, padding=0, stride=1, dilation=1):
    return conv2d_output_shape(input_hw, kernel_size, padding=padding, stride=stride,
                               dilation=dilation)

# %% pool_output_shape
def pool_output_shape(input_hw, kernel_size, stride=None, padding=0, ceil_mode=False):
    return pool2d_output_shape(input_hw, kernel_size, stride=stride, padding=padding,
                               ceil_mode=ceil_mode)

# %% conv_params_macs
def conv_params(c_i, c_o, kernel_size, bias=True):
    k_h, k_w = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    return c_i * c_o * k_h * k_w + (c_o if bias else 0)
