"""Lazy layers (``nn.LazyConv2d``, ``nn.LazyLinear``, ``nn.LazyBatchNorm2d``, ...).

The textbook (d2l) writes LeNet with lazy layers: a lazy layer learns its input size from
the first batch it sees, so its parameters have no shape, and cannot be counted, frozen or
handed to an optimizer, before one forward pass (``course/07_lenet.ipynb``).

:func:`materialize` runs that pass for you. What it guarantees:

- a model without uninitialized parameters or buffers is left alone (nothing runs);
- otherwise exactly ONE forward pass changes the model, in ``eval()`` mode under
  ``torch.no_grad()`` (batch-norm statistics stay untouched), and every module's training
  flag is restored; it draws from torch's random generator exactly what ``model(X)`` would
  draw to initialize the layers, so seeded code gives the same weights either way;
- the pass is tried first on a copy of the model: when it fails (a wrong input shape), the
  model is left as it was, still lazy, and :class:`MaterializeError` says which shape was
  used and how to pass the right one.

What it does not guarantee: a shape that runs but is not your data's (3 channels where
your images have 1) initializes the layers for that shape; build the model again.

Helpers that need parameter shapes but know no input shape call :func:`ensure_materialized`,
which raises :class:`UninitializedModelError` with the fix.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Sequence
from typing import Any

import torch
from torch import nn
from torch.nn.parameter import UninitializedBuffer, is_lazy

__all__ = [
    "MaterializeError",
    "UninitializedModelError",
    "ensure_materialized",
    "has_lazy",
    "lazy_layers",
    "materialize",
]

BATCH_SIZE = 2  # more than 1, so that a batch norm in training mode could take it too


class UninitializedModelError(ValueError):
    """A helper needs every parameter's shape, but some lazy layers have none yet."""


class MaterializeError(RuntimeError):
    """The forward pass that initializes the lazy layers failed; the model is unchanged.

    Attributes: ``batch_shape`` (the shape of the batch that was run, batch dimension
    first), ``lazy`` (the qualified names of the still uninitialized layers) and
    ``diagnosis`` (a :class:`cnnkit.summarize.ShapeMismatchError` locating a shape error,
    or ``None``).
    """

    batch_shape: tuple[int, ...]
    lazy: list[str]
    diagnosis: Exception | None


def _own_tensors(module: nn.Module) -> itertools.chain:
    return itertools.chain(module.parameters(recurse=False), module.buffers(recurse=False))


def lazy_layers(model: nn.Module) -> list[str]:
    """Qualified names of the modules that own an uninitialized parameter or buffer."""
    return [name or "(model)" for name, m in model.named_modules()
            if any(is_lazy(t) for t in _own_tensors(m))]  # fmt: skip


def has_lazy(model: nn.Module) -> bool:
    """Does ``model`` have an uninitialized parameter or buffer (a lazy layer not yet run)?"""
    return any(is_lazy(t) for t in itertools.chain(model.parameters(), model.buffers()))


def _describe(model: nn.Module, names: list[str], limit: int = 5) -> str:
    modules = dict(model.named_modules())
    parts = [f"'{n}' ({type(modules.get('' if n == '(model)' else n, model)).__name__})"
             for n in names[:limit]]  # fmt: skip
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return ", ".join(parts) + more


def ensure_materialized(
    model: nn.Module, input_shape: Sequence[int] | None = None, *, what: str
) -> None:
    """Materialize ``model`` with ``input_shape``, or check that it has no lazy layer left.

    Args:
        model: the network.
        input_shape: the shape of ONE example (no batch dimension), or ``None``.
        what: the caller's name for the message, e.g. ``"count_parameters"``.

    Raises:
        UninitializedModelError: ``input_shape`` is ``None`` and some lazy layers were never
            run; the message names them and says how to initialize them.
        MaterializeError: see :func:`materialize`.
    """
    if input_shape is not None:
        materialize(model, input_shape)
        return
    names = lazy_layers(model)
    if names:
        raise UninitializedModelError(
            f"{what} needs the shape of every parameter, but {type(model).__name__} has "
            f"uninitialized lazy layers: {_describe(model, names)}. A lazy layer learns its "
            "input size from the first batch it sees. Run one forward pass first "
            "(model(X) with a batch X from your DataLoader), or call "
            "cnnkit.materialize(model, (1, 28, 28)) with the shape of ONE example (no batch "
            f"dimension), or pass input_shape=(1, 28, 28) to {what}."
        )


def _first_tensor(Y: Any) -> torch.Tensor | None:
    if isinstance(Y, (tuple, list)):
        return next((y for y in Y if isinstance(y, torch.Tensor)), None)
    return Y if isinstance(Y, torch.Tensor) else None


def _run(model: nn.Module, X: torch.Tensor) -> None:
    """One forward pass in eval mode, no gradients; every training flag restored."""
    modes = {m: m.training for m in model.modules()}
    try:
        model.eval()
        with torch.no_grad():
            Y = _first_tensor(model(X))
    finally:
        for m, training in modes.items():
            m.training = training
    if Y is not None and Y.dim() >= 1 and X.dim() >= 1 and Y.shape[0] != X.shape[0]:
        raise RuntimeError(
            f"the model returned {Y.shape[0]} rows for a batch of {X.shape[0]} examples: a "
            "layer read the batch dimension as another one (a convolution given an "
            "(N, H, W) batch takes N for the channels)"
        )
    left = lazy_layers(model)
    if left:
        raise RuntimeError(f"forward() never called the lazy layers {_describe(model, left)}")


def _copy(model: nn.Module) -> nn.Module:
    """A deep copy; PyTorch cannot deep-copy an uninitialized buffer, so we make new ones."""
    memo: dict[int, Any] = {
        id(b): UninitializedBuffer(requires_grad=b.requires_grad, device=b.device, dtype=b.dtype)
        for b in model.buffers() if is_lazy(b) and not isinstance(b, nn.Parameter)
    }  # fmt: skip
    return copy.deepcopy(model, memo)


def _rng_devices(device: torch.device) -> list[int]:
    if device.type != "cuda":
        return []
    return [device.index if device.index is not None else torch.cuda.current_device()]


def _input(model: nn.Module, input_shape_or_example: Any, device: Any,
           dtype: torch.dtype) -> tuple[torch.Tensor, str]:  # fmt: skip
    """The batch to run and how to describe it in an error."""
    if device is None:  # an uninitialized parameter knows its device too
        tensors = itertools.chain(model.parameters(), model.buffers())
        device = next((t.device for t in tensors), torch.device("cpu"))
    if isinstance(input_shape_or_example, torch.Tensor):
        X = input_shape_or_example.to(device)
        return X, f"the example batch of shape {tuple(X.shape)}"
    shape = input_shape_or_example
    if (isinstance(shape, (str, bytes)) or not isinstance(shape, Sequence) or not shape
            or any(isinstance(d, bool) or not isinstance(d, int) or d < 1 for d in shape)):
        raise ValueError(
            f"input_shape must be the shape of ONE example without the batch dimension, a "
            f"tuple of positive ints such as (1, 28, 28), or a batch tensor X; got {shape!r}")
    shape = tuple(int(d) for d in shape)
    X = torch.zeros((BATCH_SIZE, *shape), dtype=dtype, device=device)
    return X, (f"a zeros batch of shape {tuple(X.shape)} (input_shape={shape} is the shape "
               f"of ONE example; the batch dimension N = {BATCH_SIZE} was added in front)")


def _diagnose(model: nn.Module, X: torch.Tensor) -> Exception | None:
    """cnnkit.summary's explanation of the failure, found on a copy of the model."""
    from cnnkit.summarize import ShapeMismatchError, _summary  # summarize imports us

    try:
        trial = _copy(model)
        with torch.random.fork_rng(devices=_rng_devices(X.device)):
            _summary(trial, tuple(X.shape[1:]), device=X.device, dtype=X.dtype)
    except ShapeMismatchError as err:  # located at a layer; "between layers" would only
        return err if err.layer_name else None  # mean a lazy layer's own hook failed
    except Exception:  # no located diagnosis: the message says what PyTorch said
        return None
    return None


def materialize(
    model: nn.Module,
    input_shape_or_example: Sequence[int] | torch.Tensor,
    *,
    device: torch.device | str | None = None,
    dtype: torch.dtype = torch.float32,
) -> nn.Module:
    """Initialize the lazy layers of ``model`` with one forward pass (``07_lenet``).

    ``materialize(net, (1, 28, 28))`` runs a zeros batch of shape ``(2, 1, 28, 28)``
    through ``net`` in ``eval()`` mode under ``torch.no_grad()`` if (and only if) ``net``
    has an uninitialized parameter or buffer (``torch.nn.parameter.is_lazy``), then
    restores every module's training flag. Afterwards ``nn.LazyConv2d`` layers are
    ``nn.Conv2d`` layers whose ``in_channels`` fit the input, and every helper that
    counts, freezes or optimizes parameters works.

    Args:
        model: the network, changed in place.
        input_shape_or_example: the shape of ONE example without the batch dimension,
            e.g. ``(1, 28, 28)``, or a batch ``X`` of real examples ``(N, C, H, W)``.
        device: where to run; default: where the model's parameters are (or the CPU).
        dtype: dtype of the zeros batch (ignored for a batch ``X``).

    Returns:
        ``model`` itself, so that ``net = materialize(build(), (1, 28, 28))`` chains.

    Raises:
        ValueError: ``input_shape_or_example`` is neither a shape nor a tensor.
        MaterializeError: the forward pass failed (the model is left unchanged); the
            message says which input was used and how to pass the right one.
    """
    X, used = _input(model, input_shape_or_example, device, dtype)
    if not has_lazy(model):
        return model
    try:
        trial = _copy(model)  # a failing pass must not initialize half the model
    except Exception:  # a module that cannot be copied: run on the model itself
        trial = None
    if trial is not None:
        try:
            with torch.random.fork_rng(devices=_rng_devices(X.device)):
                _run(trial, X)
        except Exception as err:
            raise _error(model, X, used, err, unchanged=True) from err
    try:
        _run(model, X)  # the same random draws as the trial: the generator was restored
    except Exception as err:
        raise _error(model, X, used, err, unchanged=False) from err
    return model


def _error(model: nn.Module, X: torch.Tensor, used: str, err: Exception, *,
           unchanged: bool) -> MaterializeError:  # fmt: skip
    name = type(model).__name__
    lazy = lazy_layers(model)
    diagnosis = _diagnose(model, X)
    hint = ""
    if X.dim() == 5:
        hint = (f" {tuple(X.shape[1:])} has 4 dimensions: if it includes the batch "
                f"dimension, leave it out: {tuple(X.shape[2:])}.")
    elif X.dim() == 3:
        hint = (f" Images need a channel dimension: (1, {X.shape[1]}, {X.shape[2]}) for "
                "gray images, (3, ...) for colour ones.")
    state = ("the model is unchanged" if unchanged else "the layers that ran before the "
             "failure were initialized for this input (build the model again if its "
             "channels were wrong)")
    lines = [
        f"cnnkit.materialize could not initialize the lazy layers of {name}: its forward "
        f"pass on {used} failed.",
        f"  fix: pass the shape of ONE example as your data has it, without the batch "
        f"dimension, e.g. materialize(model, (1, 28, 28)) for MNIST or Fashion-MNIST, or "
        f"a real batch: materialize(model, X) with X from your DataLoader.{hint}",
        f"  {state}; still uninitialized: {_describe(model, lazy)}.",
    ]
    if diagnosis is not None:
        lines.append("Where it fails (cnnkit.summary, one example):")
        lines += ["  " + line for line in str(diagnosis).splitlines()]
    lines.append(f"The error: {type(err).__name__}: {err}")
    error = MaterializeError("\n".join(lines))
    error.batch_shape, error.lazy, error.diagnosis = tuple(X.shape), lazy, diagnosis
    return error
