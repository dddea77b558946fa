"""bob: typical mistakes (see the comments)."""

# %% im2col
def im2col(X, kernel_size, stride=1, padding=0):
    # correct: loops over the windows
    k_h, k_w = _pair(kernel_size)
    s_h, s_w = _pair(stride)
    p_h, p_w = _pair(padding)
    X = F.pad(X, (p_w, p_w, p_h, p_h))
    N, C, H, W = X.shape
    h_out, w_out = (H - k_h) // s_h + 1, (W - k_w) // s_w + 1
    cols = []
    for r in range(h_out):
        for c in range(w_out):
            cols.append(X[:, :, r * s_h:r * s_h + k_h, c * s_w:c * s_w + k_w].reshape(N, -1))
    return torch.stack(cols, dim=2)

# %% conv2d_forward
def conv2d_forward(X, K, b, stride=1, padding=0):
    # mistake: always adds b, so b=None (allowed, as in F.conv2d) crashes
    N, _, H, W = X.shape
    c_o, _, k_h, k_w = K.shape
    s_h, s_w = _pair(stride)
    p_h, p_w = _pair(padding)
    Y = K.reshape(c_o, -1) @ im2col(X, (k_h, k_w), stride, padding) + b.reshape(-1, 1)
    return Y.reshape(N, c_o, (H + 2 * p_h - k_h) // s_h + 1, (W + 2 * p_w - k_w) // s_w + 1)

# %% conv2d_backward
def conv2d_backward(dY, X, K, stride=1, padding=0):
    # mistake: col2im assigns instead of adding, so overlapping windows lose gradient
    N, c_i, H, W = X.shape
    c_o, _, k_h, k_w = K.shape
    s_h, s_w = _pair(stride)
    p_h, p_w = _pair(padding)
    h_out, w_out = dY.shape[2:]
    g = dY.reshape(N, c_o, -1)
    dK = (g @ im2col(X, (k_h, k_w), stride, padding).transpose(1, 2)).sum(0).reshape(K.shape)
    dcols = (K.reshape(c_o, -1).T @ g).reshape(N, c_i, k_h, k_w, h_out, w_out)
    dX = torch.zeros(N, c_i, H + 2 * p_h, W + 2 * p_w)
    for i in range(k_h):
        for j in range(k_w):
            dX[:, :, i:i + s_h * h_out:s_h, j:j + s_w * w_out:s_w] = dcols[:, :, i, j]
    return dX[:, :, p_h:p_h + H, p_w:p_w + W], dK, dY.sum((0, 2, 3))

# %% maxpool2d_forward
def maxpool2d_forward(X, kernel_size, stride=None):
    # mistake: stride=None taken as 1 instead of the kernel size
    k_h, k_w = _pair(kernel_size)
    s_h, s_w = _pair(stride or 1)
    N, C, H, W = X.shape
    cols = im2col(X.reshape(N * C, 1, H, W), (k_h, k_w), (s_h, s_w))
    return cols.amax(1).reshape(N, C, (H - k_h) // s_h + 1, (W - k_w) // s_w + 1)

# %% maxpool2d_backward
def maxpool2d_backward(dY, X, kernel_size, stride=None):
    # mistake: splits the winner's offset with k_h instead of k_w (right for square kernels)
    k_h, k_w = _pair(kernel_size)
    s_h, s_w = (k_h, k_w) if stride is None else _pair(stride)
    N, C, H, W = X.shape
    h_out, w_out = (H - k_h) // s_h + 1, (W - k_w) // s_w + 1
    offset = im2col(X.reshape(N * C, 1, H, W), (k_h, k_w), (s_h, s_w)).argmax(1)
    r = torch.arange(h_out).repeat_interleave(w_out) * s_h + offset // k_h
    c = torch.arange(w_out).repeat(h_out) * s_w + offset % k_h
    dX = torch.zeros(N * C, H * W)
    dX.scatter_add_(1, r * W + c, dY.reshape(N * C, -1))
    return dX.reshape(N, C, H, W)
