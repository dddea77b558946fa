"""bob: averages over the input channels instead of summing (his 1x1 convolution is right)."""

# %% corr2d
def corr2d(X, K):
    h, w = K.shape
    Y = torch.zeros(X.shape[0] - h + 1, X.shape[1] - w + 1)
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = (X[i:i + h, j:j + w] * K).sum()
    return Y

# %% corr2d_multi_in
def corr2d_multi_in(X, K):
    # mistake: the mean over channels, not the sum
    return torch.stack([corr2d(x, k) for x, k in zip(X, K)]).mean(0)

# %% corr2d_multi_in_out
def corr2d_multi_in_out(X, K):
    return torch.stack([corr2d_multi_in(X, k) for k in K], 0)

# %% conv1x1_as_matmul
def conv1x1_as_matmul(X, K):
    c_i, h, w = X.shape
    c_o = K.shape[0]
    return (K.reshape(c_o, c_i) @ X.reshape(c_i, h * w)).reshape(c_o, h, w)

# %% written_text_convolution
No, text features are the vocabulary and words are not location dependent.
