"""global_avg_pool_as_conv with X.mean: right values, but not the convolution asked for."""
# kind: wrong
# fails: test_global_avg_pool_vs_torch

# %% global_avg_pool_as_conv
def global_avg_pool_as_conv(X):
    return X.mean(dim=(2, 3), keepdim=True)
