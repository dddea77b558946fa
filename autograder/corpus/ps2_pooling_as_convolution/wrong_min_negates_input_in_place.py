"""min_pool negates X in place (X *= -1): right values, but the caller's X changes sign."""
# kind: wrong
# fails: test_min_pool_vs_torch

# %% min_pool
def min_pool(X, kernel_size, stride=None):
    X *= -1
    return -max_pool_via_unfold(X, kernel_size, stride=stride)
