"""conv_macs multiplies by the input size instead of the output size (right only for 'same')."""
# kind: wrong
# fails: test_params_macs_vs_torch

# %% conv_params_macs
def conv_params(c_i, c_o, kernel_size, bias=True):
    k_h, k_w = _pair(kernel_size)
    return c_o * c_i * k_h * k_w + c_o * bool(bias)


def conv_macs(c_i, c_o, input_hw, kernel_size, padding=0, stride=1):
    k_h, k_w = _pair(kernel_size)
    n_h, n_w = _pair(input_hw)
    return c_i * c_o * k_h * k_w * n_h * n_w
