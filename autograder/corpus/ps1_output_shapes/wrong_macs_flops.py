"""conv_macs counts FLOPs (a multiply and an add: twice the MACs)."""
# kind: wrong
# fails: test_conv_macs_examples test_params_macs_vs_torch

# %% conv_params_macs
def conv_params(c_i, c_o, kernel_size, bias=True):
    k_h, k_w = _pair(kernel_size)
    return c_o * c_i * k_h * k_w + (c_o if bias else 0)


def conv_macs(c_i, c_o, input_hw, kernel_size, padding=0, stride=1):
    k_h, k_w = _pair(kernel_size)
    h, w = conv_output_shape(input_hw, kernel_size, padding=padding, stride=stride)
    return 2 * c_i * k_h * k_w * c_o * h * w
