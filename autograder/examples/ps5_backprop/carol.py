"""carol: lets the library do the work (F.conv2d, autograd, F.max_pool2d); im2col and the pooling gradient are her own."""

# %% im2col
def im2col(X, kernel_size, stride=1, padding=0):
    k_h, k_w = _pair(kernel_size)
    s_h, s_w = _pair(stride)
    p_h, p_w = _pair(padding)
    X = F.pad(X, (p_w, p_w, p_h, p_h))
    N, C, H, W = X.shape
    h_out, w_out = (H - k_h) // s_h + 1, (W - k_w) // s_w + 1
    out = torch.empty(N, C, k_h, k_w, h_out, w_out)
    for i in range(k_h):
        for j in range(k_w):
            out[:, :, i, j] = X[:, :, i::s_h, j::s_w][:, :, :h_out, :w_out]
    return out.reshape(N, C * k_h * k_w, h_out * w_out)

# %% conv2d_forward
def conv2d_forward(X, K, b, stride=1, padding=0):
    return F.conv2d(X, K, b, stride=stride, padding=padding)

# %% conv2d_backward
def conv2d_backward(dY, X, K, stride=1, padding=0):
    X, K = X.clone().requires_grad_(), K.clone().requires_grad_()
    b = torch.zeros(K.shape[0], requires_grad=True)
    Y = F.conv2d(X, K, b, stride=stride, padding=padding)
    return torch.autograd.grad(Y, [X, K, b], dY)

# %% maxpool2d_forward
def maxpool2d_forward(X, kernel_size, stride=None):
    return F.max_pool2d(X, kernel_size, stride)

# %% maxpool2d_backward
def maxpool2d_backward(dY, X, kernel_size, stride=None):
    k_h, k_w = _pair(kernel_size)
    s_h, s_w = (k_h, k_w) if stride is None else _pair(stride)
    dX = torch.zeros_like(X)
    for r in range(dY.shape[2]):
        for c in range(dY.shape[3]):
            window = X[:, :, r * s_h:r * s_h + k_h, c * s_w:c * s_w + k_w]
            winner = window == window.amax(dim=(2, 3), keepdim=True)
            dX[:, :, r * s_h:r * s_h + k_h, c * s_w:c * s_w + k_w] += winner * dY[:, :, r, c, None, None]
    return dX
