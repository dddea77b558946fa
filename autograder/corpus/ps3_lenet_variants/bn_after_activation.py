"""build_lenet_bn with each batch norm after the sigmoid instead of before it."""
# kind: wrong
# fails: test_build_lenet_bn_placement

# %% build_lenet_bn
def build_lenet_bn():
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.Sigmoid(), nn.BatchNorm2d(6), nn.AvgPool2d(2, 2),
        nn.Conv2d(6, 16, 5), nn.Sigmoid(), nn.BatchNorm2d(16), nn.AvgPool2d(2, 2),
        nn.Flatten(),
        nn.Linear(400, 120), nn.Sigmoid(), nn.BatchNorm1d(120),
        nn.Linear(120, 84), nn.Sigmoid(), nn.BatchNorm1d(84),
        nn.Linear(84, 10))
