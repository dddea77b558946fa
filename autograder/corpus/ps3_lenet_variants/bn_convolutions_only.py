"""build_lenet_bn with batch norm after the convolutions only: the sigmoid layers behind them barely learn."""
# kind: wrong
# fails: test_build_lenet_bn test_build_lenet_bn_placement test_train_variant_batch_norm

# %% build_lenet_bn
def build_lenet_bn():
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.BatchNorm2d(6), nn.Sigmoid(), nn.AvgPool2d(2, 2),
        nn.Conv2d(6, 16, 5), nn.BatchNorm2d(16), nn.Sigmoid(), nn.AvgPool2d(2, 2),
        nn.Flatten(), nn.Linear(400, 120), nn.Sigmoid(), nn.Linear(120, 84), nn.Sigmoid(),
        nn.Linear(84, 10))
