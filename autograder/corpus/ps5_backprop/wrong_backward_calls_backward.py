"""conv2d_backward calls Y.backward(dY) and reads .grad: right values, but autograd does the work."""
# kind: wrong
# fails: test_conv2d_backward_example test_conv2d_backward_vs_autograd test_conv2d_backward_edge_cases

# %% conv2d_backward
def conv2d_backward(dY, X, K, stride=1, padding=0):
    X = X.clone().requires_grad_(True)
    K = K.clone().requires_grad_(True)
    b = torch.zeros(K.shape[0], dtype=K.dtype).requires_grad_(True)
    conv2d_forward(X, K, b, stride, padding).backward(dY)
    return X.grad, K.grad, b.grad
