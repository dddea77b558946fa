"""alice: correct answers."""

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
    return sum(corr2d(x, k) for x, k in zip(X, K))

# %% corr2d_multi_in_out
def corr2d_multi_in_out(X, K):
    return torch.stack([corr2d_multi_in(X, k) for k in K], 0)

# %% conv1x1_as_matmul
def conv1x1_as_matmul(X, K):
    c_i, h, w = X.shape
    c_o = K.shape[0]
    return torch.matmul(K.view(c_o, c_i), X.reshape(c_i, h * w)).reshape(c_o, h, w)

# %% written_audio_convolution
Use nn.Conv1d along time: input (N, 1, T) for mono sound, kernel (c_o, 1, k), each output
channel a learned filter. The same kernel everywhere in time is right because a sound is
the same sound whenever it happens. Stride 2 halves the number of time steps (8 kHz).

# %% written_text_convolution
Yes: embed the words, so a sentence is (N, d, L) with the d embedding values as channels,
and a width-3 Conv1d detects 3-word phrases anywhere in the sentence. Global max pooling
over the positions gives a fixed-size vector. Limit: it only sees a few words at a time,
so long-range dependencies need many layers.
