"""corr2d_multi_in's loop stops one channel early (range(1, c_i - 1))."""
# kind: wrong
# fails: test_corr2d_multi_in_example test_corr2d_multi_in_vs_torch test_corr2d_multi_in_out_example test_corr2d_multi_in_out_vs_torch test_conv1x1_as_matmul_example

# %% corr2d_multi_in
def corr2d_multi_in(X, K):
    Y = corr2d(X[0], K[0])
    for c in range(1, X.shape[0] - 1):
        Y = Y + corr2d(X[c], K[c])
    return Y
