"""corr2d_multi_in_out concatenates the channels along the rows instead of stacking them."""
# kind: wrong
# fails: test_corr2d_multi_in_out_example test_corr2d_multi_in_out_vs_torch test_conv1x1_as_matmul_example

# %% corr2d_multi_in_out
def corr2d_multi_in_out(X, K):
    return torch.cat([corr2d_multi_in(X, k) for k in K])
