"""global_avg_pool_as_conv without groups: every output channel averages all channels."""
# kind: wrong
# fails: test_global_avg_pool_example test_global_avg_pool_vs_torch

# %% global_avg_pool_as_conv
def global_avg_pool_as_conv(X):
    N, C, H, W = X.shape
    K = torch.full((C, C, H, W), 1 / (C * H * W))
    return F.conv2d(X, K)
