"""pool_output_shape takes stride=None as 1 (overlapping windows) instead of the window size."""
# kind: wrong
# fails: test_pool_output_shape_examples test_pool_output_shape_vs_torch

# %% pool_output_shape
def pool_output_shape(input_hw, kernel_size, stride=None, padding=0, ceil_mode=False):
    n, k, p = _pair(input_hw), _pair(kernel_size), _pair(padding)
    s = _pair(1 if stride is None else stride)
    out = []
    for n_, k_, s_, p_ in zip(n, k, s, p):
        span = n_ + 2 * p_ - k_
        size = (-(-span // s_) if ceil_mode else span // s_) + 1
        if ceil_mode and (size - 1) * s_ >= n_ + p_:
            size -= 1
        out.append(size)
    return tuple(out)
