"""cnnkit.train: fit/evaluate against a hand-written PyTorch loop, and a real learning test."""

from __future__ import annotations

import copy
import math

import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from cnnkit.data import dataloaders, load_dataset
from cnnkit.models import lenet5
from cnnkit.plot import LivePlot
from cnnkit.train import History, evaluate, fit, set_seed, try_gpu


@pytest.fixture(scope="module")
def small_mnist():
    """512 real training digits and 256 test digits, in fixed order."""
    train = load_dataset("mnist-5k", train=True, subset=512)
    test = load_dataset("mnist-5k", train=False, subset=256)
    return (DataLoader(train, batch_size=64, shuffle=False),
            DataLoader(test, batch_size=128, shuffle=False))  # fmt: skip


def _hand_written_loop(model, loader, num_epochs, lr):
    """The loop a student writes from the lecture, the oracle for `fit`."""
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    loss = nn.CrossEntropyLoss()
    losses = []
    for _ in range(num_epochs):
        model.train()
        total, n = 0.0, 0
        for X, y in loader:
            l = loss(model(X), y)
            optimizer.zero_grad()
            l.backward()
            optimizer.step()
            total += l.item() * len(y)
            n += len(y)
        losses.append(total / n)
    return losses


def test_fit_trains_exactly_like_a_hand_written_loop(small_mnist):
    train_loader, _ = small_mnist
    set_seed(0)
    model = lenet5(activation="relu", pool="max")
    reference = copy.deepcopy(model)
    history = fit(model, train_loader, num_epochs=2, lr=0.1, device="cpu", progress=False)
    expected_losses = _hand_written_loop(reference, train_loader, num_epochs=2, lr=0.1)
    for p, q in zip(model.parameters(), reference.parameters(), strict=True):
        torch.testing.assert_close(p, q)
    torch.testing.assert_close(history.train_loss, expected_losses, rtol=1e-5, atol=1e-6)


def test_history_records_every_epoch(small_mnist):
    train_loader, test_loader = small_mnist
    set_seed(0)
    model = lenet5(activation="relu", pool="max")
    history = fit(model, train_loader, test_loader, num_epochs=3, lr=2e-3, optimizer="adam",
                  device="cpu", progress=False)  # fmt: skip
    assert isinstance(history, History) and history.num_epochs == 3
    for name in ("train_loss", "train_acc", "test_loss", "test_acc", "examples_per_sec"):
        assert len(getattr(history, name)) == 3, name
    assert all(0.0 <= a <= 1.0 for a in history.train_acc + history.test_acc)
    assert all(rate > 0 for rate in history.examples_per_sec)
    assert history.train_loss[-1] < history.train_loss[0]
    # The last recorded test metrics are those of the final model.
    loss, acc = evaluate(model, test_loader)
    assert acc == pytest.approx(history.test_acc[-1])
    assert loss == pytest.approx(history.test_loss[-1], rel=1e-5)
    assert history.device == "cpu"
    assert "3 epochs on cpu" in str(history)


def test_history_without_test_set_has_nan(small_mnist):
    train_loader, _ = small_mnist
    history = fit(lenet5(), train_loader, num_epochs=1, lr=0.1, device="cpu", progress=False)
    assert math.isnan(history.test_acc[0]) and math.isnan(history.test_loss[0])


def test_evaluate_exact_accuracy_and_restores_mode():
    X = torch.zeros(10, 3)
    y = torch.tensor([0, 0, 0, 1, 2, 0, 1, 1, 0, 2])
    model = nn.Sequential(nn.Linear(3, 3), nn.Dropout(0.5))
    with torch.no_grad():
        model[0].weight.zero_()
        model[0].bias.copy_(torch.tensor([5.0, 0.0, 0.0]))  # always predicts class 0
    model.train()
    loss, acc = evaluate(model, DataLoader(TensorDataset(X, y), batch_size=3))
    assert acc == pytest.approx(5 / 10)  # dropout off in eval mode, else logits would vary
    expected = nn.functional.cross_entropy(model[0](X), y).item()
    assert loss == pytest.approx(expected, rel=1e-6)
    assert model.training


def test_fit_shows_a_progress_bar(small_mnist, capsys):
    train_loader, _ = small_mnist
    fit(lenet5(), train_loader, num_epochs=2, lr=0.1, device="cpu", progress=True)
    err = capsys.readouterr().err
    assert "epoch 2/2" in err and f"{2 * len(train_loader)}/{2 * len(train_loader)}" in err


def test_fit_without_progress_prints_nothing(small_mnist, capsys):
    train_loader, _ = small_mnist
    fit(lenet5(), train_loader, num_epochs=1, lr=0.1, device="cpu", progress=False)
    assert capsys.readouterr() == ("", "")


def test_live_plot_draws_the_history(small_mnist):
    train_loader, test_loader = small_mnist
    history = fit(lenet5(), train_loader, test_loader, num_epochs=2, lr=0.1, device="cpu",
                  progress=False, plot=True)  # fmt: skip
    live = LivePlot(num_epochs=2)
    live.update(history)
    labels = [line.get_label() for line in live.ax.get_lines()]
    assert labels == ["train loss", "train acc", "test acc"]
    assert list(live.ax.get_lines()[2].get_ydata()) == history.test_acc


def test_fit_accepts_a_ready_optimizer_with_parameter_groups(small_mnist):
    train_loader, _ = small_mnist
    model = lenet5()
    frozen = model[0].weight.detach().clone()
    last = model[-1].weight.detach().clone()
    optimizer = torch.optim.SGD([{"params": model[0].parameters(), "lr": 0.0},
                                 {"params": list(model.parameters())[2:], "lr": 0.1}])  # fmt: skip
    fit(model, train_loader, num_epochs=1, optimizer=optimizer, device="cpu", progress=False)
    torch.testing.assert_close(model[0].weight, frozen)  # lr 0 group did not move
    assert not torch.equal(model[-1].weight, last)  # the lr 0.1 group did


@pytest.mark.parametrize(
    "kwargs, message",
    [({"num_epochs": 0, "lr": 0.1}, "num_epochs"),
     ({"num_epochs": 1, "lr": 0.1, "optimizer": "rmsprop"}, "optimizer='rmsprop'"),
     ({"num_epochs": 1}, "lr must be"),
     ({"num_epochs": 1, "lr": -1.0}, "lr must be")],
)  # fmt: skip
def test_fit_rejects_bad_arguments(small_mnist, kwargs, message):
    train_loader, _ = small_mnist
    with pytest.raises(ValueError, match=message):
        fit(lenet5(), train_loader, progress=False, **kwargs)


def test_fit_rejects_a_non_loader():
    with pytest.raises(TypeError, match="train_loader must be an iterable"):
        fit(lenet5(), 42, num_epochs=1, lr=0.1, progress=False)  # type: ignore[arg-type]


def test_try_gpu_falls_back_to_the_cpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert try_gpu() == torch.device("cpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    assert try_gpu(0) == torch.device("cuda:0")
    assert try_gpu(1) == torch.device("cpu")


def test_set_seed_makes_runs_reproducible(small_mnist):
    train_loader, _ = small_mnist
    histories = []
    for _ in range(2):
        set_seed(123)
        histories.append(fit(lenet5(), train_loader, num_epochs=1, lr=0.1, device="cpu",
                             progress=False).train_loss)  # fmt: skip
    assert histories[0] == histories[1]


@pytest.mark.slow
def test_lenet_relu_max_learns_mnist_5k():
    """The learning test of the foundation issue: >= 95% test accuracy within 10 epochs."""
    set_seed(0)
    train_loader, test_loader = dataloaders("mnist-5k", batch_size=64, seed=0)
    model = lenet5(activation="relu", pool="max")
    history = fit(model, train_loader, test_loader, num_epochs=10, lr=2e-3, optimizer="adam",
                  device=try_gpu(), progress=False)  # fmt: skip
    assert max(history.test_acc) >= 0.95, history.test_acc
    assert history.test_acc[-1] >= 0.95, history.test_acc
