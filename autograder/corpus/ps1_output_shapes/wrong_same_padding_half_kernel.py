"""same_padding pads k // 2 on both sides (one row too many for even kernels)."""
# kind: wrong
# fails: test_same_padding_examples test_same_padding_vs_torch

# %% same_padding
def same_padding(kernel_size):
    k_h, k_w = _pair(kernel_size)
    return (k_h // 2, k_h // 2, k_w // 2, k_w // 2)
