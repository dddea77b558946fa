"""Transfer learning: split tasks by class, freeze layers, one learning rate per group.

Introduced in ``course/11_transfer_learning.ipynb``. A network pretrained on a SOURCE task
(say digits 0-4) is reused on a TARGET task (digits 5-9, few labels) in one of three ways:

- **feature extraction**: :func:`freeze` everything but a new head (:func:`replace_head`),
  train only the head;
- **fine-tuning**: train everything, the pretrained layers with a smaller learning rate
  (:func:`param_groups`);
- **from scratch**: the same architecture, freshly initialized (the baseline).

Pretrained ImageNet networks come from torchvision's ``weights=`` API through
:func:`load_pretrained`, which says clearly when the weights cannot be downloaded.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, NamedTuple

import torch
from torch import nn
from torch.utils.data import Dataset, Subset, TensorDataset

from cnnkit.lazy_layers import ensure_materialized

__all__ = [
    "ClassSplit",
    "ParamCount",
    "PretrainedUnavailableError",
    "TransformedDataset",
    "class_split",
    "count_parameters",
    "freeze",
    "labels_of",
    "last_linear",
    "load_pretrained",
    "param_groups",
    "replace_head",
    "trainable_parameters",
    "unfreeze",
]


# ---------------------------------------------------------------------------- datasets


def labels_of(dataset: Dataset) -> torch.Tensor:
    """All labels ``(N,)`` int64 of a dataset of ``(X, y)`` pairs.

    Read without decoding images where the dataset keeps them apart (``TensorDataset``,
    torchvision's ``targets``, a ``Subset``, :class:`ClassSplit` or :class:`TransformedDataset`
    of those); otherwise every example is read once.
    """
    if isinstance(dataset, Subset):
        return labels_of(dataset.dataset)[torch.as_tensor(dataset.indices, dtype=torch.long)]
    if isinstance(dataset, ClassSplit):
        return dataset.labels
    if isinstance(dataset, TransformedDataset):  # transforms change X, never y
        return labels_of(dataset.dataset)
    if isinstance(dataset, TensorDataset):
        return dataset.tensors[1].long()
    targets = getattr(dataset, "targets", None)
    if targets is not None:
        return torch.as_tensor(targets, dtype=torch.int64)
    n = len(dataset)  # type: ignore[arg-type]
    return torch.tensor([int(dataset[i][1]) for i in range(n)], dtype=torch.int64)


class ClassSplit(Dataset):
    """The examples of some classes of a dataset, relabelled ``0..len(classes) - 1``.

    Built by :func:`class_split`; ``indices`` index the original dataset, ``labels`` are
    the new labels ``(N,)`` and ``classes[k]`` is the original label of new label ``k``.
    """

    def __init__(self, dataset: Dataset, indices: Sequence[int], classes: Sequence[int]):
        self.dataset = dataset
        self.indices = list(indices)
        self.classes = list(classes)
        new = {c: k for k, c in enumerate(self.classes)}
        old = labels_of(dataset)[torch.as_tensor(self.indices, dtype=torch.long)]
        self.labels = torch.tensor([new[int(c)] for c in old], dtype=torch.int64)

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, i: int) -> tuple[Any, torch.Tensor]:
        X, _ = self.dataset[self.indices[i]]
        return X, self.labels[i]


def class_split(
    dataset: Dataset,
    classes: Iterable[int],
    *,
    per_class: int | None = None,
    seed: int = 0,
) -> ClassSplit:
    """A new task made of some classes of ``dataset`` (``course/11_transfer_learning.ipynb``).

    Args:
        dataset: yields ``(X, y)``.
        classes: the original labels to keep; the ``k``-th becomes label ``k``.
        per_class: keep only this many examples of each class (a few-label task), a fixed
            random choice for a given ``seed``; ``None`` keeps them all.
        seed: seeds that choice.

    Returns:
        A :class:`ClassSplit` yielding ``(X, y_new)``, examples in their original order.

    Raises:
        ValueError: no class given, or a class with fewer than ``per_class`` examples.
    """
    classes = [int(c) for c in classes]
    if not classes or len(set(classes)) != len(classes):
        raise ValueError(f"classes must be distinct labels, at least one, got {classes}")
    if per_class is not None and per_class < 1:
        raise ValueError(f"per_class must be a positive int or None, got {per_class!r}")
    y = labels_of(dataset)
    generator = torch.Generator().manual_seed(seed)
    keep = []
    for c in classes:
        (where,) = torch.nonzero(y == c, as_tuple=True)
        if per_class is not None:
            if len(where) < per_class:
                raise ValueError(f"class {c} has {len(where)} examples, fewer than {per_class}")
            where = where[torch.randperm(len(where), generator=generator)[:per_class]]
        keep.append(where)
    indices = torch.cat(keep).sort().values.tolist()
    return ClassSplit(dataset, indices, classes)


class TransformedDataset(Dataset):
    """Applies ``transform`` to every ``X`` of ``dataset`` when it is read (augmentation).

    Wrap only the training set: the test set must stay the same at every evaluation.
    """

    def __init__(self, dataset: Dataset, transform: Callable[[torch.Tensor], torch.Tensor]):
        self.dataset = dataset
        self.transform = transform

    def __len__(self) -> int:
        return len(self.dataset)  # type: ignore[arg-type]

    def __getitem__(self, i: int) -> tuple[torch.Tensor, Any]:
        X, y = self.dataset[i]
        return self.transform(X), y


# ------------------------------------------------------------------------- parameters


class ParamCount(NamedTuple):
    """Trainable and total parameters of a model."""

    trainable: int
    total: int

    def __str__(self) -> str:
        return f"{self.trainable:,} of {self.total:,} parameters trainable"


def count_parameters(model: nn.Module, *, input_shape: Sequence[int] | None = None) -> ParamCount:
    """``(trainable, total)`` numbers of parameters (``requires_grad`` decides).

    A model with lazy layers (``nn.LazyLinear``...) needs ``input_shape``, the shape of ONE
    example such as ``(1, 28, 28)``, to initialize them (:func:`cnnkit.materialize`);
    without it, :class:`cnnkit.UninitializedModelError` says so.
    """
    ensure_materialized(model, input_shape, what="count_parameters")
    params = list(model.parameters())
    return ParamCount(sum(p.numel() for p in params if p.requires_grad),
                      sum(p.numel() for p in params))  # fmt: skip


def trainable_parameters(
    model: nn.Module, *, input_shape: Sequence[int] | None = None
) -> list[nn.Parameter]:
    """The parameters with ``requires_grad``: what an optimizer should update.

    ``input_shape`` initializes lazy layers first, as in :func:`count_parameters`.
    """
    ensure_materialized(model, input_shape, what="trainable_parameters")
    return [p for p in model.parameters() if p.requires_grad]


def _matches(name: str, prefixes: Sequence[str]) -> bool:
    """Does parameter ``name`` (e.g. ``"fc.weight"``) lie in a module named by a prefix?"""
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def freeze(
    model: nn.Module,
    *,
    except_: str | Sequence[str] = (),
    input_shape: Sequence[int] | None = None,
) -> nn.Module:
    """Stop gradients (``requires_grad=False``) for every parameter but those in ``except_``.

    Only ``requires_grad`` changes: batch-norm layers still update their running statistics
    in ``train()`` mode; put them in ``eval()`` mode too for a truly frozen backbone.

    Args:
        model: the network, changed in place.
        except_: qualified module names whose parameters stay trainable, e.g. ``"fc"`` or
            ``["layer4", "fc"]`` (a name covers its submodules: ``"layer4"`` includes
            ``"layer4.0.conv1"``).
        input_shape: the shape of ONE example, e.g. ``(1, 28, 28)``, to initialize lazy
            layers first (:func:`cnnkit.materialize`); needed only for a lazy model.

    Returns:
        ``model`` itself, so that ``freeze(model, except_="fc")`` can be chained.

    Raises:
        ValueError: a name in ``except_`` matches no parameter (a typo would otherwise
            freeze everything silently).
        UninitializedModelError: the model has lazy layers and no ``input_shape``.
    """
    ensure_materialized(model, input_shape, what="freeze")
    keep = [except_] if isinstance(except_, str) else list(except_)
    names = [name for name, _ in model.named_parameters()]
    unknown = [k for k in keep if not any(_matches(n, [k]) for n in names)]
    if unknown:
        modules = [name for name, _ in model.named_children()]
        raise ValueError(f"except_={unknown} names no parameters of the model; its top-level "
                         f"modules are {modules}")  # fmt: skip
    for name, p in model.named_parameters():
        p.requires_grad_(_matches(name, keep))
    return model


def unfreeze(model: nn.Module, *, input_shape: Sequence[int] | None = None) -> nn.Module:
    """Make every parameter trainable again (``requires_grad=True``); returns ``model``.

    ``input_shape`` initializes lazy layers first, as in :func:`freeze`.
    """
    ensure_materialized(model, input_shape, what="unfreeze")
    for p in model.parameters():
        p.requires_grad_(True)
    return model


def last_linear(model: nn.Module) -> str:
    """Qualified name of the last ``nn.Linear`` of ``model``: its classifier head.

    ``"11"`` for ``lenet5()`` (an ``nn.Sequential``), ``"fc"`` for torchvision's ResNets.
    """
    names = [name for name, m in model.named_modules() if isinstance(m, nn.Linear)]
    if not names:
        raise ValueError(f"{type(model).__name__} has no nn.Linear layer to act as its head")
    return names[-1]


def replace_head(model: nn.Module, num_classes: int) -> nn.Module:
    """Swap the last ``nn.Linear`` for a fresh one with ``num_classes`` outputs (in place).

    The new head has the old one's ``in_features``, its own random initialization, and
    lives on the same device; an uninitialized ``nn.LazyLinear`` head is replaced by a
    new ``nn.LazyLinear``. Returns ``model``.
    """
    name = last_linear(model)
    parent_name, _, child = name.rpartition(".")
    parent = model.get_submodule(parent_name)
    old = parent.get_submodule(child)
    if isinstance(old, nn.LazyLinear):  # still lazy: in_features is not known yet
        new = nn.LazyLinear(num_classes, bias=old.bias is not None)
    else:
        new = nn.Linear(old.in_features, num_classes, bias=old.bias is not None)
    setattr(parent, child, new.to(old.weight.device))
    return model


def param_groups(
    model: nn.Module,
    lr_by_module: Mapping[str, float],
    *,
    default_lr: float,
    input_shape: Sequence[int] | None = None,
) -> list[dict[str, Any]]:
    """Optimizer parameter groups: one learning rate per named module, frozen ones left out.

    ``torch.optim.Adam(param_groups(model, {"fc": 1e-3}, default_lr=1e-4))`` trains the head
    ``fc`` ten times faster than the pretrained layers (``course/11_transfer_learning.ipynb``).

    Args:
        model: the network.
        lr_by_module: qualified module name -> learning rate of its parameters. A
            parameter takes the entry of its longest matching name.
        default_lr: learning rate of the trainable parameters no entry covers.
        input_shape: the shape of ONE example, to initialize lazy layers first (an
            optimizer must not be built over uninitialized parameters).

    Returns:
        A list of ``{"name", "params", "lr"}`` dicts, one per entry with trainable
        parameters, then ``"default"``; parameters with ``requires_grad=False`` are omitted.
    """
    ensure_materialized(model, input_shape, what="param_groups")
    by_length = sorted(lr_by_module, key=len, reverse=True)
    groups: dict[str, list[nn.Parameter]] = {name: [] for name in [*lr_by_module, "default"]}
    for name, p in model.named_parameters():
        if p.requires_grad:
            owner = next((m for m in by_length if _matches(name, [m])), "default")
            groups[owner].append(p)
    lrs = {**lr_by_module, "default": default_lr}
    return [{"name": name, "params": params, "lr": lrs[name]}
            for name, params in groups.items() if params]  # fmt: skip


# ------------------------------------------------------------------------- pretrained


class PretrainedUnavailableError(RuntimeError):
    """Pretrained weights could not be loaded (typically: no network to download them)."""


def load_pretrained(builder: Callable[..., nn.Module], weights: Any) -> nn.Module:
    """``builder(weights=weights)``, e.g. ``load_pretrained(resnet18, ResNet18_Weights.DEFAULT)``.

    torchvision downloads the weights once into ``~/.cache/torch/hub``; preprocess inputs
    with ``weights.transforms()`` (the resizing and normalization the network was trained
    with) and name its outputs with ``weights.meta["categories"]``.

    Raises:
        PretrainedUnavailableError: the download failed; the message says why and what to
            do (the lecture then goes on with a network it pretrains itself).
    """
    try:
        return builder(weights=weights)
    except (OSError, RuntimeError) as err:  # URLError is an OSError
        reason = " ".join(str(err).split())[:300]
        raise PretrainedUnavailableError(
            f"the pretrained weights {weights} could not be loaded ({type(err).__name__}: "
            f"{reason}). With a network connection they are downloaded once into "
            f"{torch.hub.get_dir()}/checkpoints; without one, pretrain a small network "
            "yourself (course/11_transfer_learning.ipynb shows how)."
        ) from err
