"""conv_output_shape ignores dilation (uses the kernel size as its span)."""
# kind: wrong
# fails: test_conv_output_shape_examples test_conv_output_shape_vs_torch

# %% conv_output_shape
def conv_output_shape(input_hw, kernel_size, padding=0, stride=1, dilation=1):
    (n_h, n_w), (k_h, k_w) = _pair(input_hw), _pair(kernel_size)
    (p_h, p_w), (s_h, s_w) = _pair(padding), _pair(stride)
    return ((n_h + 2 * p_h - k_h) // s_h + 1, (n_w + 2 * p_w - k_w) // s_w + 1)


def _pair(value):
    return (value, value) if isinstance(value, int) else tuple(value)
