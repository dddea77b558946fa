"""cnnkit.receptive against autograd: the receptive field is where an output's input
gradient can be non-zero."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from cnnkit.receptive import LayerField, receptive_fields


def measured_field(layers, n: int = 64) -> int:
    """Width of the input region that one central output unit depends on (autograd)."""
    modules = [nn.Conv2d(1, 1, (1, k), stride=(1, s), dilation=(1, d), bias=False)
               for k, s, d in layers]
    for module in modules:
        nn.init.constant_(module.weight, 1.0)  # positive weights: no cancellation
    net = nn.Sequential(*modules).double()
    X = torch.zeros(1, 1, 1, n, dtype=torch.float64, requires_grad=True)
    Y = net(X)
    Y[0, 0, 0, Y.shape[-1] // 2].backward()
    columns = X.grad[0, 0, 0].nonzero().flatten()
    return int(columns.max() - columns.min() + 1)


layer = st.tuples(st.integers(1, 4), st.integers(1, 3), st.integers(1, 2))


@settings(max_examples=40, deadline=None)
@given(st.lists(layer, min_size=1, max_size=4))
def test_formula_matches_the_gradients_support(layers):
    total = receptive_fields(layers)[-1].size
    if total + 8 > 64:  # the test's input must hold the whole field
        return
    assert measured_field(layers) == total


def test_three_3x3_convolutions_see_7x7_and_lenet():
    assert [f.size for f in receptive_fields([(3, 1)] * 3)] == [3, 5, 7]
    # LeNet-5: conv 5, pool 2/2, conv 5, pool 2/2
    fields = receptive_fields([(5, 1), (2, 2), (5, 1), (2, 2)])
    assert fields == [LayerField(5, 1), LayerField(6, 2), LayerField(14, 2), LayerField(16, 4)]


@pytest.mark.parametrize("bad", [[(0, 1)], [(3, 0)], [(3, 1, 0)], [(3,)], [(2.5, 1)], [(True, 1)]])
def test_bad_layers_are_refused_with_the_rule(bad):
    with pytest.raises(ValueError, match="layer 0"):
        receptive_fields(bad)
