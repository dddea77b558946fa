"""numpy: the student works in NumPy (sliding_window_view, tensordot, np.add.at) and converts back."""
# kind: correct

# %% im2col
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def windows_np(x, k_h, k_w, s_h, s_w):
    """(N, C, h_out, w_out, k_h, k_w) windows of the array x."""
    return sliding_window_view(x, (k_h, k_w), axis=(2, 3))[:, :, ::s_h, ::s_w]


def im2col(X, kernel_size, stride=1, padding=0):
    k_h, k_w = _pair(kernel_size)
    s_h, s_w = _pair(stride)
    p_h, p_w = _pair(padding)
    x = np.pad(X.numpy(), ((0, 0), (0, 0), (p_h, p_h), (p_w, p_w)))
    v = windows_np(x, k_h, k_w, s_h, s_w)
    N, C, h_out, w_out = v.shape[:4]
    cols = v.transpose(0, 1, 4, 5, 2, 3).reshape(N, C * k_h * k_w, h_out * w_out)
    return torch.from_numpy(cols.copy())  # a copy: the window view is read-only

# %% conv2d_forward
def conv2d_forward(X, K, b, stride=1, padding=0):
    s_h, s_w = _pair(stride)
    p_h, p_w = _pair(padding)
    x = np.pad(X.numpy(), ((0, 0), (0, 0), (p_h, p_h), (p_w, p_w)))
    k = K.numpy()
    v = windows_np(x, k.shape[2], k.shape[3], s_h, s_w)  # (N, c_i, h_out, w_out, k_h, k_w)
    y = np.tensordot(v, k, axes=([1, 4, 5], [1, 2, 3]))  # (N, h_out, w_out, c_o)
    if b is not None:
        y = y + b.numpy()
    return torch.from_numpy(np.ascontiguousarray(y.transpose(0, 3, 1, 2)))

# %% conv2d_backward
def conv2d_backward(dY, X, K, stride=1, padding=0):
    s_h, s_w = _pair(stride)
    p_h, p_w = _pair(padding)
    x = np.pad(X.numpy(), ((0, 0), (0, 0), (p_h, p_h), (p_w, p_w)))
    k, dy = K.numpy(), dY.numpy()
    c_o, c_i, k_h, k_w = k.shape
    v = windows_np(x, k_h, k_w, s_h, s_w)
    dk = np.einsum("nchwij,nohw->ocij", v, dy)
    dx = np.zeros_like(x)
    for i in range(k_h):
        for j in range(k_w):
            # kernel entry (i, j) of every window, to the pixels it read
            share = np.einsum("nohw,oc->nchw", dy, k[:, :, i, j])
            rows = i + s_h * np.arange(dy.shape[2])
            cols = j + s_w * np.arange(dy.shape[3])
            np.add.at(dx, (slice(None), slice(None), rows[:, None], cols[None, :]), share)
    H, W = X.shape[2], X.shape[3]
    dx = dx[:, :, p_h:p_h + H, p_w:p_w + W]
    return (torch.from_numpy(np.ascontiguousarray(dx)), torch.from_numpy(dk),
            torch.from_numpy(dy.sum(axis=(0, 2, 3))))

# %% maxpool2d_forward
def maxpool2d_forward(X, kernel_size, stride=None):
    k_h, k_w = _pair(kernel_size)
    s_h, s_w = (k_h, k_w) if stride is None else _pair(stride)
    v = windows_np(X.numpy(), k_h, k_w, s_h, s_w)
    return torch.from_numpy(np.ascontiguousarray(v.max(axis=(4, 5))))

# %% maxpool2d_backward
def maxpool2d_backward(dY, X, kernel_size, stride=None):
    k_h, k_w = _pair(kernel_size)
    s_h, s_w = (k_h, k_w) if stride is None else _pair(stride)
    x, dy = X.numpy(), dY.numpy()
    N, C, h_out, w_out = dy.shape
    v = windows_np(x, k_h, k_w, s_h, s_w).reshape(N, C, h_out, w_out, k_h * k_w)
    a, b = np.divmod(v.argmax(axis=4), k_w)  # the winner's row and column in its window
    rows = a + s_h * np.arange(h_out)[:, None]
    cols = b + s_w * np.arange(w_out)[None, :]
    n, c = np.indices((N, C, h_out, w_out))[:2]
    dx = np.zeros_like(x)
    np.add.at(dx, (n, c, rows, cols), dy)
    return torch.from_numpy(dx)
