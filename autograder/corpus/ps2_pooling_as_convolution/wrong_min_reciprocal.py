"""min_pool as 1 / max(1 / X): true for positive inputs only."""
# kind: wrong
# fails: test_min_pool_vs_torch

# %% min_pool
def min_pool(X, kernel_size, stride=None):
    return 1 / max_pool_via_unfold(1 / X, kernel_size, stride=stride)
