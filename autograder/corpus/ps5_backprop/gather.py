"""gather: windows by advanced indexing with index tensors, matmul/einsum, scatter_add_ and gather."""
# kind: correct

# %% im2col
def window_rows_cols(H, W, k_h, k_w, s_h, s_w):
    """Index tensors I, J of shape (k_h, k_w, h_out, w_out): X[..., I, J] are the windows."""
    h_out, w_out = (H - k_h) // s_h + 1, (W - k_w) // s_w + 1
    I = torch.arange(k_h).view(k_h, 1, 1, 1) + s_h * torch.arange(h_out).view(1, 1, h_out, 1)
    J = torch.arange(k_w).view(1, k_w, 1, 1) + s_w * torch.arange(w_out).view(1, 1, 1, w_out)
    return I.expand(k_h, k_w, h_out, w_out), J.expand(k_h, k_w, h_out, w_out)


def im2col(X, kernel_size, stride=1, padding=0):
    k_h, k_w = _pair(kernel_size)
    p_h, p_w = _pair(padding)
    X_pad = F.pad(X, [p_w, p_w, p_h, p_h])
    N, C, H, W = X_pad.shape
    I, J = window_rows_cols(H, W, k_h, k_w, *_pair(stride))
    patches = X_pad[:, :, I, J]  # (N, C, k_h, k_w, h_out, w_out)
    return patches.reshape(N, C * k_h * k_w, -1)

# %% conv2d_forward
def conv2d_forward(X, K, b, stride=1, padding=0):
    c_o = K.shape[0]
    p_h, p_w = _pair(padding)
    X_pad = F.pad(X, [p_w, p_w, p_h, p_h])
    I, J = window_rows_cols(X_pad.shape[2], X_pad.shape[3], K.shape[2], K.shape[3],
                            *_pair(stride))
    Y = torch.einsum("ocij,ncijhw->nohw", K, X_pad[:, :, I, J])
    if b is not None:
        Y = Y + b.view(1, c_o, 1, 1)
    return Y

# %% conv2d_backward
def conv2d_backward(dY, X, K, stride=1, padding=0):
    c_o, c_i, k_h, k_w = K.shape
    N, _, H, W = X.shape
    p_h, p_w = _pair(padding)
    X_pad = F.pad(X, [p_w, p_w, p_h, p_h])
    H_pad, W_pad = X_pad.shape[2:]
    I, J = window_rows_cols(H_pad, W_pad, k_h, k_w, *_pair(stride))
    db = dY.sum(dim=[0, 2, 3])
    dK = torch.einsum("nohw,ncijhw->ocij", dY, X_pad[:, :, I, J])
    d_patches = torch.einsum("nohw,ocij->ncijhw", dY, K)
    flat = (I * W_pad + J).reshape(-1)
    dX_pad = torch.zeros(N * c_i, H_pad * W_pad, dtype=X.dtype)
    dX_pad.scatter_add_(1, flat.expand(N * c_i, -1), d_patches.reshape(N * c_i, -1))
    dX = dX_pad.view(N, c_i, H_pad, W_pad)[:, :, p_h:p_h + H, p_w:p_w + W]
    return dX, dK, db

# %% maxpool2d_forward
def maxpool2d_forward(X, kernel_size, stride=None):
    k_h, k_w = _pair(kernel_size)
    stride = (k_h, k_w) if stride is None else stride
    I, J = window_rows_cols(X.shape[2], X.shape[3], k_h, k_w, *_pair(stride))
    return X[:, :, I, J].flatten(2, 3).max(dim=2).values

# %% maxpool2d_backward
def maxpool2d_backward(dY, X, kernel_size, stride=None):
    k_h, k_w = _pair(kernel_size)
    stride = (k_h, k_w) if stride is None else stride
    N, C, H, W = X.shape
    I, J = window_rows_cols(H, W, k_h, k_w, *_pair(stride))
    flat = (I * W + J).reshape(k_h * k_w, -1)  # (k_h*k_w, L): pixel of each window entry
    arg = X[:, :, I, J].reshape(N * C, k_h * k_w, -1).argmax(dim=1)  # (N*C, L)
    winner = flat.expand(N * C, -1, -1).gather(1, arg[:, None, :]).squeeze(1)  # (N*C, L)
    dX = torch.zeros(N * C, H * W, dtype=X.dtype)
    dX.scatter_add_(1, winner, dY.reshape(N * C, -1))
    return dX.view(N, C, H, W)
