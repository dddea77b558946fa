"""conv2d_forward calls F.conv2d: right values, but the library does the convolution."""
# kind: wrong
# fails: test_conv2d_forward_example test_conv2d_forward_vs_torch

# %% conv2d_forward
def conv2d_forward(X, K, b, stride=1, padding=0):
    return F.conv2d(X, K, b, stride=stride, padding=padding)
