"""cnnkit.models.lenet5 against an independent count and PyTorch's own layers."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from cnnkit.models import lenet5


def _count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def test_lenet5_default_is_the_lecture_network():
    model = lenet5()
    # 6*(1*25+1) + 16*(6*25+1) + (400*120+120) + (120*84+84) + (84*10+10)
    assert _count(model) == 156 + 2416 + 48120 + 10164 + 850 == 61_706
    kinds = [type(m) for m in model]
    assert kinds.count(nn.Sigmoid) == 4 and kinds.count(nn.AvgPool2d) == 2
    assert nn.ReLU not in kinds and nn.MaxPool2d not in kinds


@pytest.mark.parametrize("activation, act", [("sigmoid", nn.Sigmoid), ("relu", nn.ReLU)])
@pytest.mark.parametrize("pool, pool_cls", [("avg", nn.AvgPool2d), ("max", nn.MaxPool2d)])
def test_lenet5_variants(activation, act, pool, pool_cls):
    model = lenet5(activation=activation, pool=pool)
    kinds = [type(m) for m in model]
    assert kinds.count(act) == 4 and kinds.count(pool_cls) == 2
    assert _count(model) == 61_706


def test_lenet5_layer_shapes_on_28x28():
    X = torch.randn(2, 1, 28, 28)
    shapes = []
    for layer in lenet5():
        X = layer(X)
        shapes.append(tuple(X.shape[1:]))
    assert shapes == [(6, 28, 28), (6, 28, 28), (6, 14, 14), (16, 10, 10), (16, 10, 10),
                      (16, 5, 5), (400,), (120,), (120,), (84,), (84,), (10,)]  # fmt: skip


def test_lenet5_channels_and_classes():
    model = lenet5(in_channels=3, num_classes=7)
    assert model(torch.randn(4, 3, 28, 28)).shape == (4, 7)
    assert _count(model) == 61_706 + 2 * 6 * 25 - 3 * 84 - 3


@pytest.mark.parametrize(
    "kwargs, word",
    [({"activation": "tanh"}, "activation"), ({"pool": "min"}, "pool"),
     ({"num_classes": 0}, "num_classes"), ({"in_channels": 1.5}, "in_channels")],
)  # fmt: skip
def test_lenet5_rejects_bad_options(kwargs, word):
    with pytest.raises(ValueError, match=word):
        lenet5(**kwargs)


def test_lenet5_options_are_keyword_only():
    with pytest.raises(TypeError):
        lenet5("relu")  # type: ignore[misc]
