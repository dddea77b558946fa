"""conv1x1_as_matmul calls the loop version: right values, not the matrix product asked for."""
# kind: wrong
# fails: test_conv1x1_as_matmul_vs_torch

# %% conv1x1_as_matmul
def conv1x1_as_matmul(X, K):
    return corr2d_multi_in_out(X, K)
