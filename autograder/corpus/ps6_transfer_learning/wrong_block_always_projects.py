"""residual_block with a 1x1 projection shortcut even when the shape does not change."""
# kind: wrong
# fails: test_residual_block_shapes test_residual_block_param_counts test_residual_block_identity_output

# %% residual_block
def residual_block(c_in, c_out, stride=1):
    class Residual(nn.Module):
        def __init__(self):
            super().__init__()
            self.main = nn.Sequential(
                nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False), nn.BatchNorm2d(c_out),
                nn.ReLU(), nn.Conv2d(c_out, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out))
            self.shortcut = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride=stride, bias=False),
                                          nn.BatchNorm2d(c_out))

        def forward(self, X):
            return F.relu(self.main(X) + self.shortcut(X))

    return Residual()
