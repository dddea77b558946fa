"""corr2d with Tensor.unfold: right values, but the rules forbid unfold (write the windows)."""
# kind: wrong
# fails: test_corr2d_vs_torch test_corr2d_multi_in_vs_torch test_corr2d_multi_in_out_vs_torch

# %% corr2d
def corr2d(X, K):
    k_h, k_w = K.shape
    windows = X.unfold(0, k_h, 1).unfold(1, k_w, 1)  # (h_out, w_out, k_h, k_w)
    return (windows * K).sum(dim=(-2, -1))
