"""corr2d_multi_in adds the channels of X and of K first, then correlates once."""
# kind: wrong
# fails: test_corr2d_multi_in_example test_corr2d_multi_in_vs_torch test_corr2d_multi_in_out_example test_corr2d_multi_in_out_vs_torch test_conv1x1_as_matmul_example

# %% corr2d_multi_in
def corr2d_multi_in(X, K):
    return corr2d(X.sum(dim=0), K.sum(dim=0))
