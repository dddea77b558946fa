"""pool_output_shape with ceil_mode keeps a last window that starts in the right padding."""
# kind: wrong
# fails: test_pool_output_shape_vs_torch

# %% pool_output_shape
def pool_output_shape(input_hw, kernel_size, stride=None, padding=0, ceil_mode=False):
    n, k, p = _pair(input_hw), _pair(kernel_size), _pair(padding)
    s = k if stride is None else _pair(stride)
    rounding = math.ceil if ceil_mode else math.floor
    return tuple(rounding((n_ + 2 * p_ - k_) / s_) + 1 for n_, k_, s_, p_ in zip(n, k, s, p))
