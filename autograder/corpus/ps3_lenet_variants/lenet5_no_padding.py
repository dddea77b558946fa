"""build_lenet5 without the first padding (the 32x32 original) and a LazyLinear that hides the size change: the shapes show it."""
# kind: wrong
# fails: test_build_lenet5_shapes

# %% build_lenet5
def build_lenet5():
    return nn.Sequential(
        nn.Conv2d(1, 6, kernel_size=5), nn.Sigmoid(), nn.AvgPool2d(2, 2),
        nn.Conv2d(6, 16, kernel_size=5), nn.Sigmoid(), nn.AvgPool2d(2, 2),
        nn.Flatten(), nn.LazyLinear(120), nn.Sigmoid(), nn.Linear(120, 84), nn.Sigmoid(),
        nn.Linear(84, 10))
