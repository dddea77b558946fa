"""corr2d flips the kernel (a true convolution, not the cross-correlation asked for)."""
# kind: wrong
# fails: test_corr2d_example test_corr2d_vs_torch test_corr2d_multi_in_example test_corr2d_multi_in_vs_torch test_corr2d_multi_in_out_example test_corr2d_multi_in_out_vs_torch

# %% corr2d
def corr2d(X, K):
    k_h, k_w = K.shape
    K = torch.flip(K, dims=(0, 1))
    Y = torch.zeros(X.shape[0] - k_h + 1, X.shape[1] - k_w + 1)
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = (X[i:i + k_h, j:j + k_w] * K).sum()
    return Y
