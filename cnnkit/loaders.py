"""A loader for small datasets that live on the device as two tensors.

A ``DataLoader`` fetches every example through Python and collates a batch on the CPU;
for MNIST-sized data on a GPU (or a small CPU model) that bookkeeping, not the network,
sets the pace. :class:`TensorLoader` moves ``X`` and ``y`` to the device once and hands
out slices, so :func:`cnnkit.train.fit` and :func:`cnnkit.train.evaluate` take it in
place of a ``DataLoader`` (``course/07_lenet.ipynb``)::

    train_iter = TensorLoader.from_dataset(load_dataset("mnist-5k"), batch_size=256,
                                           shuffle=True, device=try_gpu())
    fit(lenet5(), train_iter, num_epochs=10, lr=0.9)

With ``shuffle=True`` and the same ``seed`` it yields exactly the batches of
``DataLoader(TensorDataset(X, y), batch_size, shuffle=True,
generator=torch.Generator().manual_seed(seed))``, so swapping one for the other changes
the speed and nothing else (``tests/test_loaders.py`` checks it).
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch.utils.data import Dataset, Subset, TensorDataset

__all__ = ["TensorLoader"]


class TensorLoader:
    """Minibatches ``(X_batch, y_batch)`` of two tensors that stay on one device.

    Args:
        X: the inputs, ``(N, ...)``, e.g. ``(N, 1, 28, 28)``.
        y: the labels, ``(N,)`` (or ``(N, ...)``).
        batch_size: examples per batch; the last batch may be smaller.
        shuffle: a new order every epoch (drawn from a CPU ``torch.Generator``).
        drop_last: drop the last batch when it is smaller than ``batch_size``.
        device: where the tensors live; default: where ``X`` already is.
        seed: seeds the shuffle, so the same seed gives the same batches.

    Raises:
        TypeError: ``X`` or ``y`` is not a tensor.
        ValueError: mismatched lengths, no examples, or a ``batch_size`` that is not a
            positive int.
    """

    def __init__(
        self,
        X: torch.Tensor,
        y: torch.Tensor,
        *,
        batch_size: int,
        shuffle: bool = False,
        drop_last: bool = False,
        device: torch.device | str | None = None,
        seed: int = 0,
    ) -> None:
        for name, t in (("X", X), ("y", y)):
            if not isinstance(t, torch.Tensor):
                raise TypeError(f"{name} must be a torch.Tensor, got {type(t).__name__}")
            if t.ndim == 0:
                raise ValueError(f"{name} must have a first (example) dimension, got a scalar")
        if len(X) != len(y):
            raise ValueError(
                f"X and y must have one row per example: X has {len(X)} examples "
                f"(shape {tuple(X.shape)}), y has {len(y)} (shape {tuple(y.shape)})"
            )
        if len(X) == 0:
            raise ValueError("X and y are empty: a loader needs at least one example")
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
        self.device = torch.device(device) if device is not None else X.device
        # Moved once; every batch afterwards is a slice on the device.
        self.X = X.to(self.device)
        self.y = y.to(self.device)
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.generator = torch.Generator().manual_seed(seed)

    @classmethod
    def from_dataset(cls, dataset: Dataset, **kwargs: object) -> TensorLoader:
        """A loader over all of ``dataset``'s ``(X, y)`` pairs, stacked into two tensors.

        A ``TensorDataset`` (or a ``Subset`` of one, as ``load_dataset(..., subset=n)``
        gives) is used without touching its examples one by one.

        Args:
            dataset: yields ``(X, y)`` pairs of tensors (or numbers for ``y``).
            **kwargs: the keyword arguments of :class:`TensorLoader`.
        """
        if isinstance(dataset, TensorDataset) and len(dataset.tensors) == 2:
            X, y = dataset.tensors
        elif (isinstance(dataset, Subset) and isinstance(dataset.dataset, TensorDataset)
              and len(dataset.dataset.tensors) == 2):  # fmt: skip
            index = torch.as_tensor(dataset.indices, dtype=torch.long)
            X, y = (t[index] for t in dataset.dataset.tensors)
        else:
            pairs = [dataset[i] for i in range(len(dataset))]  # type: ignore[arg-type]
            if not pairs:
                raise ValueError("dataset is empty: a loader needs at least one example")
            X = torch.stack([torch.as_tensor(X) for X, _ in pairs])
            y = torch.stack([torch.as_tensor(y) for _, y in pairs])
        return cls(X, y, **kwargs)  # type: ignore[arg-type]

    @property
    def num_examples(self) -> int:
        """Examples per epoch (fewer than ``len(X)`` when ``drop_last`` drops some)."""
        n = len(self.X)
        return n - n % self.batch_size if self.drop_last else n

    def __len__(self) -> int:
        """Batches per epoch, as ``len(DataLoader)``."""
        n = len(self.X)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        n, b = len(self.X), self.batch_size
        full = n - n % b  # examples in full batches
        if self.shuffle:
            # The generator is consumed as DataLoader(shuffle=True, generator=g) does: one
            # draw for its worker seed, the permutation, and RandomSampler's trailing
            # randperm when it runs out (below), so equal seeds give equal batches.
            torch.empty((), dtype=torch.int64).random_(generator=self.generator)
            perm = torch.randperm(n, generator=self.generator).to(self.device)
            X, y = self.X.index_select(0, perm), self.y.index_select(0, perm)  # one gather
        else:
            X, y = self.X, self.y
        for start in range(0, full, b):
            yield X[start : start + b], y[start : start + b]  # views, no copy
        if self.shuffle:
            torch.randperm(n, generator=self.generator)  # RandomSampler's trailing draw
        if full < n and not self.drop_last:
            yield X[full:], y[full:]

    def __repr__(self) -> str:
        return (
            f"TensorLoader({len(self.X)} examples of {tuple(self.X.shape[1:])} on "
            f"{self.device}, batch_size={self.batch_size}, shuffle={self.shuffle}, "
            f"drop_last={self.drop_last})"
        )
