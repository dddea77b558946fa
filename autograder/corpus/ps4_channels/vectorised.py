"""vectorised: shifted slices times kernel entries, stack-and-sum, cat, pixels-first matmul."""
# kind: correct

# %% corr2d
def corr2d(X, K):
    k_h, k_w = K.shape
    h_out = X.shape[0] - k_h + 1
    w_out = X.shape[1] - k_w + 1
    torch.rand(3)  # a stray random draw must not matter
    Y = torch.zeros(h_out, w_out, dtype=X.dtype)
    for a in range(k_h):
        for b in range(k_w):
            Y += K[a, b] * X[a:a + h_out, b:b + w_out]  # every output sees offset (a, b)
    return Y

# %% corr2d_multi_in
def corr2d_multi_in(X, K):
    per_channel = [corr2d(X[c], K[c]) for c in range(len(X))]
    return torch.stack(per_channel).sum(dim=0)

# %% corr2d_multi_in_out
def corr2d_multi_in_out(X, K):
    return torch.cat([corr2d_multi_in(X, K[o]).unsqueeze(0) for o in range(K.shape[0])], dim=0)

# %% conv1x1_as_matmul
def conv1x1_as_matmul(X, K):
    c_o, c_i = K.shape[:2]
    pixels = X.permute(1, 2, 0)  # (h, w, c_i)
    Y = pixels @ K.reshape(c_o, c_i).T  # (h, w, c_o)
    return Y.permute(2, 0, 1)  # (c_o, h, w)
