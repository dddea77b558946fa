"""cnnkit.summarize against independent oracles: running the layers one by one, counting
parameters directly, and PyTorch's FlopCounterMode (2 FLOPs per MAC of conv and matmul).

Every shape-error explanation is checked by applying the fix it suggests: the code in the
message is evaluated and put into the model, and the layer then runs.
"""

from __future__ import annotations

import copy
import re

import pytest
import torch
import torchvision
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

import cnnkit
from cnnkit.models import lenet5
from cnnkit.summarize import LayerRow, ShapeMismatchError, Summary, summary

LENET_SHAPES = [(6, 28, 28), (6, 28, 28), (6, 14, 14), (16, 10, 10), (16, 10, 10), (16, 5, 5),
                (400,), (120,), (120,), (84,), (84,), (10,)]  # fmt: skip


def _flops(module: nn.Module, X: torch.Tensor) -> int:
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        module(X)
    return counter.get_total_flops()


def _code(fix: str, name: str) -> nn.Module:
    """Evaluate the ``nn.<name>(...)`` that a fix suggests (one level of nested parens)."""
    match = re.search(rf"nn\.{name}\((?:[^()]|\([^()]*\))*\)", fix)
    assert match, f"no nn.{name}(...) in the fix: {fix}"
    return eval(match.group(0), {"nn": nn})


def _error(model: nn.Module, input_shape: tuple[int, ...]) -> ShapeMismatchError:
    with pytest.raises(ShapeMismatchError) as info:
        summary(model, input_shape)
    return info.value


def _no_hooks(model: nn.Module) -> bool:
    return all(not m._forward_hooks and not m._forward_pre_hooks for m in model.modules())


# --- the table ----------------------------------------------------------------------------


def test_lazy_names_in_cnnkit():
    assert cnnkit.summary is summary and cnnkit.Summary is Summary
    assert cnnkit.ShapeMismatchError is ShapeMismatchError


def test_lenet5_rows_against_running_the_layers_one_by_one():
    model = lenet5()
    s = summary(model, (1, 28, 28))
    assert [r.output_shape for r in s.rows] == LENET_SHAPES
    X = torch.randn(2, 1, 28, 28)
    for row, layer in zip(s.rows, model, strict=True):  # the oracle: one layer at a time
        assert row.input_shape == tuple(X.shape[1:])
        assert row.layer == type(layer).__name__ and row.name == str(row.index)
        assert row.params == row.trainable == sum(p.numel() for p in layer.parameters())
        assert row.macs == _flops(layer, X[:1]) // 2  # FlopCounterMode: 2 FLOPs per MAC
        with torch.no_grad():
            X = layer(X)
        assert row.output_shape == tuple(X.shape[1:])
    assert s.total_params == s.trainable_params == 61_706 == sum(r.params for r in s.rows)
    assert s.total_macs == _flops(model, torch.zeros(1, 1, 28, 28)) // 2 == 416_520
    assert s.input_shape == (1, 28, 28) and s.output_shape == (10,)


def test_resnet18_totals_against_flop_counter():
    model = torchvision.models.resnet18(weights=None)
    s = summary(model, (3, 224, 224))
    assert s.total_params == sum(p.numel() for p in model.parameters()) == 11_689_512
    assert s.total_macs == _flops(model.eval(), torch.zeros(1, 3, 224, 224)) // 2
    assert 1.80e9 < s.total_macs < 1.83e9
    assert s.rows[0].name == "conv1" and s.rows[-1].name == "fc"
    assert s.output_shape == (1000,) and _no_hooks(model)


@pytest.mark.parametrize(
    "layer, input_shape",
    [
        (nn.Conv2d(4, 8, 3, stride=2, padding=1, groups=2), (4, 9, 9)),
        (nn.Conv2d(3, 6, (3, 5), dilation=(2, 1), bias=False), (3, 11, 10)),
        (nn.Conv1d(2, 5, 3), (2, 16)),
        (nn.ConvTranspose2d(4, 6, 3, stride=2, groups=2), (4, 5, 5)),
        (nn.Linear(7, 3), (5, 7)),  # applied at every one of 5 positions
    ],
)
def test_macs_of_single_layers_against_flop_counter(layer, input_shape):
    s = summary(layer, input_shape)
    assert s.total_macs == s.rows[0].macs == _flops(layer, torch.zeros(1, *input_shape)) // 2
    assert s.rows[0].name == "(model)"


def test_text_table_and_html():
    model = lenet5()
    model.add_module("x<&>", nn.Identity())
    s = summary(model, (1, 28, 28))
    text = str(s)
    assert repr(s) == text
    lines = text.splitlines()
    assert lines[0].split() == ["#", "name", "layer", "output", "shape", "params", "MACs"]
    assert lines[1].split() == ["0", "0", "Conv2d", "(6,", "28,", "28)", "156", "117,600"]
    assert lines[8].split()[2:] == ["Linear", "(120,)", "48,120", "48,000"]
    assert lines[-1] == ("total params: 61,706 (trainable 61,706) | MACs: 416,520 "
                         "| input (1, 28, 28) -> output (10,)")  # fmt: skip
    assert len({len(line) for line in lines[1:-1] if "," in line[-9:]}) == 1  # MACs aligned
    page = s._repr_html_()
    assert page.startswith("<table>") and page.rstrip().endswith("</table>")
    assert page.count("<tr>") == len(s.rows) + 2 and "<th>output shape</th>" in page
    assert "x&lt;&amp;&gt;" in page and "x<&>" not in page and "61,706" in page


def test_to_dict_and_rows():
    s = summary(lenet5(), (1, 28, 28))
    d = s.to_dict()
    assert d["total_params"] == 61_706 and d["total_macs"] == 416_520
    assert d["rows"][0] == {"index": 0, "name": "0", "layer": "Conv2d",
                            "input_shape": (1, 28, 28), "output_shape": (6, 28, 28),
                            "params": 156, "macs": 117_600, "trainable": 156}  # fmt: skip
    assert isinstance(s.rows[0], LayerRow)


def test_parameters_outside_leaves_frozen_and_shared_layers():
    class Scaled(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.scale = nn.Parameter(torch.ones(3))  # owned by a container, not a leaf
            self.fc = nn.Linear(4, 3)

        def forward(self, X: torch.Tensor) -> torch.Tensor:
            return self.fc(X) * self.scale

    model = Scaled()
    model.fc.bias.requires_grad_(False)
    s = summary(model, (4,))
    assert s.total_params == 15 + 3 and s.trainable_params == 12 + 3
    assert [(r.params, r.trainable) for r in s.rows] == [(15, 12)]

    shared = nn.Linear(5, 5)
    s = summary(nn.Sequential(shared, nn.ReLU(), shared), (5,))
    assert [r.name for r in s.rows] == ["0", "1", "0"]  # one row per call
    assert s.total_params == 30 and s.total_macs == 2 * 25


def test_lazy_layers_dtype_and_device():
    model = nn.Sequential(nn.LazyConv2d(6, 5), nn.Flatten(), nn.LazyLinear(10))
    s = summary(model, (3, 12, 12), device="cpu")
    assert s.total_params == (3 * 25 + 1) * 6 + (6 * 8 * 8 + 1) * 10
    embed = nn.Sequential(nn.Embedding(10, 4), nn.Flatten(), nn.Linear(12, 2))
    assert summary(embed, (3,), dtype=torch.long).output_shape == (2,)


@pytest.mark.parametrize("fails", [False, True])
def test_training_mode_buffers_and_hooks_are_restored(fails):
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.Dropout(), nn.ReLU(),
                          nn.MaxPool2d(2), nn.Flatten(), nn.Linear(4 * 3 * 3, 2))  # fmt: skip
    model.train()
    model[2].eval()
    model[1].running_mean.add_(0.5)
    before = copy.deepcopy(model.state_dict())
    input_shape = (1, 5, 5) if fails else (1, 8, 8)  # 5x5 -> 3x3 -> 1x1: Linear(36) fails
    if fails:
        assert _error(model, input_shape).layer_index == 6
    else:
        summary(model, input_shape)
    assert [m.training for m in model] == [True, True, False, True, True, True, True]
    assert model.training and _no_hooks(model)
    for key, value in model.state_dict().items():
        assert torch.equal(value, before[key]), key


# --- shape-error explanations ---------------------------------------------------------------


def test_linear_in_features_mismatch():
    model = lenet5()
    err = _error(model, (1, 32, 32))  # 32x32 images reach the classifier as 16x6x6 = 576
    assert isinstance(err, RuntimeError) and isinstance(err.__cause__, RuntimeError)
    assert (err.layer_index, err.layer_name, err.input_shape) == (7, "7", (576,))
    assert err.layer == repr(model[7]) and "in_features=400" in err.expected
    message = str(err)
    assert message.startswith("layer 7 '7' (Linear(in_features=400")
    assert "(N, 576)" in message and "nn.Linear(576, 120)" in message
    assert "nn.LazyLinear(120)" in message
    assert "(16, 6, 6)" in message and "input             (1, 32, 32)" in message
    assert [r.output_shape for r in err.trace][-2:] == [(16, 6, 6), (576,)]
    for name in ("Linear", "LazyLinear"):
        model[7] = _code(err.fix, name)
        assert summary(model, (1, 32, 32)).output_shape == (10,)


@pytest.mark.parametrize("input_shape, n", [((1, 28, 28), 400), ((1, 32, 32), 576)])
def test_missing_flatten(input_shape, n):
    model = lenet5()
    del model[6]
    err = _error(model, input_shape)
    message = str(err)
    side = input_shape[-1] // 4 - 2
    assert err.layer_index == 6 and f"(N, 16, {side}, {side})" in message
    assert "add nn.Flatten() before this layer" in err.fix
    assert f"16*{side}*{side} = {n}" in err.fix
    model.insert(6, nn.Flatten())
    if n != 400:
        model[7] = _code(err.fix, "Linear")
    assert summary(model, input_shape).output_shape == (10,)


def test_conv_channel_mismatch():
    model = lenet5(in_channels=3)
    err = _error(model, (1, 28, 28))
    assert err.layer_index == 0 and err.input_shape == (1, 28, 28)
    assert "expected 3 input channels (in_channels=3)" in err.expected
    assert "has 1 channel, shape (N, 1, 28, 28)" in err.expected
    assert "repeat the gray channel" in err.fix
    for name in ("Conv2d", "LazyConv2d"):
        model[0] = _code(err.fix, name)
        assert summary(model, (1, 28, 28)).output_shape == (10,)


def test_conv_missing_channel_or_batch_dimension():
    err = _error(lenet5(), (28, 28))  # PyTorch itself would run this as one unbatched image
    assert err.__cause__ is None and "expects 4-D input (N, C, H, W)" in err.expected
    assert "input_shape=(1, 28, 28)" in err.fix
    err = _error(lenet5(), (1, 1, 28, 28))
    assert "use (1, 28, 28)" in err.fix and "5-D" in err.expected
    model = nn.Sequential(nn.Flatten(), nn.Conv2d(1, 6, 5))
    err = _error(model, (1, 28, 28))
    assert err.layer_index == 1 and "(N, 784)" in str(err)
    model.insert(1, _code(err.fix, "Unflatten"))
    assert summary(model, (1, 28, 28)).output_shape == (6, 24, 24)


def test_kernel_larger_than_the_input():
    model = lenet5()
    err = _error(model, (1, 8, 8))  # 8x8 digits: the second conv gets 4x4 maps
    assert (err.layer_index, err.input_shape) == (3, (6, 4, 4))
    assert err.expected == ("Conv2d kernel 5x5 does not fit the padded input 4x4 "
                            "(input 4x4, padding 0)")  # fmt: skip
    assert "add padding=2" in err.fix and "at most 4x4" in err.fix
    assert "resize the images to 28x28" in err.fix
    assert [r.output_shape for r in err.trace] == [(6, 8, 8), (6, 8, 8), (6, 4, 4)]
    assert "(6, 4, 4)" in str(err) and "(1, 8, 8)" in str(err)
    model[3] = nn.Conv2d(6, 16, 5, padding=2)  # the conv now runs; the next layers complain
    assert _error(model, (1, 8, 8)).layer_index > 3
    model[3] = nn.Conv2d(6, 16, 4)
    assert _error(model, (1, 8, 8)).layer_index > 3
    assert summary(lenet5(), (1, 28, 28)).output_shape == (10,)


def test_pool_window_larger_than_the_input():
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.MaxPool2d(4), nn.Flatten())
    err = _error(model, (1, 5, 5))
    assert err.layer_index == 1 and "MaxPool2d kernel 4x4 does not fit" in err.expected
    assert "padding=" not in err.fix and "at most 3x3" in err.fix
    assert "resize the images to 6x6" in err.fix
    assert summary(model, (1, 6, 6)).output_shape == (4,)


def test_batchnorm_num_features_mismatch():
    model = nn.Sequential(nn.Conv2d(1, 6, 5), nn.BatchNorm2d(8), nn.ReLU())
    err = _error(model, (1, 28, 28))
    assert err.layer_index == 1 and "num_features=8" in err.expected
    assert "6 channels" in err.expected and "nn.LazyBatchNorm2d()" in err.fix
    model[1] = _code(err.fix, "BatchNorm2d")
    assert summary(model, (1, 28, 28)).output_shape == (6, 24, 24)


def test_other_errors_name_the_layer_and_keep_pytorch_message():
    model = nn.Sequential(nn.Conv2d(1, 6, 5), nn.MaxPool2d(4, padding=3))
    err = _error(model, (1, 28, 28))
    assert err.layer_index == 1 and "MaxPool2d" in err.layer and err.input_shape == (6, 24, 24)
    assert "pad should be at most half" in str(err) and len(err.trace) == 1

    class Reshapes(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv, self.fc = nn.Conv2d(1, 6, 5), nn.Linear(500, 10)

        def forward(self, X: torch.Tensor) -> torch.Tensor:
            return self.fc(self.conv(X).view(-1, 500))

    err = _error(Reshapes(), (1, 28, 28))
    assert err.layer_index == 1 and "Reshapes.forward()" in err.layer
    assert "after layer 0 'conv' (Conv2d)" in str(err) and "(N, 6, 24, 24)" in str(err)


def test_errors_that_are_not_about_shapes_pass_through():
    class Broken(nn.Module):
        def forward(self, X: torch.Tensor) -> torch.Tensor:
            raise KeyError("not a shape problem")

    with pytest.raises(KeyError):
        summary(nn.Sequential(nn.ReLU(), Broken()), (3,))


# --- property test ---------------------------------------------------------------------------

_layer = st.one_of(
    st.tuples(st.just("conv"), st.integers(1, 5), st.integers(0, 2), st.integers(1, 3),
              st.integers(1, 2)),
    st.tuples(st.sampled_from(["max", "avg"]), st.integers(1, 4), st.integers(0, 2),
              st.integers(1, 3), st.booleans()),
)  # fmt: skip


def _build(specs: list[tuple]) -> nn.Sequential:
    layers: list[nn.Module] = []
    for kind, k, p, s, extra in specs:
        if kind == "conv":
            layers.append(nn.Conv2d(2, 2, k, stride=s, padding=p, dilation=extra))
        else:
            pool = nn.MaxPool2d if kind == "max" else nn.AvgPool2d
            layers.append(pool(k, stride=s, padding=p, ceil_mode=extra))
    return nn.Sequential(*layers)


@settings(derandomize=True, database=None, max_examples=80)
@given(specs=st.lists(_layer, min_size=1, max_size=4), h=st.integers(1, 12),
       w=st.integers(1, 12))  # fmt: skip
def test_conv_stacks_match_running_the_model(specs, h, w):
    model = _build(specs)
    X = torch.zeros(1, 2, h, w)
    shapes: list[tuple[int, ...]] = []
    try:
        for layer in model:
            X = layer(X)
            shapes.append(tuple(X.shape[1:]))
    except RuntimeError:
        err = _error(model, (2, h, w))
        assert err.layer_index == len(shapes) and _no_hooks(model)
        return
    assert [r.output_shape for r in summary(model, (2, h, w)).rows] == shapes
