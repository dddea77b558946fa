"""corr2d_multi_in starts its sum with zeros sized for the example's 2x2 kernel."""
# kind: wrong
# fails: test_corr2d_multi_in_vs_torch test_corr2d_multi_in_out_vs_torch test_conv1x1_as_matmul_example

# %% corr2d_multi_in
def corr2d_multi_in(X, K):
    Y = torch.zeros(X.shape[1] - 1, X.shape[2] - 1)
    for c in range(X.shape[0]):
        Y += corr2d(X[c], K[c])
    return Y
