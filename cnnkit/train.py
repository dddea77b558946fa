"""Training and evaluation loops (introduced in ``course/07_lenet.ipynb``).

``fit`` is the loop a student would write by hand: move a batch to the device, forward,
loss, backward, step. What it adds costs nothing measurable per batch: the running loss
and accuracy stay on the device as tensors (no ``.item()`` synchronisation per batch) and
are read once per epoch, when the progress bar and the optional live plot are updated.
"""

from __future__ import annotations

import itertools
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from cnnkit.lazy_layers import has_lazy, materialize

__all__ = ["History", "evaluate", "fit", "set_seed", "try_gpu", "device_name"]

_OPTIMIZERS: dict[str, type[torch.optim.Optimizer]] = {
    "sgd": torch.optim.SGD,
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
}


@dataclass
class History:
    """Per-epoch record of a ``fit`` run; ``test_*`` entries are ``nan`` without a test set."""

    train_loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    test_loss: list[float] = field(default_factory=list)
    test_acc: list[float] = field(default_factory=list)
    examples_per_sec: list[float] = field(default_factory=list)
    device: str = "cpu"

    @property
    def num_epochs(self) -> int:
        return len(self.train_loss)

    def to_dict(self) -> dict[str, object]:
        return asdict(self)

    def __str__(self) -> str:
        if not self.num_epochs:
            return "History(no epochs)"
        return (
            f"{self.num_epochs} epoch{'s' * (self.num_epochs != 1)} on {self.device}: "
            f"train loss {self.train_loss[-1]:.3f}, "
            f"train acc {self.train_acc[-1]:.3f}, test acc {self.test_acc[-1]:.3f}, "
            f"{self.examples_per_sec[-1]:,.0f} examples/sec"
        )


def try_gpu(i: int = 0) -> torch.device:
    """Return ``cuda:i`` if that GPU exists, else the CPU (``course/07_lenet.ipynb``)."""
    if torch.cuda.is_available() and i < torch.cuda.device_count():
        return torch.device(f"cuda:{i}")
    return torch.device("cpu")


def device_name(device: torch.device | str | None = None) -> str:
    """A readable name for a device: the GPU model for CUDA, ``"cpu"`` otherwise."""
    device = torch.device(device) if device is not None else try_gpu()
    if device.type == "cuda":
        return f"{device} ({torch.cuda.get_device_name(device)})"
    return str(device)


def set_seed(seed: int) -> None:
    """Seed Python's ``random``, NumPy and torch (CPU and every GPU) for a reproducible run."""
    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 - students' code uses the global NumPy state
    torch.manual_seed(seed)  # also seeds every CUDA device


def _optimizer_builder(
    model: nn.Module, optimizer: str | torch.optim.Optimizer, lr: float | None
) -> Callable[[], torch.optim.Optimizer]:
    """Check the arguments now; build the optimizer when called (after lazy layers ran)."""
    if isinstance(optimizer, torch.optim.Optimizer):
        return lambda: optimizer
    if not isinstance(optimizer, str) or optimizer.lower() not in _OPTIMIZERS:
        valid = ", ".join(repr(k) for k in _OPTIMIZERS)
        raise ValueError(
            f"optimizer={optimizer!r} is not supported: pass one of {valid} "
            "or a torch.optim.Optimizer built on the model's parameters"
        )
    if lr is None or not lr > 0:
        raise ValueError(f"lr must be a positive learning rate (e.g. lr=0.1), got {lr!r}")
    return lambda: _OPTIMIZERS[optimizer.lower()](model.parameters(), lr=lr)


def _materialize_on_first_batch(
    model: nn.Module, loader: Iterable, device: torch.device
) -> Iterable:
    """Initialize lazy layers with the first batch of ``loader``, before any optimizer.

    Returns the batches of one pass over ``loader``, that first one included: the loader
    is iterated once, as a hand-written loop would (same shuffling, same random draws).
    """
    batches = iter(loader)
    first = next(batches, None)
    if first is None:
        raise ValueError("train_loader yielded no examples: check the dataset and batch size")
    materialize(model, first[0].to(device), device=device)
    return itertools.chain([first], batches)


def _check_loader(loader: object, name: str) -> None:
    if not isinstance(loader, Iterable):
        raise TypeError(
            f"{name} must be an iterable of (X, y) batches such as a DataLoader, "
            f"got {type(loader).__name__}"
        )


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


@torch.no_grad()
def evaluate(
    model: nn.Module,
    loader: Iterable,
    device: torch.device | str | None = None,
    loss: nn.Module | None = None,
) -> tuple[float, float]:
    """Mean loss and accuracy of ``model`` over ``loader`` (``course/07_lenet.ipynb``).

    The model is put in ``eval()`` mode (dropout off, batch norm uses running statistics)
    and restored to its previous mode afterwards.

    Args:
        model: a classifier returning logits of shape ``(N, num_classes)``.
        loader: yields ``(X, y)`` with ``y`` of shape ``(N,)``.
        device: where to run; defaults to where the model's parameters are.
        loss: the loss to report, cross-entropy by default.

    Returns:
        ``(loss, accuracy)`` averaged over all examples.
    """
    _check_loader(loader, "loader")
    if device is None:
        param = next(model.parameters(), None)
        device = param.device if param is not None else torch.device("cpu")
    device = torch.device(device)
    loss = loss if loss is not None else nn.CrossEntropyLoss()
    was_training = model.training
    model.eval()
    loss_sum = torch.zeros((), device=device)
    correct = torch.zeros((), device=device, dtype=torch.long)
    count = 0
    lazy = has_lazy(model)
    try:
        for X, y in loader:
            X, y = X.to(device, non_blocking=True), y.to(device, non_blocking=True)
            if lazy:  # initialized by one pass that explains a wrong shape
                materialize(model, X, device=X.device)
                lazy = False
            y_hat = model(X)
            loss_sum += loss(y_hat, y) * y.numel()
            correct += (y_hat.argmax(dim=1) == y).sum()
            count += y.numel()
    finally:
        model.train(was_training)
    if count == 0:
        raise ValueError("loader yielded no examples: check the dataset and batch size")
    return loss_sum.item() / count, correct.item() / count


def _train_epoch(
    model: nn.Module,
    loader: Iterable,
    loss: nn.Module,
    optimizer: torch.optim.Optimizer,
    device: torch.device,
    bar: tqdm,
) -> tuple[float, float, int]:
    """One pass over ``loader``; returns (mean loss, accuracy, examples)."""
    model.train()
    loss_sum = torch.zeros((), device=device)
    correct = torch.zeros((), device=device, dtype=torch.long)
    count = 0
    for X, y in loader:
        X, y = X.to(device, non_blocking=True), y.to(device, non_blocking=True)
        y_hat = model(X)
        l = loss(y_hat, y)
        optimizer.zero_grad(set_to_none=True)
        l.backward()
        optimizer.step()
        # Running sums stay on the device: no per-batch host synchronisation.
        loss_sum += l.detach() * y.numel()
        correct += (y_hat.detach().argmax(dim=1) == y).sum()
        count += y.numel()
        bar.update(1)
    if count == 0:
        raise ValueError("train_loader yielded no examples: check the dataset and batch size")
    return loss_sum.item() / count, correct.item() / count, count


def fit(
    model: nn.Module,
    train_loader: Iterable,
    test_loader: Iterable | None = None,
    *,
    num_epochs: int,
    lr: float | None = None,
    optimizer: str | torch.optim.Optimizer = "sgd",
    device: torch.device | str | None = None,
    progress: bool = True,
    plot: bool = False,
    loss: nn.Module | None = None,
) -> History:
    """Train a classifier and record a :class:`History` (``course/07_lenet.ipynb``).

    A model with lazy layers (``nn.LazyConv2d``, ``nn.LazyLinear``...) is initialized with
    the first training batch (:func:`cnnkit.materialize`) before the optimizer is built.

    Args:
        model: returns logits ``(N, num_classes)`` for a batch ``X``; moved to ``device``.
        train_loader: yields ``(X, y)`` batches.
        test_loader: evaluated after every epoch, if given.
        num_epochs: passes over ``train_loader``.
        lr: learning rate; required when ``optimizer`` is a name.
        optimizer: ``"sgd"``, ``"adam"``, ``"adamw"`` or a ready ``torch.optim.Optimizer``
            (e.g. with a learning rate per parameter group).
        device: defaults to :func:`try_gpu`, so a GPU is used when there is one.
        progress: show a tqdm progress bar (a widget in Jupyter, text in a terminal).
        plot: draw a live loss/accuracy plot, updated in place after every epoch.
        loss: the training loss, cross-entropy by default.

    Returns:
        The per-epoch history: train loss and accuracy, test loss and accuracy,
        examples per second (training only).
    """
    if isinstance(num_epochs, bool) or not isinstance(num_epochs, int) or num_epochs < 1:
        raise ValueError(f"num_epochs must be a positive int, got {num_epochs!r}")
    _check_loader(train_loader, "train_loader")
    if test_loader is not None:
        _check_loader(test_loader, "test_loader")
    device = torch.device(device) if device is not None else try_gpu()
    model.to(device)
    make_optimizer = _optimizer_builder(model, optimizer, lr)
    opt = None if has_lazy(model) else make_optimizer()
    loss = loss if loss is not None else nn.CrossEntropyLoss()
    history = History(device=device_name(device))
    live = None
    if plot:
        from cnnkit.plot import LivePlot

        live = LivePlot(num_epochs=num_epochs)
    try:
        total = num_epochs * len(train_loader)  # type: ignore[arg-type]
    except TypeError:
        total = None
    with tqdm(total=total, disable=not progress, unit="batch", dynamic_ncols=True) as bar:
        for epoch in range(num_epochs):
            bar.set_description(f"epoch {epoch + 1}/{num_epochs}")
            _sync(device)
            start = time.perf_counter()
            batches = train_loader
            if opt is None:  # lazy layers: the first batch initializes them, then the optimizer
                batches = _materialize_on_first_batch(model, train_loader, device)
                opt = make_optimizer()
            train_loss, train_acc, count = _train_epoch(model, batches, loss, opt, device, bar)
            _sync(device)
            seconds = time.perf_counter() - start
            test_loss, test_acc = (
                evaluate(model, test_loader, device, loss) if test_loader is not None
                else (float("nan"), float("nan"))
            )  # fmt: skip
            history.train_loss.append(train_loss)
            history.train_acc.append(train_acc)
            history.test_loss.append(test_loss)
            history.test_acc.append(test_acc)
            history.examples_per_sec.append(count / seconds)
            postfix = {"loss": f"{train_loss:.3f}", "train_acc": f"{train_acc:.3f}"}
            if test_loader is not None:
                postfix["test_acc"] = f"{test_acc:.3f}"
            bar.set_postfix(postfix)  # a dict keeps this order; keyword arguments are sorted
            if live is not None:
                live.update(history)
    if live is not None:
        live.close()
    return history
