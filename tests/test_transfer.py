"""cnnkit.transfer: class splits, freezing, parameter groups and the pretrained fallback."""

from __future__ import annotations

from urllib.error import URLError

import pytest
import torch
from torch import nn
from torch.utils.data import Subset, TensorDataset
from torchvision.models import ResNet18_Weights, resnet18
from torchvision.transforms import v2

from cnnkit.models import lenet5
from cnnkit.train import fit
from cnnkit.transfer import (
    PretrainedUnavailableError,
    TransformedDataset,
    class_split,
    count_parameters,
    freeze,
    labels_of,
    last_linear,
    load_pretrained,
    param_groups,
    replace_head,
    trainable_parameters,
    unfreeze,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture
def digits():
    X = torch.arange(40, dtype=torch.float32).reshape(40, 1, 1, 1)  # X = index: traceable
    y = torch.arange(40) % 10
    return TensorDataset(X, y)


class _Plain(torch.utils.data.Dataset):
    def __init__(self, base):
        self.base = base

    def __len__(self):
        return len(self.base)

    def __getitem__(self, i):
        return self.base[i]


def test_labels_of_reads_every_kind_of_dataset(digits):
    expected = torch.arange(40) % 10
    torch.testing.assert_close(labels_of(digits), expected)
    torch.testing.assert_close(labels_of(_Plain(digits)), expected)
    torch.testing.assert_close(labels_of(Subset(digits, [3, 14, 5])), torch.tensor([3, 4, 5]))


def test_class_split_keeps_and_relabels_the_classes(digits):
    split = class_split(digits, [7, 5])
    assert split.classes == [7, 5] and len(split) == 8
    for X, y in split:
        original = int(X.item()) % 10
        assert original in (5, 7) and int(y) == {7: 0, 5: 1}[original]
    torch.testing.assert_close(labels_of(split), torch.stack([y for _, y in split]))


def test_class_split_with_few_labels_is_seeded_and_balanced(digits):
    a = class_split(digits, range(5, 10), per_class=2, seed=1)
    b = class_split(digits, range(5, 10), per_class=2, seed=1)
    c = class_split(digits, range(5, 10), per_class=2, seed=2)
    assert a.indices == b.indices and len(a) == 10
    assert torch.bincount(a.labels).tolist() == [2] * 5
    assert a.indices != c.indices
    nested = class_split(a, [0, 1])  # a split of a split: labels are the new ones
    assert len(nested) == 4 and nested.classes == [0, 1]


@pytest.mark.parametrize("kwargs, match", [({"classes": []}, "classes"),
                                           ({"classes": [1, 1]}, "distinct"),
                                           ({"classes": [1], "per_class": 5}, "fewer"),
                                           ({"classes": [1], "per_class": 0}, "per_class")])
def test_class_split_rejects_bad_requests(digits, kwargs, match):
    with pytest.raises(ValueError, match=match):
        class_split(digits, **kwargs)


def test_transformed_dataset_applies_the_transform(digits):
    flipped = TransformedDataset(digits, lambda X: -X)
    X, y = flipped[3]
    assert X.item() == -3 and int(y) == 3 and len(flipped) == 40
    augmented = TransformedDataset(TensorDataset(torch.rand(2, 1, 8, 8), torch.zeros(2)),
                                   v2.RandomHorizontalFlip(p=1.0))
    torch.testing.assert_close(augmented[0][0], torch.flip(augmented.dataset[0][0], dims=[-1]))


def test_freeze_all_but_the_head():
    model = lenet5()
    assert last_linear(model) == "11"
    freeze(model, except_="11")
    assert count_parameters(model) == (84 * 10 + 10, 61_706)
    assert [p.shape for p in trainable_parameters(model)] == [(10, 84), (10,)]
    unfreeze(model)
    assert count_parameters(model).trainable == 61_706


def test_freeze_covers_submodules_but_not_lookalike_names():
    model = nn.Sequential()
    model.add_module("layer1", nn.Linear(2, 2))
    model.add_module("layer10", nn.Linear(2, 2))
    freeze(model, except_=["layer1"])
    assert [n for n, p in model.named_parameters() if p.requires_grad] == [
        "layer1.weight", "layer1.bias"]


def test_freeze_rejects_unknown_names():
    with pytest.raises(ValueError, match="fc"):
        freeze(lenet5(), except_="fc")


def test_frozen_layers_do_not_change_in_training():
    torch.manual_seed(0)
    model = freeze(lenet5(activation="relu", pool="max"), except_="11")
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    data = TensorDataset(torch.rand(32, 1, 28, 28), torch.randint(0, 10, (32,)))
    loader = torch.utils.data.DataLoader(data, batch_size=16)
    optimizer = torch.optim.SGD(trainable_parameters(model), lr=0.5)
    fit(model, loader, num_epochs=1, optimizer=optimizer, device="cpu", progress=False)
    for name, p in model.named_parameters():
        assert torch.equal(p, before[name]) != name.startswith("11."), name


def test_replace_head_keeps_in_features_and_the_body():
    model = lenet5()
    body = [p.detach().clone() for p in model[:-1].parameters()]
    replace_head(model, 5)
    assert model[-1].in_features == 84 and model[-1].out_features == 5
    assert model(torch.rand(2, 1, 28, 28)).shape == (2, 5)
    for old, new in zip(body, model[:-1].parameters(), strict=True):
        assert torch.equal(old, new)
    resnet = replace_head(resnet18(), 3)
    assert last_linear(resnet) == "fc" and resnet.fc.out_features == 3
    with pytest.raises(ValueError, match="no nn.Linear"):
        last_linear(nn.Conv2d(1, 1, 1))


def test_param_groups_give_each_module_its_learning_rate():
    model = freeze(resnet18(), except_=["layer4", "fc"])
    groups = param_groups(model, {"fc": 1e-2, "layer4.1": 1e-3}, default_lr=1e-4)
    assert [(g["name"], g["lr"]) for g in groups] == [
        ("fc", 1e-2), ("layer4.1", 1e-3), ("default", 1e-4)]
    ids = {name: {id(p) for p in g["params"]} for name, g in
           ((g["name"], g) for g in groups)}  # fmt: skip
    assert ids["fc"] == {id(model.fc.weight), id(model.fc.bias)}
    assert ids["layer4.1"] == {id(p) for p in model.layer4[1].parameters()}
    assert ids["default"] == {id(p) for p in model.layer4[0].parameters()}
    optimizer = torch.optim.SGD(groups, lr=1.0)  # the groups' lr wins over the default
    assert [g["lr"] for g in optimizer.param_groups] == [1e-2, 1e-3, 1e-4]
    total = sum(p.numel() for g in groups for p in g["params"])
    assert total == count_parameters(model).trainable


def test_param_groups_skip_empty_groups():
    groups = param_groups(lenet5(), {"11": 0.1}, default_lr=0.01)
    assert [g["name"] for g in groups] == ["11", "default"]
    assert [g["name"] for g in param_groups(lenet5(), {}, default_lr=0.01)] == ["default"]


def test_load_pretrained_explains_a_failed_download(monkeypatch):
    def offline(*args, **kwargs):
        raise URLError("[Errno -2] Name or service not known")

    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", offline)
    with pytest.raises(PretrainedUnavailableError, match="could not be loaded") as info:
        load_pretrained(resnet18, ResNet18_Weights.DEFAULT)
    assert "URLError" in str(info.value) and isinstance(info.value.__cause__, URLError)


def test_load_pretrained_without_weights_builds_the_architecture():
    assert count_parameters(load_pretrained(resnet18, None)).total == 11_689_512


def test_labels_of_a_transformed_dataset_does_not_transform(digits):
    calls = []
    transformed = TransformedDataset(digits, lambda X: calls.append(1) or X)
    torch.testing.assert_close(labels_of(transformed), torch.arange(40) % 10)
    assert not calls, "reading the labels should not run the transform"
    split = class_split(transformed, [3], per_class=2)
    assert len(split) == 2 and not calls
