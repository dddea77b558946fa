"""conv_output_shape returns a list, where the task asks for a tuple of two ints."""
# kind: wrong
# fails: test_conv_output_shape_examples

# %% conv_output_shape
def conv_output_shape(input_hw, kernel_size, padding=0, stride=1, dilation=1):
    return [(n + 2 * p - d * (k - 1) - 1) // s + 1 for n, k, p, s, d in
            zip(_pair(input_hw), _pair(kernel_size), _pair(padding), _pair(stride),
                _pair(dilation))]


def _pair(value):
    return (value, value) if isinstance(value, int) else tuple(value)
