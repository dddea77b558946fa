"""lenet_shapes reads the shapes off real PyTorch layers (forbidden: use your functions)."""
# kind: wrong
# fails: test_lenet_shapes_vs_torch

# %% lenet_shapes
import torch
from torch import nn


def lenet_shapes(input_hw=(28, 28)):
    X = torch.zeros(1, 1, *_pair(input_hw))
    shapes = []
    for layer in (nn.Conv2d(1, 6, 5, padding=2), nn.AvgPool2d(2), nn.Conv2d(6, 16, 5),
                  nn.AvgPool2d(2)):
        X = layer(X)
        shapes.append(tuple(X.shape[1:]))
    return shapes
