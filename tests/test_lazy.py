"""cnnkit.lazy_layers and every cnnkit helper that inspects a model, on lazy models.

The oracle is the eager twin: the textbook's (d2l) LeNet written with lazy layers must give
exactly what ``cnnkit.models.lenet5()`` (or the same ``nn.Sequential`` with explicit sizes)
gives: shapes, parameter counts, MACs, summary rows, parameter groups, training.
"""

from __future__ import annotations

import copy
from types import MappingProxyType

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

import cnnkit
from cnnkit.lazy_layers import (
    MaterializeError,
    UninitializedModelError,
    has_lazy,
    lazy_layers,
    materialize,
)
from cnnkit.models import lenet5, zoo
from cnnkit.summarize import ShapeMismatchError, summary
from cnnkit.train import evaluate, fit
from cnnkit.transfer import (
    count_parameters,
    freeze,
    param_groups,
    replace_head,
    trainable_parameters,
    unfreeze,
)
from cnnkit.widgets.activation_viewer import activation_viewer, feature_map_layers, layer_outputs

pytestmark = pytest.mark.usefixtures("one_torch_thread")

LAZY_NAMES = ["0", "3", "7", "9", "11"]


def lazy_lenet(c1: int = 6, c2: int = 16, h1: int = 120, h2: int = 84) -> nn.Sequential:
    """LeNet as d2l writes it: only the output sizes, the input sizes are inferred."""
    return nn.Sequential(
        nn.LazyConv2d(c1, kernel_size=5, padding=2), nn.Sigmoid(), nn.AvgPool2d(2, 2),
        nn.LazyConv2d(c2, kernel_size=5), nn.Sigmoid(), nn.AvgPool2d(2, 2), nn.Flatten(),
        nn.LazyLinear(h1), nn.Sigmoid(), nn.LazyLinear(h2), nn.Sigmoid(), nn.LazyLinear(10),
    )  # fmt: skip


def eager_lenet(c_i: int = 1, c1: int = 6, c2: int = 16, h1: int = 120, h2: int = 84,
                side: int = 28) -> nn.Sequential:  # fmt: skip
    s = (side // 2 - 4) // 2  # 28 -> 28 -> 14 -> 10 -> 5
    return nn.Sequential(
        nn.Conv2d(c_i, c1, kernel_size=5, padding=2), nn.Sigmoid(), nn.AvgPool2d(2, 2),
        nn.Conv2d(c1, c2, kernel_size=5), nn.Sigmoid(), nn.AvgPool2d(2, 2), nn.Flatten(),
        nn.Linear(c2 * s * s, h1), nn.Sigmoid(), nn.Linear(h1, h2), nn.Sigmoid(),
        nn.Linear(h2, 10),
    )  # fmt: skip


def lazy_lenet_bn() -> nn.Sequential:
    """d2l's LeNet with batch normalization, lazy throughout."""
    return nn.Sequential(
        nn.LazyConv2d(6, kernel_size=5, padding=2), nn.LazyBatchNorm2d(), nn.Sigmoid(),
        nn.AvgPool2d(2, 2), nn.LazyConv2d(16, kernel_size=5), nn.LazyBatchNorm2d(),
        nn.Sigmoid(), nn.AvgPool2d(2, 2), nn.Flatten(),
        nn.LazyLinear(120), nn.LazyBatchNorm1d(), nn.Sigmoid(),
        nn.LazyLinear(84), nn.LazyBatchNorm1d(), nn.Sigmoid(), nn.LazyLinear(10),
    )  # fmt: skip


def eager_lenet_bn() -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(1, 6, kernel_size=5, padding=2), nn.BatchNorm2d(6), nn.Sigmoid(),
        nn.AvgPool2d(2, 2), nn.Conv2d(6, 16, kernel_size=5), nn.BatchNorm2d(16),
        nn.Sigmoid(), nn.AvgPool2d(2, 2), nn.Flatten(),
        nn.Linear(400, 120), nn.BatchNorm1d(120), nn.Sigmoid(),
        nn.Linear(120, 84), nn.BatchNorm1d(84), nn.Sigmoid(), nn.Linear(84, 10),
    )  # fmt: skip


PAIRS = {"lenet": (lazy_lenet, lenet5), "lenet_bn": (lazy_lenet_bn, eager_lenet_bn)}


def shapes(model: nn.Module) -> dict[str, tuple[int, ...]]:
    return {k: tuple(v.shape) for k, v in model.state_dict().items()}


# --- materialize ----------------------------------------------------------------------------


def test_exported_from_cnnkit():
    assert cnnkit.materialize is materialize and "materialize" in cnnkit.__all__
    assert cnnkit.MaterializeError is MaterializeError
    assert issubclass(UninitializedModelError, ValueError)


@pytest.mark.parametrize("pair", PAIRS)
def test_materialize_gives_the_eager_twins_layers(pair):
    lazy, eager = PAIRS[pair][0](), PAIRS[pair][1]()
    assert has_lazy(lazy) and lazy_layers(lazy)[:2] == ["0", "1" if pair == "lenet_bn" else "3"]
    assert materialize(lazy, (1, 28, 28)) is lazy
    assert not has_lazy(lazy) and lazy_layers(lazy) == []
    assert shapes(lazy) == shapes(eager)
    assert [type(m) for m in lazy] == [type(m) for m in eager]  # LazyConv2d became Conv2d
    X = torch.randn(3, 1, 28, 28)
    assert lazy(X).shape == eager(X).shape == (3, 10)


def test_materialize_runs_once_in_eval_mode_without_gradients():
    model = lazy_lenet_bn()
    calls = []
    model[0].register_forward_pre_hook(
        lambda m, args: calls.append((tuple(args[0].shape), m.training, torch.is_grad_enabled()))
    )
    materialize(model, (1, 28, 28))
    # the pass is tried on a copy (so that a failure leaves the model alone), then run once
    assert calls == [((2, 1, 28, 28), False, False)] * 2
    bn = model[1]
    assert bn.num_batches_tracked.item() == 0  # eval mode: the statistics are untouched
    torch.testing.assert_close(bn.running_mean, torch.zeros(6))
    torch.testing.assert_close(bn.running_var, torch.ones(6))
    calls.clear()
    assert materialize(model, (1, 28, 28)) is model and calls == []  # nothing lazy: no pass
    assert materialize(lenet5(), (1, 28, 28)).training  # eager: untouched


@pytest.mark.parametrize("mode", ["train", "eval", "mixed"])
def test_materialize_keeps_every_training_flag(mode):
    model = lazy_lenet_bn()
    model.train(mode != "eval")
    if mode == "mixed":
        model[1].eval()
        model[10].eval()
    before = [m.training for m in model.modules()]
    materialize(model, (1, 28, 28))
    assert [m.training for m in model.modules()] == before


def test_materialize_draws_what_a_dry_run_draws():
    torch.manual_seed(0)
    ours = materialize(lazy_lenet_bn(), (1, 28, 28))
    after_ours = torch.rand(3)
    torch.manual_seed(0)
    dry = lazy_lenet_bn()
    dry(torch.zeros(2, 1, 28, 28))  # PyTorch's own recipe
    after_dry = torch.rand(3)
    for k, v in dry.state_dict().items():
        if k.endswith(("running_mean", "running_var", "num_batches_tracked")):
            continue  # the dry run trained the statistics; materialize does not
        torch.testing.assert_close(ours.state_dict()[k], v, rtol=0, atol=0)
    torch.testing.assert_close(after_ours, after_dry, rtol=0, atol=0)


def test_materialize_with_a_real_batch():
    model = lazy_lenet()
    materialize(model, torch.randn(5, 3, 28, 28))  # a batch X: 3 channels inferred
    assert model[0].in_channels == 3 and shapes(model) == shapes(eager_lenet(c_i=3))


@pytest.mark.parametrize("bad", ["1x28x28", (1, 0, 28), (1.0, 28, 28), (True, 28, 28), (), 784])
def test_materialize_refuses_what_is_not_a_shape(bad):
    with pytest.raises(ValueError, match=r"shape of ONE example .* such as \(1, 28, 28\)"):
        materialize(lazy_lenet(), bad)


@pytest.mark.parametrize("shape, says", [
    ((1, 8, 8), "Conv2d kernel 5x5 does not fit the padded input 4x4"),
    ((28, 28), "Images need a channel dimension: (1, 28, 28)"),
    ((1, 1, 28, 28), "leave it out: (1, 28, 28)"),
])  # fmt: skip
def test_wrong_shape_is_explained_and_leaves_the_model_lazy(shape, says):
    model = lazy_lenet()
    with pytest.raises(MaterializeError) as info:
        materialize(model, shape)
    err = info.value
    message = str(err)
    assert err.batch_shape == (2, *shape)
    assert f"zeros batch of shape {(2, *shape)}" in message and f"input_shape={shape}" in message
    assert "materialize(model, (1, 28, 28))" in message and says in message
    assert "the model is unchanged" in message and isinstance(err.__cause__, RuntimeError)
    assert err.lazy == lazy_layers(model) == LAZY_NAMES  # nothing was initialized
    if shape == (1, 8, 8):
        assert isinstance(err.diagnosis, ShapeMismatchError) and err.diagnosis.layer_name == "3"
    # the fix works on the very same model
    assert shapes(materialize(model, (1, 28, 28))) == shapes(lenet5())


def test_a_layer_that_forward_never_calls_is_reported():
    class TwoHeads(nn.Module):
        def __init__(self):
            super().__init__()
            self.body, self.aux = nn.LazyLinear(4), nn.LazyLinear(2)

        def forward(self, X):
            return self.body(X)

    model = TwoHeads()
    with pytest.raises(MaterializeError, match=r"never called the lazy layers 'aux' \(LazyLinear"):
        materialize(model, (3,))
    assert lazy_layers(model) == ["body", "aux"]


# --- summary ---------------------------------------------------------------------------------


@pytest.mark.parametrize("pair", PAIRS)
def test_summary_of_lazy_model_equals_eager(pair):
    lazy, eager = PAIRS[pair][0](), PAIRS[pair][1]()
    ours, oracle = summary(lazy, (1, 28, 28)), summary(eager, (1, 28, 28))
    assert ours.to_dict() == oracle.to_dict()  # rows: shapes, params, MACs, trainable
    assert str(ours) == str(oracle) and ours._repr_html_() == oracle._repr_html_()


@settings(max_examples=12, deadline=None)
@given(c_i=st.sampled_from([1, 3]), c1=st.integers(1, 8), c2=st.integers(1, 12),
       h1=st.integers(1, 40), h2=st.integers(1, 30), side=st.sampled_from([28, 32]))
def test_summary_counts_match_eager_over_widths(c_i, c1, c2, h1, h2, side):  # fmt: skip
    lazy, eager = lazy_lenet(c1, c2, h1, h2), eager_lenet(c_i, c1, c2, h1, h2, side)
    ours, oracle = summary(lazy, (c_i, side, side)), summary(eager, (c_i, side, side))
    assert ours.to_dict() == oracle.to_dict()
    assert count_parameters(lazy) == count_parameters(eager)


def test_summary_of_lazy_model_with_wrong_shape_explains_like_eager():
    lazy = lazy_lenet()
    with pytest.raises(ShapeMismatchError) as ours:
        summary(lazy, (1, 8, 8))
    with pytest.raises(ShapeMismatchError) as oracle:
        summary(lenet5(), (1, 8, 8))
    for attr in ("layer_index", "layer_name", "input_shape", "expected"):
        assert getattr(ours.value, attr) == getattr(oracle.value, attr)
    assert isinstance(ours.value.__cause__, RuntimeError)
    assert lazy_layers(lazy) == LAZY_NAMES  # still lazy: it can be summarized again
    assert summary(lazy, (1, 28, 28)).total_params == 61_706


# --- transfer --------------------------------------------------------------------------------


@pytest.mark.parametrize("helper", [count_parameters, trainable_parameters, freeze, unfreeze])
def test_helpers_without_a_shape_say_how_to_initialize(helper):
    model = lazy_lenet()
    with pytest.raises(UninitializedModelError) as info:
        helper(model)
    message = str(info.value)
    assert f"{helper.__name__} needs the shape of every parameter" in message
    assert "'0' (LazyConv2d), '3' (LazyConv2d), '7' (LazyLinear)" in message
    assert "cnnkit.materialize(model, (1, 28, 28))" in message and "input_shape=" in message
    assert lazy_layers(model) == LAZY_NAMES
    with pytest.raises(UninitializedModelError, match="param_groups needs"):
        param_groups(model, {"11": 1e-2}, default_lr=1e-3)


@pytest.mark.parametrize("pair", PAIRS)
def test_transfer_helpers_with_input_shape_equal_eager(pair):
    build_lazy, build_eager = PAIRS[pair]
    assert count_parameters(build_lazy(), input_shape=(1, 28, 28)) == count_parameters(
        build_eager())
    lazy, eager = build_lazy(), build_eager()
    head = str(len(eager) - 1)
    freeze(lazy, except_=head, input_shape=(1, 28, 28))
    freeze(eager, except_=head)
    assert [p.requires_grad for p in lazy.parameters()] == [
        p.requires_grad for p in eager.parameters()]
    assert count_parameters(lazy) == count_parameters(eager) == (850, count_parameters(eager)[1])
    assert [p.shape for p in trainable_parameters(lazy)] == [
        p.shape for p in trainable_parameters(eager)]
    unfreeze(lazy)
    groups = param_groups(build_lazy(), {"0": 0.1, head: 0.2}, default_lr=0.01,
                          input_shape=(1, 28, 28))  # fmt: skip
    oracle = param_groups(build_eager(), {"0": 0.1, head: 0.2}, default_lr=0.01)
    assert [(g["name"], g["lr"], [p.shape for p in g["params"]]) for g in groups] == [
        (g["name"], g["lr"], [p.shape for p in g["params"]]) for g in oracle]
    assert count_parameters(unfreeze(build_lazy(), input_shape=(1, 28, 28))).trainable == (
        count_parameters(build_eager()).total)


def test_replace_head_of_a_lazy_model_stays_lazy():
    model = replace_head(lazy_lenet(), 5)
    assert isinstance(model[11], nn.LazyLinear) and model[11].out_features == 5
    oracle = replace_head(lenet5(), 5)
    assert count_parameters(model, input_shape=(1, 28, 28)) == count_parameters(oracle)


# --- training --------------------------------------------------------------------------------


def _loader(n: int = 48, seed: int = 0) -> DataLoader:
    g = torch.Generator().manual_seed(seed)
    X, y = torch.randn(n, 1, 28, 28, generator=g), torch.randint(0, 10, (n,), generator=g)
    return DataLoader(TensorDataset(X, y), batch_size=16, shuffle=True)


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_fit_initializes_lazy_layers_before_the_optimizer(optimizer):
    """fit on the lazy BN LeNet == a hand loop that does a dry run, then builds the optimizer."""
    loader = _loader()
    torch.manual_seed(1)
    model = lazy_lenet_bn()
    history = fit(model, loader, num_epochs=2, lr=0.05, optimizer=optimizer, device="cpu",
                  progress=False)  # fmt: skip
    torch.manual_seed(1)
    twin = lazy_lenet_bn()
    opt, losses = None, []
    for _ in range(2):
        total, n = 0.0, 0
        for X, y in loader:  # the oracle: PyTorch's documented recipe
            if opt is None:
                twin.eval()
                with torch.no_grad():
                    twin(torch.zeros_like(X))
                twin.train()
                opt = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam}[optimizer](
                    twin.parameters(), lr=0.05)
            twin.train()
            l = nn.functional.cross_entropy(twin(X), y)
            opt.zero_grad()
            l.backward()
            opt.step()
            total, n = total + l.item() * len(y), n + len(y)
        losses.append(total / n)
    assert history.train_loss == pytest.approx(losses, rel=1e-5)
    for k, v in twin.state_dict().items():
        torch.testing.assert_close(model.state_dict()[k], v)
    assert model.training


def test_fit_with_a_lazy_model_and_wrong_data_is_explained():
    loader = DataLoader(TensorDataset(torch.randn(8, 1, 8, 8), torch.zeros(8, dtype=torch.long)),
                        batch_size=4)  # fmt: skip
    model = lazy_lenet()
    with pytest.raises(MaterializeError, match=r"example batch of shape \(4, 1, 8, 8\)"):
        fit(model, loader, num_epochs=1, lr=0.1, device="cpu", progress=False)
    assert lazy_layers(model) == LAZY_NAMES


def test_evaluate_a_lazy_model():
    loader = _loader(seed=2)
    torch.manual_seed(0)
    model = lazy_lenet_bn()
    loss, acc = evaluate(model, loader, device="cpu")
    assert not has_lazy(model) and model.training
    X, y = loader.dataset.tensors
    with torch.no_grad():  # the oracle: the now initialized model on every example at once
        y_hat = model.eval()(X)
    assert acc == pytest.approx((y_hat.argmax(1) == y).float().mean().item())
    assert loss == pytest.approx(nn.functional.cross_entropy(y_hat, y).item(), rel=1e-5)


# --- model zoo and widgets -------------------------------------------------------------------


@pytest.fixture
def lazy_zoo(monkeypatch):
    arch = zoo.Architecture(None, lazy_lenet, None, 1998, "LeNet, the textbook's lazy way")
    monkeypatch.setattr(zoo, "ARCHITECTURES",
                        MappingProxyType({**zoo.ARCHITECTURES, "lazy LeNet": arch}))  # fmt: skip
    zoo._row.cache_clear()
    yield
    zoo._row.cache_clear()


@pytest.mark.usefixtures("lazy_zoo")
def test_compare_counts_a_lazy_architecture():
    ours, oracle = zoo.compare(["lazy LeNet", "LeNet-5"])
    for key in ("params", "macs", "input_shape", "output_shape", "layers", "error"):
        assert ours[key] == oracle[key]
    (big,) = zoo.compare("lazy LeNet", size=32)  # a lazy classifier adapts to 16x6x6 = 576
    assert big["error"] is None and big["params"] == sum(
        p.numel() for p in eager_lenet(side=32).parameters())
    (small,) = zoo.compare("lazy LeNet", size=8)  # too small: no count, and why
    assert small["params"] is None and small["macs"] is None
    assert "cannot take its input" in small["error"]


def test_activation_viewer_on_a_lazy_lenet():
    g = torch.Generator().manual_seed(0)
    dataset = TensorDataset(torch.rand(10, 1, 28, 28, generator=g), torch.arange(10))
    model = lazy_lenet()
    assert feature_map_layers(model) == feature_map_layers(lenet5())
    w = activation_viewer(model, dataset, indices=[3, 4])
    assert not has_lazy(model)
    assert list(w.controls["layer"].options) == feature_map_layers(lenet5())
    X, y = dataset[3]
    logits = model(X.unsqueeze(0))[0].detach()
    assert w.state["prediction"] == int(logits.argmax()) and w.state["shape"] == (6, 28, 28)
    eager_shapes = [Y.shape for Y in layer_outputs(lenet5(), X.unsqueeze(0))]
    assert [Y.shape for Y in layer_outputs(lazy_lenet(), X.unsqueeze(0))] == eager_shapes


def test_layer_outputs_with_a_wrong_image_leaves_the_model_lazy():
    model = lazy_lenet()
    with pytest.raises(MaterializeError):
        layer_outputs(model, torch.zeros(1, 1, 8, 8))
    assert lazy_layers(copy.deepcopy(model)) == LAZY_NAMES


def test_fit_builds_its_optimizer_over_initialized_parameters(monkeypatch):
    from cnnkit import train

    seen = []

    def spy(params, lr):
        params = list(params)
        seen.append([type(p).__name__ for p in params])
        return torch.optim.SGD(params, lr=lr)

    monkeypatch.setitem(train._OPTIMIZERS, "sgd", spy)
    fit(lazy_lenet(), _loader(n=16), num_epochs=2, lr=0.1, device="cpu", progress=False)
    assert seen == [["Parameter"] * 10]  # built once, after the first batch initialized them


def test_a_failed_pass_leaves_lazy_batch_norm_uninitialized():
    model = lazy_lenet_bn()
    before = lazy_layers(model)
    with pytest.raises(MaterializeError, match="the model is unchanged"):
        materialize(model, (1, 8, 8))
    assert lazy_layers(model) == before and "1" in before  # the LazyBatchNorm2d too
    assert shapes(materialize(model, (1, 28, 28))) == shapes(eager_lenet_bn())
