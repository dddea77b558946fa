"""corr2d_multi_in_out loops over K.shape[1] (c_i) instead of K.shape[0] (c_o)."""
# kind: wrong
# fails: test_corr2d_multi_in_out_example test_corr2d_multi_in_out_vs_torch

# %% corr2d_multi_in_out
def corr2d_multi_in_out(X, K):
    return torch.stack([corr2d_multi_in(X, K[o]) for o in range(K.shape[1])])
