"""maxpool2d_backward runs the student's maxpool2d_forward under autograd and calls .backward(dY): forbidden."""
# kind: wrong
# fails: test_maxpool2d_backward_example test_maxpool2d_backward_vs_autograd

# %% maxpool2d_backward
def maxpool2d_backward(dY, X, kernel_size, stride=None):
    X = X.detach().clone().requires_grad_()
    maxpool2d_forward(X, kernel_size, stride).backward(dY)
    return X.grad
