"""cnnkit.widgets.activation_viewer: feature maps against the model's own layers, no browser."""

from __future__ import annotations

import statistics

import ipywidgets as widgets
import pytest
import torch
from torch import nn
from torch.utils.data import TensorDataset

from cnnkit.models import lenet5
from cnnkit.widgets._base import array_png
from cnnkit.widgets.activation_viewer import (
    activation_viewer,
    feature_map_grid,
    feature_map_layers,
    layer_outputs,
    predict,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread")

LENET_LAYERS = ["conv1", "sigmoid1", "avgpool1", "conv2", "sigmoid2", "avgpool2"]


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return lenet5()


@pytest.fixture(scope="module")
def dataset():
    g = torch.Generator().manual_seed(0)
    X = torch.rand(30, 1, 28, 28, generator=g)
    y = torch.arange(30) % 10
    return TensorDataset(X, y)


def test_layer_names_follow_the_convolutions():
    assert feature_map_layers(lenet5()) == LENET_LAYERS
    relu = ["conv1", "relu1", "maxpool1", "conv2", "relu2", "maxpool2"]
    assert feature_map_layers(lenet5(activation="relu", pool="max")) == relu


def test_layer_outputs_equal_running_the_first_layers(model, dataset):
    X = dataset.tensors[0][:4]
    outputs = layer_outputs(model, X)
    assert len(outputs) == len(model)
    for i, Y in enumerate(outputs):
        torch.testing.assert_close(Y, model[: i + 1](X))  # oracle: the Sequential's prefix
    torch.testing.assert_close(outputs[-1], model(X))


def test_layer_outputs_use_eval_mode_and_restore_training():
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Dropout2d(0.5), nn.Flatten())
    model.train()
    X = torch.randn(2, 1, 5, 5)
    outputs = layer_outputs(model, X)
    torch.testing.assert_close(outputs[1], outputs[0])  # dropout is off in eval mode
    assert model.training and all(m.training for m in model)


def test_predict_is_argmax_of_softmax():
    logits = torch.tensor([0.5, 2.0, -1.0])
    y_hat, p = predict(logits)
    assert y_hat == 1
    assert p == pytest.approx(float(torch.softmax(logits, 0)[1]))


def test_grid_normalizes_each_map_and_places_it():
    maps = torch.stack([torch.arange(4.0).reshape(2, 2), torch.full((2, 2), 5.0)])
    grid = feature_map_grid(maps, size=2, gap=1)  # f = 1: maps keep their size
    assert grid.shape == (1 + 3, 1 + 2 * 3)
    torch.testing.assert_close(grid[1:3, 1:3], torch.tensor([[0, 1 / 3], [2 / 3, 1]]))
    torch.testing.assert_close(grid[1:3, 4:6], torch.zeros(2, 2))  # a constant map is black
    assert grid[0].eq(1).all() and grid[:, 3].eq(1).all()  # white gaps
    shared = feature_map_grid(maps, normalize="layer", size=2, gap=1)
    torch.testing.assert_close(shared[1:3, 4:6], torch.ones(2, 2))  # 5 is the layer's max
    torch.testing.assert_close(shared[1:3, 1:3], maps[0] / 5)
    with pytest.raises(ValueError, match="normalize"):
        feature_map_grid(maps, normalize="global")


def test_grid_enlarges_small_maps_and_wraps_rows():
    grid = feature_map_grid(torch.randn(16, 5, 5), size=84, gap=3, columns=8)
    f = 84 // 5
    assert grid.shape == (2 * (5 * f + 3) + 3, 8 * (5 * f + 3) + 3)


def test_viewer_shows_the_models_feature_maps(model, dataset):
    w = activation_viewer(model, dataset, indices=[3, 7])
    assert list(w.controls) == ["index", "layer", "normalize"]
    assert list(w.controls["layer"].options) == LENET_LAYERS
    X, y = dataset[7]
    w.controls["index"].value = 7
    images = [c for c in _leaves(w) if isinstance(c, widgets.Image)]
    for i, name in enumerate(LENET_LAYERS):
        w.controls["layer"].value = name
        oracle = model[: i + 1](X.unsqueeze(0))[0].detach()  # (C, H, W)
        assert w.state["layer"] == name and w.state["shape"] == tuple(oracle.shape)
        assert images[1].value == array_png(feature_map_grid(oracle))
    assert w.state["shape"] == (16, 5, 5)


def test_viewer_prediction_is_the_models_argmax(model, dataset):
    w = activation_viewer(model, dataset, indices=[0, 1, 2])
    for i in (0, 1, 2):
        w.controls["index"].value = i
        X, y = dataset[i]
        logits = model(X.unsqueeze(0))[0].detach()
        assert w.state["index"] == i and w.state["label"] == int(y)
        assert w.state["prediction"] == int(logits.argmax())
        assert w.state["probability"] == pytest.approx(float(torch.softmax(logits, 0).max()))
        assert w.state["correct"] == (w.state["prediction"] == int(y))


def test_controls_change_state_and_images(model, dataset):
    w = activation_viewer(model, dataset, indices=[0, 1], class_names=list("abcdefghij"))
    image = [c for c in _leaves(w) if isinstance(c, widgets.Image)][1]
    before, renders = image.value, w.renders
    w.controls["normalize"].value = "layer"
    assert image.value != before and w.renders == renders + 1
    w.controls["index"].value = 1
    assert w.state["label_name"] == "b" and w.state["prediction_name"] in "abcdefghij"


def test_model_runs_once_per_image_not_per_layer_switch(model, dataset):
    calls = []
    handle = model[0].register_forward_hook(lambda *args: calls.append(1))
    try:
        w = activation_viewer(model, dataset, indices=[4, 5])
        for name in LENET_LAYERS * 2:
            w.controls["layer"].value = name
        w.controls["normalize"].value = "layer"
        assert len(calls) == 1
        w.controls["index"].value = 5
        w.controls["layer"].value = "conv1"
        w.controls["index"].value = 4  # cached: no new forward pass
        assert len(calls) == 2 and w.state["forward_passes"] == 2
    finally:
        handle.remove()


def test_default_indices_are_one_per_class(model, dataset):
    w = activation_viewer(model, dataset)
    assert [v for _, v in w.controls["index"].options] == list(range(10))


def test_viewer_rejects_models_it_cannot_walk(dataset):
    with pytest.raises(TypeError, match="Sequential"):
        activation_viewer(nn.Module(), dataset)
    with pytest.raises(ValueError, match="convolution"):
        activation_viewer(nn.Sequential(nn.Flatten(), nn.Linear(784, 10)), dataset)


def test_layer_switch_redraws_fast(model, dataset):
    w = activation_viewer(model, dataset, indices=[0])
    times = []
    for name in LENET_LAYERS * 3:
        w.controls["layer"].value = name
        times.append(w.last_render_s)
    assert statistics.median(times) < 0.1, times


def _leaves(widget):
    children = getattr(widget, "children", ())
    if not children:
        return [widget]
    return [leaf for child in children for leaf in _leaves(child)]
