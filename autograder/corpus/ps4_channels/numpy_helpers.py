"""numpy and helpers: corr2d in NumPy (float64 result), reduce, a list appended, matmul of views."""
# kind: correct

# %% corr2d
import numpy as np


def _window(X, i, j, k_h, k_w):
    """The k_h x k_w window of X whose top-left corner is (i, j)."""
    return X[i:i + k_h, j:j + k_w]


def corr2d(X, K):
    x, k = X.numpy(), K.numpy().astype(np.float64)
    k_h, k_w = k.shape
    Y = np.zeros((x.shape[0] - k_h + 1, x.shape[1] - k_w + 1))
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = np.sum(_window(x, i, j, k_h, k_w) * k)
    return torch.from_numpy(Y)

# %% corr2d_multi_in
import functools
import operator


def corr2d_multi_in(X, K):
    return functools.reduce(operator.add, map(corr2d, X, K))

# %% corr2d_multi_in_out
def corr2d_multi_in_out(X, K):
    outputs = []
    for kernel in K:
        outputs.append(corr2d_multi_in(X, kernel))
    return torch.stack(outputs)

# %% conv1x1_as_matmul
def conv1x1_as_matmul(X, K):
    c_i, h, w = X.shape
    weights = K.squeeze(-1).squeeze(-1)  # (c_o, c_i)
    return torch.matmul(weights, X.view(c_i, -1)).view(weights.shape[0], h, w)
