"""same_padding returns a list, where the task asks for a tuple."""
# kind: wrong
# fails: test_same_padding_examples

# %% same_padding
def same_padding(kernel_size):
    k_h, k_w = _pair(kernel_size)
    return [(k_h - 1) // 2, k_h // 2, (k_w - 1) // 2, k_w // 2]
