"""loops: scalar loops over the window, preallocated outputs, torch.mm on the squeezed kernel."""
# kind: correct

# %% corr2d
def corr2d(X, K):
    h, w = X.shape
    k_h, k_w = K.shape
    h_out, w_out = h - k_h + 1, w - k_w + 1
    Y = torch.zeros(h_out, w_out)
    for i in range(h_out):
        for j in range(w_out):
            total = 0.0
            for a in range(k_h):
                for b in range(k_w):
                    total += X[i + a, j + b] * K[a, b]
            Y[i, j] = total
    return Y

# %% corr2d_multi_in
def corr2d_multi_in(X, K):
    c_i = X.shape[0]
    Y = corr2d(X[0], K[0])
    for c in range(1, c_i):
        Y = Y + corr2d(X[c], K[c])
    return Y

# %% corr2d_multi_in_out
def corr2d_multi_in_out(X, K):
    c_o, c_i, k_h, k_w = K.shape
    _, h, w = X.shape
    Y = torch.zeros(c_o, h - k_h + 1, w - k_w + 1)
    for o in range(c_o):
        Y[o] = corr2d_multi_in(X, K[o])
    return Y

# %% conv1x1_as_matmul
def conv1x1_as_matmul(X, K):
    c_i, h, w = X.shape
    W = K[:, :, 0, 0]  # (c_o, c_i)
    return torch.mm(W, X.flatten(1)).view(-1, h, w)  # (c_o, h * w) -> (c_o, h, w)
