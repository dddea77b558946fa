"""pool_output_shape drops the last ceil_mode window when it starts past the input, forgetting the left padding."""
# kind: wrong
# fails: test_pool_output_shape_vs_torch

# %% pool_output_shape
def pool_output_shape(input_hw, kernel_size, stride=None, padding=0, ceil_mode=False):
    n, k, p = _pair(input_hw), _pair(kernel_size), _pair(padding)
    s = k if stride is None else _pair(stride)
    out = []
    for n_, k_, s_, p_ in zip(n, k, s, p):
        span = n_ + 2 * p_ - k_
        size = (math.ceil(span / s_) if ceil_mode else span // s_) + 1
        if ceil_mode and (size - 1) * s_ >= n_:  # should be n_ + p_
            size -= 1
        out.append(size)
    return tuple(out)
