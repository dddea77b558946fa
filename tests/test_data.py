"""Tests for cnnkit/data.py: offline datasets, subsets, loaders and the torchvision path.

Nothing here touches the network: Fashion-MNIST and MNIST are exercised with small IDX
files written into a temporary folder, and torchvision's download is replaced by fakes.
"""

from __future__ import annotations

import gzip
import struct
from collections import Counter
from pathlib import Path
from urllib.error import URLError

import numpy as np
import pytest
import torch
import torchvision

from cnnkit import data
from cnnkit.data import (
    DATASETS,
    DatasetNotFoundError,
    DatasetUnavailableError,
    class_names,
    data_root,
    dataloaders,
    lecture_dataloaders,
    load_dataset,
    sample_image,
)

TV_FOLDERS = {"fashion-mnist": "FashionMNIST", "mnist": "MNIST"}
IDX_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
             "t10k-labels-idx1-ubyte")  # fmt: skip


def tensors(dataset) -> tuple[torch.Tensor, torch.Tensor]:
    """Stack a whole dataset into ``X: (N, C, H, W)`` and ``y: (N,)``."""
    X, y = zip(*(dataset[i] for i in range(len(dataset))), strict=True)
    return torch.stack(X), torch.stack([torch.as_tensor(t) for t in y])


def row_hashes(X: torch.Tensor) -> set[bytes]:
    return {x.numpy().tobytes() for x in X}


def idx_bytes(array: np.ndarray) -> bytes:
    """``array`` (uint8) in the IDX format: magic 2051 for images, 2049 for labels."""
    magic = {3: 2051, 1: 2049}[array.ndim]
    return struct.pack(f">{1 + array.ndim}I", magic, *array.shape) + array.tobytes()


@pytest.fixture(scope="module")
def fake_splits() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Real digits from mnist-5k as uint8 IDX content: 30 train and 20 test images."""
    splits = {}
    for prefix, train, n in (("train", True, 30), ("t10k", False, 20)):
        X, y = tensors(load_dataset("mnist-5k", train=train, subset=n))
        images = (X[:, 0] * 255).round().to(torch.uint8).numpy()  # (n, 28, 28)
        splits[prefix] = (images, y.to(torch.uint8).numpy())
    return splits


def write_idx(raw: Path, splits, prefix: str | None = None, gz: bool = False) -> None:
    """Write the IDX files torchvision's ``_check_exists`` wants (all four, or one prefix)."""
    raw.mkdir(parents=True, exist_ok=True)
    for split, (images, labels) in splits.items():
        if prefix is None or prefix == split:
            for kind, array in (("images-idx3", images), ("labels-idx1", labels)):
                name, payload = f"{split}-{kind}-ubyte", idx_bytes(array)
                if gz:
                    (raw / f"{name}.gz").write_bytes(gzip.compress(payload))
                else:
                    (raw / name).write_bytes(payload)


@pytest.fixture
def no_network(monkeypatch) -> list[str]:
    """Make every torchvision download fail like an offline machine; records the URLs tried."""
    tried: list[str] = []

    def fail(url, *args, **kwargs):
        tried.append(url)
        raise URLError("no network")

    monkeypatch.setattr(torchvision.datasets.mnist, "download_and_extract_archive", fail)
    return tried


# --- data_root --------------------------------------------------------------------------


def test_data_root_honours_env_var(monkeypatch, tmp_path):
    monkeypatch.setenv("CNNKIT_DATA", str(tmp_path / "datasets"))
    assert data_root() == tmp_path / "datasets"


def test_data_root_defaults_to_cache_in_home(monkeypatch, tmp_path):
    monkeypatch.delenv("CNNKIT_DATA", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert data_root() == tmp_path / ".cache" / "cnnkit"


# --- mnist-5k ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mnist_5k():
    return tuple(tensors(load_dataset("mnist-5k", train=train)) for train in (True, False))


def test_mnist_5k_split_sizes_types_and_range(mnist_5k):
    for (X, y), n in zip(mnist_5k, (4000, 1000), strict=True):
        assert X.shape == (n, 1, 28, 28) and y.shape == (n,)
        assert X.dtype == torch.float32 and y.dtype == torch.int64
        assert X.min() == 0 and X.max() == 1  # pixels 0..255 scaled by 255


def test_mnist_5k_split_is_stratified_and_disjoint(mnist_5k):
    (X_train, y_train), (X_test, y_test) = mnist_5k
    assert Counter(y_train.tolist()) == {c: 400 for c in range(10)}
    assert Counter(y_test.tolist()) == {c: 100 for c in range(10)}
    assert not row_hashes(X_train) & row_hashes(X_test)
    assert len(row_hashes(X_train) | row_hashes(X_test)) == 5000


def test_mnist_5k_is_real_digits(mnist_5k):
    """A nearest-centroid classifier fit on train beats 70% on test (noise would give ~10%)."""
    (X_train, y_train), (X_test, y_test) = mnist_5k
    centroids = torch.stack([X_train[y_train == c].mean(0) for c in range(10)]).flatten(1)
    y_hat = torch.cdist(X_test.flatten(1), centroids).argmin(1)
    assert (y_hat == y_test).float().mean() > 0.7
    ink = centroids.sum(1)  # a "1" is a thin stroke, a "0" and an "8" are loops
    assert ink[1] < ink[0] and ink[1] < ink[8]


# --- digits -----------------------------------------------------------------------------


def test_digits_split():
    (X_train, y_train), (X_test, y_test) = (
        tensors(load_dataset("digits", train=train)) for train in (True, False)
    )
    assert len(X_train) + len(X_test) == 1797 and len(X_test) == 360
    for X, y in ((X_train, y_train), (X_test, y_test)):
        assert X.shape[1:] == (1, 8, 8) and X.dtype == torch.float32 and y.dtype == torch.int64
        assert X.min() == 0 and X.max() == 1  # values 0..16 scaled by 16
        assert set(y.tolist()) == set(range(10))
    assert not row_hashes(X_train) & row_hashes(X_test)
    train_counts, test_counts = Counter(y_train.tolist()), Counter(y_test.tolist())
    for c in range(10):  # stratified: every class splits 80/20, up to rounding
        assert abs(test_counts[c] - 0.2 * (train_counts[c] + test_counts[c])) <= 1


# --- subset -----------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "size"), [("mnist-5k", 25), ("digits", 100), ("mnist-5k", 1)])
def test_subset_is_deterministic_and_balanced(name, size):
    first, second = (load_dataset(name, subset=size) for _ in range(2))
    assert len(first) == size
    assert first.indices == second.indices
    assert len(set(first.indices)) == size
    counts = Counter(tensors(first)[1].tolist())
    assert max(counts.values()) - min(counts.values(), default=0) <= 1
    assert len(counts) == min(size, 10)


def test_subset_of_test_split_comes_from_test_split(mnist_5k):
    _, (X_test, _) = mnist_5k
    X_sub, _ = tensors(load_dataset("mnist-5k", train=False, subset=50))
    assert row_hashes(X_sub) <= row_hashes(X_test)


@pytest.mark.parametrize("bad", [0, -3, 2.5, True, "10"])
def test_subset_must_be_positive_int(bad):
    with pytest.raises(ValueError, match="subset must be a positive int"):
        load_dataset("digits", subset=bad)


def test_subset_larger_than_split_names_the_size():
    with pytest.raises(ValueError, match=r"subset=1001 .* \(1000 examples\)"):
        load_dataset("mnist-5k", train=False, subset=1001)


# --- names, class names, photos ---------------------------------------------------------


def test_unknown_dataset_lists_valid_names():
    with pytest.raises(ValueError, match="unknown dataset 'fashion_mnist'") as info:
        load_dataset("fashion_mnist")
    assert all(name in str(info.value) for name in DATASETS)
    assert "Did you mean 'fashion-mnist'?" in str(info.value)
    with pytest.raises(ValueError, match="unknown dataset 'cifar10'"):
        dataloaders("cifar10", 8)


def test_class_names():
    fashion = class_names("fashion-mnist")
    assert len(fashion) == 10 and fashion[0] == "T-shirt/top" and fashion[9] == "Ankle boot"
    assert class_names("mnist-5k") == class_names("digits") == [str(i) for i in range(10)]
    with pytest.raises(ValueError, match="mnist-5k"):
        class_names("svhn")


@pytest.mark.parametrize("name", ["flower", "china", "china.jpg"])
def test_sample_image(name):
    image = sample_image(name)
    assert image.shape == (3, 427, 640) and image.dtype == torch.float32
    assert 0 <= image.min() < 0.1 and 0.9 < image.max() <= 1
    assert image.is_contiguous()


def test_sample_images_differ_and_unknown_photo_is_rejected():
    assert not torch.equal(sample_image(), sample_image("china"))
    with pytest.raises(ValueError, match="flower, china"):
        sample_image("lena")


# --- dataloaders ------------------------------------------------------------------------


def labels_in_order(loader) -> list[int]:
    return [label for _, y in loader for label in y.tolist()]


def test_dataloader_batches():
    train_loader, test_loader = dataloaders("mnist-5k", 32, subset=100, test_subset=50)
    X, y = next(iter(train_loader))
    assert X.shape == (32, 1, 28, 28) and X.dtype == torch.float32
    assert y.shape == (32,) and y.dtype == torch.int64
    assert len(train_loader.dataset) == 100 and len(test_loader.dataset) == 50
    assert len(test_loader) == 2  # 32 + 18


def test_train_shuffle_is_seeded_and_test_is_in_order():
    def loaders(seed, shuffle=True):
        return dataloaders("digits", 16, seed=seed, shuffle=shuffle, subset=64, test_subset=48)

    (train_a, test_a), (train_b, _), (train_c, _) = loaders(0), loaders(0), loaders(1)
    in_order = labels_in_order(loaders(0, shuffle=False)[0])
    assert in_order == tensors(train_a.dataset)[1].tolist()
    assert labels_in_order(train_a) == labels_in_order(train_b)  # same seed, same batches
    assert labels_in_order(train_a) != in_order  # but shuffled ...
    assert labels_in_order(train_a) != labels_in_order(train_c)  # ... differently per seed
    assert labels_in_order(test_a) == tensors(test_a.dataset)[1].tolist()
    assert labels_in_order(test_a) == labels_in_order(test_a)


# --- Fashion-MNIST and MNIST through torchvision, offline -------------------------------


@pytest.mark.parametrize("name", TV_FOLDERS)
@pytest.mark.parametrize("download", [False, None, True])
def test_torchvision_reads_idx_files(name, download, tmp_path, fake_splits, no_network):
    write_idx(tmp_path / TV_FOLDERS[name] / "raw", fake_splits)
    for prefix, train in (("train", True), ("t10k", False)):
        dataset = load_dataset(name, root=tmp_path, train=train, download=download)
        assert type(dataset) is getattr(torchvision.datasets, TV_FOLDERS[name])
        X, y = tensors(dataset)
        images, labels = fake_splits[prefix]
        assert X.dtype == torch.float32 and X.shape == (len(labels), 1, 28, 28)
        torch.testing.assert_close(X, torch.tensor(images).unsqueeze(1) / 255)
        assert y.dtype == torch.int64 and y.tolist() == labels.tolist()
    assert no_network == []  # the files were there: no download attempted


def test_torchvision_dataset_in_a_loader_and_subset(monkeypatch, tmp_path, fake_splits):
    monkeypatch.setenv("CNNKIT_DATA", str(tmp_path))  # root=None means data_root()
    write_idx(tmp_path / "FashionMNIST" / "raw", fake_splits)
    train_loader, test_loader = dataloaders("fashion-mnist", 8, subset=20, download=False)
    X, y = next(iter(train_loader))
    assert X.shape == (8, 1, 28, 28) and X.dtype == torch.float32 and y.dtype == torch.int64
    assert len(train_loader.dataset) == 20 and len(test_loader.dataset) == 20
    assert Counter(tensors(train_loader.dataset)[1].tolist()) == {c: 2 for c in range(10)}


def test_download_none_fetches_missing_files(monkeypatch, tmp_path, fake_splits):
    """``download=None`` with nothing on disk calls torchvision's downloader, then loads."""
    staging = tmp_path / "mirror"
    write_idx(staging, fake_splits, gz=True)
    fetched = []

    def fake_download(url, download_root, filename, md5=None):
        fetched.append(filename)
        raw = (staging / filename).read_bytes()
        (Path(download_root) / filename.removesuffix(".gz")).write_bytes(gzip.decompress(raw))

    monkeypatch.setattr(torchvision.datasets.mnist, "download_and_extract_archive", fake_download)
    X, y = tensors(load_dataset("mnist", root=tmp_path / "root", train=False))
    assert sorted(fetched) == sorted(f"{name}.gz" for name in IDX_FILES)
    assert y.tolist() == fake_splits["t10k"][1].tolist()
    torch.testing.assert_close(X[:, 0], torch.tensor(fake_splits["t10k"][0]) / 255)


@pytest.mark.parametrize("name", TV_FOLDERS)
def test_missing_files_without_download_names_the_folder(name, tmp_path, no_network):
    with pytest.raises(DatasetNotFoundError) as info:
        load_dataset(name, root=tmp_path, download=False)
    message = str(info.value)
    assert str(tmp_path / TV_FOLDERS[name] / "raw") in message
    assert "download=True" in message and 'load_dataset("mnist-5k")' in message
    assert isinstance(info.value, FileNotFoundError) and no_network == []


def test_half_present_files_count_as_missing(tmp_path, fake_splits, no_network):
    write_idx(tmp_path / "MNIST" / "raw", fake_splits, prefix="train")  # no t10k-* files
    with pytest.raises(DatasetNotFoundError, match="t10k-images-idx3-ubyte"):
        load_dataset("mnist", root=tmp_path, download=False)


@pytest.mark.parametrize("name", TV_FOLDERS)
@pytest.mark.parametrize("download", [True, None])
def test_failed_download_points_to_mnist_5k(name, download, tmp_path, no_network):
    with pytest.raises(DatasetUnavailableError) as info:
        load_dataset(name, root=tmp_path, download=download)
    message = str(info.value)
    assert "could not be downloaded" in message and "no network" in message
    assert 'load_dataset("mnist-5k")' in message
    assert isinstance(info.value, RuntimeError) and not isinstance(info.value, FileNotFoundError)
    assert no_network and all(url.endswith(".gz") for url in no_network)  # it really tried


def test_lecture_loaders_fall_back_offline_and_say_why(tmp_path, no_network, capsys):
    train, test, name = lecture_dataloaders(16, root=tmp_path, subset=50_000, test_subset=200)
    out = capsys.readouterr().out
    assert name == "mnist-5k"
    assert "fashion-mnist is not available here, so this notebook uses mnist-5k" in out
    assert "no network" in out  # the reason is printed, not swallowed
    assert len(train.dataset) == 4000  # a subset larger than mnist-5k is capped, not an error
    assert len(test.dataset) == 200
    assert no_network  # it really tried to download


def test_lecture_loaders_use_the_preferred_dataset_when_present(tmp_path, fake_splits,
                                                                no_network, capsys):
    write_idx(tmp_path / "FashionMNIST" / "raw", fake_splits)
    train, test, name = lecture_dataloaders(8, root=tmp_path, subset=10)
    assert name == "fashion-mnist" and capsys.readouterr().out == ""
    assert type(test.dataset) is torchvision.datasets.FashionMNIST
    assert len(train.dataset) == 10 and len(test.dataset) == 20
    with pytest.raises(ValueError, match="fashion-mnsit"):
        lecture_dataloaders(8, preferred="fashion-mnsit")


def test_module_exports_match_all():
    assert set(data.__all__) <= set(dir(data))
    assert DATASETS == ("fashion-mnist", "mnist", "mnist-5k", "digits")


def test_dataloaders_pin_memory_only_with_a_gpu(monkeypatch):
    train, test = dataloaders("digits", 32)
    assert (train.pin_memory, test.pin_memory) == (False, False)  # no CUDA here (CI)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    train, test = dataloaders("digits", 32)
    assert (train.pin_memory, test.pin_memory) == (True, True)
    train, _ = dataloaders("digits", 32, pin_memory=False)
    assert train.pin_memory is False
