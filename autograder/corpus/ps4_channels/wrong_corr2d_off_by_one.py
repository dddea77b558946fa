"""corr2d's output is h - k_h by w - k_w (the + 1 forgotten): the last row and column are lost."""
# kind: wrong
# fails: test_corr2d_example test_corr2d_vs_torch test_corr2d_multi_in_example test_corr2d_multi_in_vs_torch test_corr2d_multi_in_out_example test_corr2d_multi_in_out_vs_torch test_conv1x1_as_matmul_example

# %% corr2d
def corr2d(X, K):
    k_h, k_w = K.shape
    Y = torch.zeros(X.shape[0] - k_h, X.shape[1] - k_w)
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = (X[i:i + k_h, j:j + k_w] * K).sum()
    return Y
