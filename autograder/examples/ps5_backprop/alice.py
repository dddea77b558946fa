"""alice: correct everywhere, written her own way (as_strided windows, einsum, index_put_)."""

# %% im2col
def windows(X, k_h, k_w, s_h, s_w):
    """(N, C, h_out, w_out, k_h, k_w) view of the windows of X."""
    X = X.contiguous()
    N, C, H, W = X.shape
    h_out, w_out = (H - k_h) // s_h + 1, (W - k_w) // s_w + 1
    st = X.stride()
    return X.as_strided((N, C, h_out, w_out, k_h, k_w),
                        (st[0], st[1], st[2] * s_h, st[3] * s_w, st[2], st[3]))


def im2col(X, kernel_size, stride=1, padding=0):
    k_h, k_w = _pair(kernel_size)
    p_h, p_w = _pair(padding)
    V = windows(F.pad(X, (p_w, p_w, p_h, p_h)), k_h, k_w, *_pair(stride))
    N, C, h_out, w_out = V.shape[:4]
    # (N, C, k_h, k_w, h_out, w_out) -> (N, C*k_h*k_w, L)
    return V.permute(0, 1, 4, 5, 2, 3).reshape(N, -1, h_out * w_out)

# %% conv2d_forward
def conv2d_forward(X, K, b, stride=1, padding=0):
    p_h, p_w = _pair(padding)
    V = windows(F.pad(X, (p_w, p_w, p_h, p_h)), K.shape[2], K.shape[3], *_pair(stride))
    Y = torch.einsum("nchwij,ocij->nohw", V, K)
    return Y if b is None else Y + b.view(1, -1, 1, 1)

# %% conv2d_backward
def conv2d_backward(dY, X, K, stride=1, padding=0):
    s_h, s_w = _pair(stride)
    p_h, p_w = _pair(padding)
    k_h, k_w = K.shape[2:]
    X_pad = F.pad(X, (p_w, p_w, p_h, p_h))
    dK = torch.einsum("nchwij,nohw->ocij", windows(X_pad, k_h, k_w, s_h, s_w), dY)
    dX_pad = torch.zeros_like(X_pad)
    h_out, w_out = dY.shape[2:]
    for i in range(k_h):
        for j in range(k_w):
            rows = i + s_h * torch.arange(h_out)
            cols = j + s_w * torch.arange(w_out)
            share = torch.einsum("nohw,oc->nchw", dY, K[:, :, i, j])
            dX_pad[:, :, rows[:, None], cols[None, :]] += share  # rows/cols are distinct here
    H, W = X.shape[2:]
    return dX_pad[:, :, p_h:p_h + H, p_w:p_w + W], dK, dY.sum(dim=(0, 2, 3))

# %% maxpool2d_forward
def maxpool2d_forward(X, kernel_size, stride=None):
    k_h, k_w = _pair(kernel_size)
    s_h, s_w = _pair(kernel_size if stride is None else stride)
    return windows(X, k_h, k_w, s_h, s_w).amax(dim=(-2, -1))

# %% maxpool2d_backward
def maxpool2d_backward(dY, X, kernel_size, stride=None):
    k_h, k_w = _pair(kernel_size)
    s_h, s_w = _pair(kernel_size if stride is None else stride)
    N, C, H, W = X.shape
    V = windows(X, k_h, k_w, s_h, s_w)
    h_out, w_out = V.shape[2:4]
    offset = V.reshape(N, C, h_out, w_out, -1).argmax(dim=-1)
    a, b = offset // k_w, offset % k_w  # the winner's row and column in its window
    rows = a + s_h * torch.arange(h_out).view(h_out, 1)
    cols = b + s_w * torch.arange(w_out).view(1, w_out)
    n = torch.arange(N).view(N, 1, 1, 1).expand_as(rows)
    c = torch.arange(C).view(1, C, 1, 1).expand_as(rows)
    dX = torch.zeros_like(X)
    dX.index_put_((n, c, rows, cols), dY, accumulate=True)  # winners of several windows add up
    return dX
