"""build_lenet_wide with the lecture's sigmoids and average pooling instead of ReLU and max pooling."""
# kind: wrong
# fails: test_build_lenet_wide_counts

# %% build_lenet_wide
def build_lenet_wide(c1, c2):
    return nn.Sequential(
        nn.Conv2d(1, c1, 5, padding=2), nn.Sigmoid(), nn.AvgPool2d(2),
        nn.Conv2d(c1, c2, 5), nn.Sigmoid(), nn.AvgPool2d(2),
        nn.Flatten(), nn.Linear(c2 * 25, 120), nn.Sigmoid(), nn.Linear(120, 84), nn.Sigmoid(),
        nn.Linear(84, 10))
