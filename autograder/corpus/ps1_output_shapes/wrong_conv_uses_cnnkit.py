"""conv_output_shape calls cnnkit's reference (forbidden; conv_macs and lenet_shapes inherit it)."""
# kind: wrong
# fails: test_conv_output_shape_vs_torch test_params_macs_vs_torch test_lenet_shapes_vs_torch

# %% conv_output_shape
import cnnkit


def conv_output_shape(input_hw, kernel_size, padding=0, stride=1, dilation=1):
    return tuple(cnnkit.conv2d_output_shape(input_hw, kernel_size, padding=padding,
                                            stride=stride, dilation=dilation))


def _pair(value):
    return (value, value) if isinstance(value, int) else tuple(value)
