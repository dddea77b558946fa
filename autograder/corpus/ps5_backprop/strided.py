"""strided: windows as an as_strided view, einsum for every product, index_add_ for col2im."""
# kind: correct

# %% im2col
def _windows(X, k_h, k_w, s_h, s_w):
    """(N, C, h_out, w_out, k_h, k_w) view of the windows of X (no copy)."""
    X = X.contiguous()
    N, C, H, W = X.shape
    h_out, w_out = (H - k_h) // s_h + 1, (W - k_w) // s_w + 1
    sN, sC, sH, sW = X.stride()
    return X.as_strided((N, C, h_out, w_out, k_h, k_w), (sN, sC, sH * s_h, sW * s_w, sH, sW))


def _window_index(H, W, k_h, k_w, s_h, s_w):
    """(h_out, w_out, k_h, k_w) flat index into H * W of every window entry."""
    h_out, w_out = (H - k_h) // s_h + 1, (W - k_w) // s_w + 1
    rows = (torch.arange(h_out) * s_h)[:, None] + torch.arange(k_h)[None, :]  # (h_out, k_h)
    cols = (torch.arange(w_out) * s_w)[:, None] + torch.arange(k_w)[None, :]  # (w_out, k_w)
    return rows[:, None, :, None] * W + cols[None, :, None, :]


def im2col(X, kernel_size, stride=1, padding=0):
    (k_h, k_w), (s_h, s_w), (p_h, p_w) = _pair(kernel_size), _pair(stride), _pair(padding)
    V = _windows(F.pad(X, (p_w, p_w, p_h, p_h)), k_h, k_w, s_h, s_w)
    N, C, h_out, w_out = V.shape[:4]
    return V.permute(0, 1, 4, 5, 2, 3).reshape(N, C * k_h * k_w, h_out * w_out)

# %% conv2d_forward
def conv2d_forward(X, K, b, stride=1, padding=0):
    (s_h, s_w), (p_h, p_w) = _pair(stride), _pair(padding)
    V = _windows(F.pad(X, (p_w, p_w, p_h, p_h)), K.shape[2], K.shape[3], s_h, s_w)
    Y = torch.einsum("nchwij,ocij->nohw", V, K)
    return Y if b is None else Y + b[None, :, None, None]

# %% conv2d_backward
def conv2d_backward(dY, X, K, stride=1, padding=0):
    (s_h, s_w), (p_h, p_w) = _pair(stride), _pair(padding)
    c_o, c_i, k_h, k_w = K.shape
    X_pad = F.pad(X, (p_w, p_w, p_h, p_h))
    N, _, H_pad, W_pad = X_pad.shape
    V = _windows(X_pad, k_h, k_w, s_h, s_w)
    dK = torch.einsum("nchwij,nohw->ocij", V, dY)
    dV = torch.einsum("nohw,ocij->nchwij", dY, K)  # each window's gradient
    index = _window_index(H_pad, W_pad, k_h, k_w, s_h, s_w).reshape(-1)
    dX_pad = torch.zeros((N, c_i, H_pad * W_pad), dtype=X.dtype)
    dX_pad.index_add_(2, index, dV.reshape(N, c_i, -1))
    dX_pad = dX_pad.reshape(N, c_i, H_pad, W_pad)
    return dX_pad[:, :, p_h:H_pad - p_h, p_w:W_pad - p_w], dK, dY.sum(dim=(0, 2, 3))

# %% maxpool2d_forward
def maxpool2d_forward(X, kernel_size, stride=None):
    k_h, k_w = _pair(kernel_size)
    s_h, s_w = (k_h, k_w) if stride is None else _pair(stride)
    return _windows(X, k_h, k_w, s_h, s_w).amax(dim=(4, 5))

# %% maxpool2d_backward
def maxpool2d_backward(dY, X, kernel_size, stride=None):
    k_h, k_w = _pair(kernel_size)
    s_h, s_w = (k_h, k_w) if stride is None else _pair(stride)
    N, C, H, W = X.shape
    V = _windows(X, k_h, k_w, s_h, s_w).flatten(4)  # (N, C, h_out, w_out, k_h * k_w)
    winner = V == V.amax(dim=4, keepdim=True)
    share = (winner * dY[..., None]).reshape(N, C, -1)
    dX = torch.zeros((N, C, H * W), dtype=X.dtype)
    dX.index_add_(2, _window_index(H, W, k_h, k_w, s_h, s_w).reshape(-1), share)
    return dX.reshape(N, C, H, W)
