"""loops: every window by hand (cs231n's naive layers), own int-or-pair parsing, masks for the max."""
# kind: correct

# %% im2col
def im2col(X, kernel_size, stride=1, padding=0):
    k_h, k_w = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    s_h, s_w = (stride, stride) if isinstance(stride, int) else stride
    p_h, p_w = (padding, padding) if isinstance(padding, int) else padding
    N, C, H, W = X.shape
    X_pad = torch.zeros((N, C, H + 2 * p_h, W + 2 * p_w), dtype=X.dtype)
    X_pad[:, :, p_h:p_h + H, p_w:p_w + W] = X
    h_out = (H + 2 * p_h - k_h) // s_h + 1
    w_out = (W + 2 * p_w - k_w) // s_w + 1
    out = torch.zeros((N, C * k_h * k_w, h_out * w_out), dtype=X.dtype)
    for r in range(h_out):
        for c in range(w_out):
            window = X_pad[:, :, r * s_h:r * s_h + k_h, c * s_w:c * s_w + k_w]
            out[:, :, r * w_out + c] = window.reshape(N, C * k_h * k_w)
    return out

# %% conv2d_forward
def conv2d_forward(X, K, b, stride=1, padding=0):
    c_o, c_i, k_h, k_w = K.shape
    s_h, s_w = _pair(stride)
    p_h, p_w = _pair(padding)
    X_pad = F.pad(X, (p_w, p_w, p_h, p_h))
    N, _, H, W = X_pad.shape
    h_out, w_out = (H - k_h) // s_h + 1, (W - k_w) // s_w + 1
    Y = torch.zeros((N, c_o, h_out, w_out), dtype=X.dtype)
    for r in range(h_out):
        for c in range(w_out):
            window = X_pad[:, :, r * s_h:r * s_h + k_h, c * s_w:c * s_w + k_w]
            for o in range(c_o):
                Y[:, o, r, c] = (window * K[o]).sum(dim=(1, 2, 3))
            if b is not None:
                Y[:, :, r, c] += b
    return Y

# %% conv2d_backward
def conv2d_backward(dY, X, K, stride=1, padding=0):
    c_o, c_i, k_h, k_w = K.shape
    N, _, H, W = X.shape
    s_h, s_w = _pair(stride)
    p_h, p_w = _pair(padding)
    X_pad = F.pad(X, (p_w, p_w, p_h, p_h))
    dX_pad = torch.zeros_like(X_pad)
    dK = torch.zeros_like(K)
    for r in range(dY.shape[2]):
        for c in range(dY.shape[3]):
            rows = slice(r * s_h, r * s_h + k_h)
            cols = slice(c * s_w, c * s_w + k_w)
            g = dY[:, :, r, c]  # (N, c_o)
            for n in range(N):
                for o in range(c_o):
                    dK[o] += g[n, o] * X_pad[n, :, rows, cols]
                    dX_pad[n, :, rows, cols] += g[n, o] * K[o]
    db = dY.sum(dim=(0, 2, 3))
    return dX_pad[:, :, p_h:p_h + H, p_w:p_w + W], dK, db

# %% maxpool2d_forward
def maxpool2d_forward(X, kernel_size, stride=None):
    k_h, k_w = _pair(kernel_size)
    s_h, s_w = _pair(kernel_size if stride is None else stride)
    N, C, H, W = X.shape
    Y = torch.empty((N, C, (H - k_h) // s_h + 1, (W - k_w) // s_w + 1), dtype=X.dtype)
    for r in range(Y.shape[2]):
        for c in range(Y.shape[3]):
            Y[:, :, r, c] = X[:, :, r * s_h:r * s_h + k_h, c * s_w:c * s_w + k_w].amax(dim=(2, 3))
    return Y

# %% maxpool2d_backward
def maxpool2d_backward(dY, X, kernel_size, stride=None):
    k_h, k_w = _pair(kernel_size)
    s_h, s_w = _pair(kernel_size if stride is None else stride)
    dX = torch.zeros_like(X)
    for r in range(dY.shape[2]):
        for c in range(dY.shape[3]):
            window = X[:, :, r * s_h:r * s_h + k_h, c * s_w:c * s_w + k_w]
            mask = window == window.amax(dim=(2, 3), keepdim=True)  # no ties: one winner
            dX[:, :, r * s_h:r * s_h + k_h, c * s_w:c * s_w + k_w] += \
                mask * dY[:, :, r, c][:, :, None, None]
    return dX
