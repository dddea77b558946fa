"""pool_output_shape adds the padding on one side only (n + p - k)."""
# kind: wrong
# fails: test_pool_output_shape_vs_torch

# %% pool_output_shape
def pool_output_shape(input_hw, kernel_size, stride=None, padding=0, ceil_mode=False):
    n, k, p = _pair(input_hw), _pair(kernel_size), _pair(padding)
    s = k if stride is None else _pair(stride)
    out = []
    for n_, k_, s_, p_ in zip(n, k, s, p):
        span = n_ + p_ - k_
        size = (-(-span // s_) if ceil_mode else span // s_) + 1
        if ceil_mode and (size - 1) * s_ >= n_ + p_:
            size -= 1
        out.append(size)
    return tuple(out)
