"""corr2d slices the window with k_w rows and k_h columns (right only for square kernels)."""
# kind: wrong
# fails: test_corr2d_vs_torch test_corr2d_multi_in_vs_torch test_corr2d_multi_in_out_vs_torch

# %% corr2d
def corr2d(X, K):
    k_h, k_w = K.shape
    Y = torch.zeros(X.shape[0] - k_h + 1, X.shape[1] - k_w + 1)
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = (X[i:i + k_w, j:j + k_h] * K).sum()
    return Y
