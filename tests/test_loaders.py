"""cnnkit.loaders.TensorLoader against a DataLoader over the same tensors (the oracle)."""

from __future__ import annotations

import copy

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.utils.data import DataLoader, TensorDataset

import cnnkit
from cnnkit.data import load_dataset
from cnnkit.loaders import TensorLoader
from cnnkit.models import lenet5
from cnnkit.train import evaluate, fit, set_seed

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # see conftest.py


def data(n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` examples whose label is their index, so a batch says which examples it holds."""
    X = torch.arange(n * 4, dtype=torch.float32).reshape(n, 1, 2, 2)
    return X, torch.arange(n)


def batches(loader) -> list[tuple[torch.Tensor, torch.Tensor]]:
    return [(X.clone(), y.clone()) for X, y in loader]


SIZES = given(
    n=st.integers(1, 60),
    batch_size=st.integers(1, 70),
    shuffle=st.booleans(),
    drop_last=st.booleans(),
    seed=st.integers(0, 2**31 - 1),
)


@settings(max_examples=60, deadline=None)
@SIZES
def test_same_batches_as_a_dataloader_epoch_after_epoch(n, batch_size, shuffle, drop_last, seed):
    X, y = data(n)
    ours = TensorLoader(X, y, batch_size=batch_size, shuffle=shuffle, drop_last=drop_last,
                        seed=seed)  # fmt: skip
    oracle = DataLoader(TensorDataset(X, y), batch_size=batch_size, shuffle=shuffle,
                        drop_last=drop_last, generator=torch.Generator().manual_seed(seed))
    assert len(ours) == len(oracle)
    for _ in range(3):  # the shuffle goes on from epoch to epoch in step with the oracle
        got, expected = batches(ours), batches(oracle)
        assert len(got) == len(expected)
        for (X_b, y_b), (X_e, y_e) in zip(got, expected, strict=True):
            torch.testing.assert_close(X_b, X_e)
            torch.testing.assert_close(y_b, y_e)


@settings(max_examples=60, deadline=None)
@SIZES
def test_every_example_exactly_once_per_epoch(n, batch_size, shuffle, drop_last, seed):
    X, y = data(n)
    loader = TensorLoader(X, y, batch_size=batch_size, shuffle=shuffle, drop_last=drop_last,
                          seed=seed)  # fmt: skip
    for _ in range(2):
        got = batches(loader)
        assert all(len(y_b) == batch_size for _, y_b in got[:-1])
        seen = torch.cat([y_b for _, y_b in got]) if got else torch.empty(0, dtype=torch.long)
        assert len(seen) == loader.num_examples == sum(len(y_b) for _, y_b in got)
        assert len(set(seen.tolist())) == len(seen), "an example came twice in one epoch"
        if not drop_last:
            assert sorted(seen.tolist()) == list(range(n))
        for X_b, y_b in got:  # inputs stay paired with their labels
            torch.testing.assert_close(X_b, X[y_b])


def test_shuffle_is_seeded_and_changes_every_epoch():
    X, y = data(50)
    a, b = (TensorLoader(X, y, batch_size=8, shuffle=True, seed=1) for _ in range(2))
    first, second = [torch.cat([y_b for _, y_b in a]) for _ in range(2)]
    assert not torch.equal(first, second)
    assert torch.equal(first, torch.cat([y_b for _, y_b in b]))
    c = TensorLoader(X, y, batch_size=8, shuffle=True, seed=2)
    assert not torch.equal(first, torch.cat([y_b for _, y_b in c]))
    unshuffled = torch.cat([y_b for _, y_b in TensorLoader(X, y, batch_size=8)])
    assert torch.equal(unshuffled, y)


def test_batches_are_views_of_the_data_on_the_device():
    X, y = data(10)
    loader = TensorLoader(X, y, batch_size=4, device="cpu")
    X_b, _ = next(iter(loader))
    assert X_b.data_ptr() == loader.X.data_ptr() and X_b.device == torch.device("cpu")


@pytest.mark.parametrize(
    ("X", "y", "kwargs", "error", "message"),
    [
        (torch.zeros(5, 2), torch.zeros(4), {"batch_size": 2}, ValueError, "X has 5 .* y has 4"),
        (torch.zeros(0, 2), torch.zeros(0), {"batch_size": 2}, ValueError, "empty"),
        (torch.zeros(5, 2), torch.zeros(5), {"batch_size": 0}, ValueError, "positive int"),
        (torch.zeros(5, 2), torch.zeros(5), {"batch_size": 2.0}, ValueError, "positive int"),
        (torch.zeros(5, 2), torch.zeros(5), {"batch_size": True}, ValueError, "positive int"),
        ([[0.0]] * 5, torch.zeros(5), {"batch_size": 2}, TypeError, "X must be a torch.Tensor"),
        (torch.zeros(5, 2), torch.tensor(1), {"batch_size": 2}, ValueError, "y must have"),
    ],
)
def test_clear_errors(X, y, kwargs, error, message):
    with pytest.raises(error, match=message):
        TensorLoader(X, y, **kwargs)


def test_from_dataset_takes_tensor_datasets_subsets_and_any_dataset():
    train = load_dataset("mnist-5k", subset=100)  # a Subset of a TensorDataset
    loader = TensorLoader.from_dataset(train, batch_size=32)
    X0, y0 = train[0]
    torch.testing.assert_close(loader.X[0], X0)
    assert loader.y[0] == y0 and loader.X.shape == (100, 1, 28, 28) and len(loader) == 4

    class Pairs(torch.utils.data.Dataset):
        def __len__(self):
            return 3

        def __getitem__(self, i):
            return torch.full((2,), float(i)), i

    generic = TensorLoader.from_dataset(Pairs(), batch_size=2)
    assert generic.y.tolist() == [0, 1, 2] and generic.X.shape == (3, 2)
    assert cnnkit.TensorLoader is TensorLoader


def test_fit_trains_exactly_as_with_the_equivalent_dataloader():
    dataset = load_dataset("mnist-5k", subset=256)
    stacked = TensorLoader.from_dataset(dataset, batch_size=64)
    X, y = stacked.X, stacked.y
    oracle = DataLoader(TensorDataset(X, y), batch_size=64, shuffle=True,
                        generator=torch.Generator().manual_seed(0))
    ours = TensorLoader(X, y, batch_size=64, shuffle=True, seed=0)
    set_seed(0)
    model = lenet5(activation="relu", pool="max")
    reference = copy.deepcopy(model)
    history = fit(model, ours, num_epochs=2, lr=0.1, device="cpu", progress=False)
    expected = fit(reference, oracle, num_epochs=2, lr=0.1, device="cpu", progress=False)
    for p, q in zip(model.parameters(), reference.parameters(), strict=True):
        torch.testing.assert_close(p, q)
    torch.testing.assert_close(history.train_loss, expected.train_loss)
    test = TensorLoader(X, y, batch_size=100)
    assert evaluate(model, test) == pytest.approx(evaluate(model, DataLoader(
        TensorDataset(X, y), batch_size=100)))  # fmt: skip
