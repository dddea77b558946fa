"""build_lenet_relu_max with stride-1 pooling (MaxPool2d(2, 1)): the first linear layer no longer fits."""
# kind: wrong
# fails: test_build_lenet_relu_max test_build_lenet_relu_max_device test_train_variant_history test_train_variant_accuracy

# %% build_lenet_relu_max
def build_lenet_relu_max():
    return nn.Sequential(
        nn.Conv2d(1, 6, kernel_size=5, padding=2), nn.ReLU(), nn.MaxPool2d(2, stride=1),
        nn.Conv2d(6, 16, kernel_size=5), nn.ReLU(), nn.MaxPool2d(2, stride=1),
        nn.Flatten(), nn.Linear(16 * 5 * 5, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
        nn.Linear(84, 10))
