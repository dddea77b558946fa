"""conv2d_backward asks torch.autograd.grad through the student's own conv2d_forward: right values, forbidden."""
# kind: wrong
# fails: test_conv2d_backward_example test_conv2d_backward_vs_autograd test_conv2d_backward_edge_cases

# %% conv2d_backward
def conv2d_backward(dY, X, K, stride=1, padding=0):
    X = X.detach().requires_grad_()
    K = K.detach().requires_grad_()
    b = torch.zeros(K.shape[0], dtype=K.dtype, requires_grad=True)
    Y = conv2d_forward(X, K, b, stride=stride, padding=padding)
    return torch.autograd.grad(Y, (X, K, b), dY)
