"""maxpool2d_forward calls F.max_pool2d through an alias: right values, but the library pools."""
# kind: wrong
# fails: test_maxpool2d_forward_example test_maxpool2d_forward_vs_torch

# %% maxpool2d_forward
pool = F.max_pool2d


def maxpool2d_forward(X, kernel_size, stride=None):
    return pool(X, kernel_size, stride)
