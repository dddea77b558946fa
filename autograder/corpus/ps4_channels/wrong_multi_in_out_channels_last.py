"""corr2d_multi_in_out stacks the output channels last: (h_out, w_out, c_o)."""
# kind: wrong
# fails: test_corr2d_multi_in_out_example test_corr2d_multi_in_out_vs_torch test_conv1x1_as_matmul_example

# %% corr2d_multi_in_out
def corr2d_multi_in_out(X, K):
    return torch.stack([corr2d_multi_in(X, k) for k in K], dim=-1)
