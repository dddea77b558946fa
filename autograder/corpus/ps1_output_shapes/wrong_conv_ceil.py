"""conv_output_shape rounds the division up (ceil instead of floor)."""
# kind: wrong
# fails: test_conv_output_shape_examples test_conv_output_shape_vs_torch test_params_macs_vs_torch

# %% conv_output_shape
def conv_output_shape(input_hw, kernel_size, padding=0, stride=1, dilation=1):
    out = []
    for n, k, p, s, d in zip(_pair(input_hw), _pair(kernel_size), _pair(padding),
                             _pair(stride), _pair(dilation)):
        out.append(math.ceil((n + 2 * p - d * (k - 1) - 1) / s) + 1)
    return tuple(out)


def _pair(value):
    return (value, value) if isinstance(value, int) else tuple(value)
