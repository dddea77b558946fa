"""max_pool_via_unfold calls F.max_pool2d: right values, but the library does the pooling."""
# kind: wrong
# fails: test_max_pool_via_unfold_vs_torch test_min_pool_vs_torch

# %% max_pool_via_unfold
def max_pool_via_unfold(X, kernel_size, stride=None, padding=0):
    return F.max_pool2d(X, kernel_size, stride=stride, padding=padding)
