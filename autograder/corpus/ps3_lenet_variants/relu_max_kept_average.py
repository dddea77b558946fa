"""build_lenet_relu_max with ReLU but average pooling kept: half of the change."""
# kind: wrong
# fails: test_build_lenet_relu_max

# %% build_lenet_relu_max
def build_lenet_relu_max():
    return nn.Sequential(
        nn.Conv2d(1, 6, kernel_size=5, padding=2), nn.ReLU(), nn.AvgPool2d(2, 2),
        nn.Conv2d(6, 16, kernel_size=5), nn.ReLU(), nn.AvgPool2d(2, 2),
        nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
        nn.Linear(84, 10))
