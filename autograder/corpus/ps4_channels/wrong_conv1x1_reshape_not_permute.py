"""conv1x1_as_matmul reshapes X to (h * w, c_i) instead of transposing: pixels and channels mix."""
# kind: wrong
# fails: test_conv1x1_as_matmul_example test_conv1x1_as_matmul_vs_torch

# %% conv1x1_as_matmul
def conv1x1_as_matmul(X, K):
    c_i, h, w = X.shape
    c_o = K.shape[0]
    pixels = X.reshape(h * w, c_i)  # wrong: the memory order is (c_i, h * w)
    return (pixels @ K.reshape(c_o, c_i).T).T.reshape(c_o, h, w)
