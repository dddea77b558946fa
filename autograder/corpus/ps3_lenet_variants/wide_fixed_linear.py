"""build_lenet_wide whose first linear layer still expects 16 * 5 * 5 inputs."""
# kind: wrong
# fails: test_build_lenet_wide test_build_lenet_wide_counts

# %% build_lenet_wide
def build_lenet_wide(c1, c2):
    return nn.Sequential(
        nn.Conv2d(1, c1, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(c1, c2, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(16 * 5 * 5, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
        nn.Linear(84, 10))
