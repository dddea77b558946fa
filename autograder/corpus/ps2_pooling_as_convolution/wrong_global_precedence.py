"""global_avg_pool_as_conv fills the kernel with 1 / H * W, which is W / H."""
# kind: wrong
# fails: test_global_avg_pool_example test_global_avg_pool_vs_torch

# %% global_avg_pool_as_conv
def global_avg_pool_as_conv(X):
    N, C, H, W = X.shape
    K = torch.full((C, 1, H, W), 1 / H * W)
    return F.conv2d(X, K, groups=C)
