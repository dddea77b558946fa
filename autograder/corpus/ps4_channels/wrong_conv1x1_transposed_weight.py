"""conv1x1_as_matmul reads the weight as (c_i, c_o) and transposes it."""
# kind: wrong
# fails: test_conv1x1_as_matmul_example test_conv1x1_as_matmul_vs_torch

# %% conv1x1_as_matmul
def conv1x1_as_matmul(X, K):
    c_i, h, w = X.shape
    c_o = K.shape[0]
    W = K.reshape(c_i, c_o).T  # (c_o, c_i), but with the entries in the wrong places
    return (W @ X.reshape(c_i, h * w)).reshape(c_o, h, w)
