"""min_pool does not pass its stride on, so it always moves by the window size."""
# kind: wrong
# fails: test_min_pool_example test_min_pool_vs_torch

# %% min_pool
def min_pool(X, kernel_size, stride=None):
    return -max_pool_via_unfold(-X, kernel_size)
