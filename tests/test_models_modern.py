"""The modern CNNs of cnnkit.models against torchvision's builders (the oracle) and real digits.

Full-size models are built on the ``meta`` device (shapes only, no memory, no arithmetic);
the few real forward passes use 64x64 images.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch
import torchvision.models as tvm
from hypothesis import given
from hypothesis import strategies as st
from torch import nn
from torch.nn import functional as F
from torchvision.models.efficientnet import MBConvConfig

from cnnkit import summary
from cnnkit.data import load_dataset
from cnnkit.models import (
    ARCHITECTURES,
    DenseBlock,
    Inception,
    MBConv,
    Residual,
    SqueezeExcitation,
    alexnet,
    alexnet_small,
    compare,
    densenet121,
    densenet121_small,
    efficientnet_b0,
    efficientnet_b0_small,
    efficientnet_scaled,
    googlenet,
    googlenet_small,
    lenet5,
    nin,
    nin_block,
    nin_small,
    resnet18,
    resnet18_small,
    transition_block,
    vgg11,
    vgg11_small,
    vgg_block,
    zoo,
)
from cnnkit.models.efficientnet import _round_filters, _round_repeats

pytestmark = pytest.mark.usefixtures("one_torch_thread")

# torchvision's GoogLeNet counts its two auxiliary classifiers unless told not to.
TV_KWARGS = {"googlenet": {"aux_logits": False, "init_weights": False}}
FULL = {"alexnet": alexnet, "vgg11": vgg11, "googlenet": googlenet, "resnet18": resnet18,
        "densenet121": densenet121, "efficientnet_b0": efficientnet_b0}  # fmt: skip
SMALL = [alexnet_small, vgg11_small, nin_small, googlenet_small, resnet18_small,
         densenet121_small, efficientnet_b0_small]  # fmt: skip
BUILDERS = [*FULL.values(), nin, *SMALL]


def _count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def _meta(build, *args, **kwargs) -> nn.Module:
    with torch.device("meta"):
        return build(*args, **kwargs)


def _torchvision(name: str, device: str = "meta") -> nn.Module:
    with torch.device(device):
        return getattr(tvm, name)(weights=None, **TV_KWARGS.get(name, {}))


@pytest.mark.parametrize("tv_name", FULL)
def test_full_model_matches_torchvision(tv_name):
    model, oracle = _meta(FULL[tv_name]), _torchvision(tv_name)
    # same parameters, tensor by tensor, in the same order (so weights can be copied over)
    assert [p.shape for p in model.parameters()] == [p.shape for p in oracle.parameters()]
    ours, theirs = summary(model, (3, 224, 224)), summary(oracle, (3, 224, 224))
    assert ours.total_params == theirs.total_params
    assert ours.total_macs == theirs.total_macs
    assert model(torch.empty(2, 3, 224, 224, device="meta")).shape == (2, 1000)


@pytest.mark.parametrize("tv_name", ["googlenet", "resnet18", "densenet121", "efficientnet_b0"])
def test_full_model_computes_what_torchvision_computes(tv_name):
    torch.manual_seed(0)
    oracle, model = _torchvision(tv_name, "cpu").eval(), FULL[tv_name]().eval()
    state = oracle.state_dict()  # buffers too: BatchNorm running statistics
    assert len(state) == len(model.state_dict())
    model.load_state_dict(dict(zip(model.state_dict(), state.values(), strict=True)))
    X = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(model(X), oracle(X))


@pytest.mark.parametrize("name, width_mult, depth_mult",
                         [("efficientnet_b0", 1.0, 1.0), ("efficientnet_b1", 1.0, 1.1),
                          ("efficientnet_b2", 1.1, 1.2), ("efficientnet_b3", 1.2, 1.4),
                          ("efficientnet_b4", 1.4, 1.8)])  # fmt: skip
def test_compound_scaling_matches_torchvision(name, width_mult, depth_mult):
    model, oracle = _meta(efficientnet_scaled, width_mult, depth_mult), _torchvision(name)
    assert [p.shape for p in model.parameters()] == [p.shape for p in oracle.parameters()]


@given(channels=st.integers(1, 2048), mult=st.floats(0.1, 4.0), repeats=st.integers(1, 16))
def test_rounding_matches_torchvision(channels, mult, repeats):
    assert _round_filters(channels, mult) == MBConvConfig.adjust_channels(channels, mult)
    assert _round_repeats(repeats, mult) == MBConvConfig.adjust_depth(repeats, mult)
    assert _round_filters(channels, mult) % 8 == 0


def test_nin_is_all_convolutions():
    model = _meta(nin)
    assert not any(isinstance(m, nn.Linear) for m in model.modules())
    report = summary(model, (3, 224, 224))
    assert report.total_params == _count(model) == 7_439_608
    assert report.output_shape == (1000,)


# ---------------------------------------------------------------- small variants


@pytest.fixture(scope="module")
def digits() -> tuple[torch.Tensor, torch.Tensor]:
    """A fixed batch of 64 real MNIST digits, ``X: (64, 1, 28, 28)``, ``y: (64,)``."""
    data = load_dataset("mnist-5k", subset=256)
    X, y = zip(*(data[i] for i in range(64)), strict=True)
    return torch.stack(X), torch.stack(y)


@pytest.mark.parametrize("build", SMALL, ids=lambda f: f.__name__)
def test_small_variant_shapes_and_size(build):
    model = build(num_classes=7, in_channels=3)
    assert model(torch.randn(2, 3, 28, 28)).shape == (2, 7)
    report = summary(build(), (1, 28, 28))
    assert report.output_shape == (10,)
    assert report.total_params < 1_000_000 and report.total_macs < 10_000_000  # trains on CPU


@pytest.mark.parametrize("build", SMALL, ids=lambda f: f.__name__)
def test_small_variant_learns_a_fixed_batch(build, digits):
    """Adam lowers the loss by 10% within a few steps (NiN, without BatchNorm, needs ~20)."""
    X, y = digits
    torch.manual_seed(0)
    model = build()
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    losses: list[float] = []
    for _ in range(40):  # stops as soon as the loss is down 10%: most need 1 to 10 steps
        loss = F.cross_entropy(model(X), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        if losses[-1] < 0.9 * losses[0]:
            break
    assert losses[-1] < 0.9 * losses[0], f"losses did not fall: {losses}"
    model.eval()
    with torch.no_grad():
        assert torch.equal(model(X), model(X)), "eval-mode forward is not deterministic"


# ---------------------------------------------------------------- building blocks


def test_vgg_and_nin_blocks_shapes():
    X = torch.randn(2, 3, 16, 16)
    assert vgg_block(2, 3, 8)(X).shape == (2, 8, 8, 8)
    assert sum(isinstance(m, nn.Conv2d) for m in vgg_block(3, 3, 8)) == 3
    assert nin_block(3, 8, kernel_size=5, stride=2, padding=1)(X).shape == (2, 8, 7, 7)


@pytest.mark.parametrize("k_3", [3, 5])
def test_inception_concatenates_its_branches(k_3):
    block = Inception(16, 4, (4, 8), (2, 6), 5, k_3=k_3)
    assert block.out_channels == 4 + 8 + 6 + 5
    assert block(torch.randn(2, 16, 7, 7)).shape == (2, 23, 7, 7)
    assert block.branch3[1][0].kernel_size == (k_3, k_3)
    assert Inception(16, 4, (4, 8), (2, 6), 5).branch3[1][0].kernel_size == (5, 5)  # the paper


@pytest.mark.parametrize("c_i, c_o, stride, projection", [(8, 8, 1, False), (8, 16, 1, True),
                                                           (8, 8, 2, True)])  # fmt: skip
def test_residual_adds_the_input(c_i, c_o, stride, projection):
    block = Residual(c_i, c_o, stride=stride).eval()
    assert isinstance(block.shortcut, nn.Identity) != projection
    X = torch.randn(2, c_i, 9, 9)
    assert block(X).shape == (2, c_o, (9 - 1) // stride + 1, (9 - 1) // stride + 1)
    if not projection:  # with f(X) = 0 (last BatchNorm scaled by 0), Y = relu(X)
        nn.init.zeros_(block.bn2.weight)
        torch.testing.assert_close(block(X), F.relu(X))


def test_dense_block_keeps_its_input_and_grows():
    block = DenseBlock(3, 10, growth_rate=4)
    X = torch.randn(2, 10, 6, 6)
    Y = block(X)
    assert block.out_channels == 10 + 3 * 4 and Y.shape == (2, 22, 6, 6)
    assert torch.equal(Y[:, :10], X)
    assert transition_block(22, 11)(Y).shape == (2, 11, 3, 3)


def test_mbconv_shortcut_only_when_shapes_match():
    assert MBConv(16, 16, expand_ratio=6, kernel_size=3).use_shortcut
    assert not MBConv(16, 24, expand_ratio=6, kernel_size=3).use_shortcut
    assert not MBConv(16, 16, expand_ratio=6, kernel_size=3, stride=2).use_shortcut
    assert "expand" not in MBConv(16, 16, expand_ratio=1, kernel_size=3).block
    assert MBConv(16, 24, expand_ratio=6, kernel_size=5, stride=2)(
        torch.randn(2, 16, 9, 9)).shape == (2, 24, 5, 5)  # fmt: skip


def test_mbconv_stochastic_depth_drops_whole_examples():
    torch.manual_seed(0)
    block = MBConv(8, 8, expand_ratio=4, kernel_size=3, stochastic_depth_prob=0.5)
    X = torch.randn(64, 8, 5, 5)
    dropped = (block(X) == X).flatten(1).all(dim=1)  # branch dropped: the block is the identity
    assert 0 < dropped.sum() < 64
    block.eval()  # no dropping: Y = f(X) + X, the same every time
    with torch.no_grad():
        torch.testing.assert_close(block(X), block.block(X) + X)


def test_squeeze_excitation_scales_channels():
    se = SqueezeExcitation(6, 2)
    X = torch.randn(2, 6, 4, 4)
    ratio = se(X) / X  # one gate per example and channel, in (0, 1)
    assert ratio.shape == (2, 6, 4, 4)
    torch.testing.assert_close(ratio, ratio[:, :, :1, :1].expand_as(ratio))
    assert ((ratio > 0) & (ratio < 1)).all()


# ---------------------------------------------------------------- argument checks


@pytest.mark.parametrize("build", BUILDERS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("kwargs, word", [({"num_classes": 0}, "num_classes"),
                                          ({"in_channels": 1.5}, "in_channels"),
                                          ({"num_classes": True}, "num_classes")])  # fmt: skip
def test_builders_reject_bad_arguments(build, kwargs, word):
    with pytest.raises(ValueError, match=word):
        build(**kwargs)


@pytest.mark.parametrize("build", BUILDERS, ids=lambda f: f.__name__)
def test_builder_options_are_keyword_only(build):
    with pytest.raises(TypeError):
        build(10)


@pytest.mark.parametrize("kwargs, word", [
    ({"width_mult": 0}, "width_mult"),
    ({"depth_mult": -1.0}, "depth_mult"),
    ({"stochastic_depth_prob": 1.0}, "stochastic"),
])  # fmt: skip
def test_efficientnet_scaled_rejects_bad_arguments(kwargs, word):
    with pytest.raises(ValueError, match=word):
        efficientnet_scaled(**{"width_mult": 1.0, "depth_mult": 1.0, **kwargs})


# ---------------------------------------------------------------- the zoo


def test_architectures_registry():
    assert list(ARCHITECTURES) == ["LeNet-5", "AlexNet", "VGG-11", "NiN", "GoogLeNet",
                                   "ResNet-18", "DenseNet-121", "EfficientNet-B0"]  # fmt: skip
    assert ARCHITECTURES["LeNet-5"].small is lenet5 and ARCHITECTURES["LeNet-5"].full is None
    years = [a.year for a in ARCHITECTURES.values()]
    assert all(1998 <= y <= 2019 for y in years)
    for arch in ARCHITECTURES.values():
        if arch.torchvision is not None:
            assert FULL[arch.torchvision] is arch.full


def test_compare_small_rows():
    rows = compare(list(ARCHITECTURES))
    assert [r["name"] for r in rows] == list(ARCHITECTURES)
    for row, arch in zip(rows, ARCHITECTURES.values(), strict=True):
        assert row["input_shape"] == (1, 28, 28) and row["output_shape"] == (10,)
        assert row["params"] == _count(arch.small()) and row["macs"] > 0
    assert rows[0]["params"] == 61_706


def test_compare_imagenet_rows_match_torchvision():
    names = ["ResNet-18", "AlexNet", "EfficientNet-B0", "GoogLeNet", "VGG-11", "DenseNet-121"]
    for row in compare(names, variant="imagenet"):
        assert row["input_shape"] == (3, 224, 224) and row["output_shape"] == (1000,)
        assert row["params"] == _count(_torchvision(row["torchvision"]))
    assert compare("DenseNet-121", variant="imagenet")[0]["layers"] == 121


def test_compare_is_cached_and_returns_copies():
    first = compare(["ResNet-18"])
    hits = zoo._row.cache_info().hits
    first[0]["params"] = -1
    assert compare(["ResNet-18"]) == [{**first[0], "params": _count(resnet18_small())}]
    assert zoo._row.cache_info().hits == hits + 1


@pytest.mark.parametrize("names, variant, match", [
    (["ResNet-18", "ResNet-50"], "small", "'ResNet-50' is unknown; choose from LeNet-5, AlexNet"),
    (["LeNet-5"], "imagenet", "'LeNet-5' has no 'imagenet' variant; choose from AlexNet"),
    (["AlexNet"], "cifar", "variant must be"),
])  # fmt: skip
def test_compare_rejects_unknown_names(names, variant, match):
    with pytest.raises(ValueError, match=match):
        compare(names, variant=variant)


def test_import_stays_light():
    code = "import sys, cnnkit.models; assert 'torchvision' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("size", [0, -3, 2.5, True])
def test_compare_rejects_bad_sizes(size):
    with pytest.raises(ValueError, match="size must be a positive int"):
        compare(["ResNet-18"], size=size)


def test_compare_at_another_size_flags_fixed_size_classifiers():
    lenet, resnet = compare(["LeNet-5", "ResNet-18"], size=56)
    assert lenet["macs"] is None and lenet["output_shape"] is None and lenet["error"]
    assert lenet["params"] == 61_706  # parameters do not depend on the input
    assert resnet["error"] is None and resnet["input_shape"] == (1, 56, 56)
    assert resnet["macs"] > compare(["ResNet-18"])[0]["macs"]
