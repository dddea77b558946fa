"""same_padding puts the extra row on top and the extra column left (not PyTorch's side)."""
# kind: wrong
# fails: test_same_padding_examples test_same_padding_vs_torch

# %% same_padding
def same_padding(kernel_size):
    k_h, k_w = _pair(kernel_size)
    return (k_h // 2, (k_h - 1) // 2, k_w // 2, (k_w - 1) // 2)
