"""Layer-by-layer summary of a model, and explanations of shape errors (``course/07_lenet.ipynb``).

``summary(lenet5(), (1, 28, 28))`` runs ONE zero example through the model with hooks
on every leaf module (a module without children) and tabulates, in call order, each
layer's output shape, parameters and MACs. Conventions:

- shapes are per example: the batch dimension is left out (error messages write it ``N``);
- ``macs`` are the multiply-accumulates of ONE example in convolution and linear layers
  only (bias additions, normalization, pooling and activations count 0); a FLOP counter
  such as ``torch.utils.flop_counter.FlopCounterMode`` reports 2 FLOPs per MAC;
- a row's ``params`` are those its module owns directly; ``total_params`` counts every
  parameter of the model once, including any held by containers.

When the layers do not fit together, :class:`ShapeMismatchError` names the failing
layer, the shape that reached it, what it expected, a fix, and the shapes so far.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import nn
from torch.nn.modules.conv import _ConvNd
from torch.nn.parameter import is_lazy

from cnnkit._shape_errors import _diagnose, _Diagnosis, _fmt, _size_that_fits, _xs
from cnnkit.lazy_layers import MaterializeError, has_lazy, materialize

__all__ = ["LayerRow", "ShapeMismatchError", "Summary", "summary"]

Shape = tuple[int, ...]


@dataclass(frozen=True)
class LayerRow:
    """One call of a leaf module; shapes are per example (no batch dimension)."""

    index: int
    name: str
    layer: str
    input_shape: Shape
    output_shape: Shape
    params: int
    macs: int
    trainable: int = 0


def _table(header: Sequence[str], cells: list[Sequence[str]], right: set[int]) -> list[str]:
    widths = [max(len(line[i]) for line in [header, *cells]) for i in range(len(header))]
    return [
        "  ".join(c.rjust(w) if i in right else c.ljust(w)
                  for i, (c, w) in enumerate(zip(line, widths, strict=True))).rstrip()
        for line in [header, *cells]
    ]  # fmt: skip


@dataclass(frozen=True, repr=False)
class Summary:
    """What :func:`summary` returns: ``rows`` and totals; prints as an aligned table."""

    rows: list[LayerRow]
    input_shape: Shape
    output_shape: Shape
    total_params: int
    trainable_params: int
    total_macs: int

    _HEADER = ("#", "name", "layer", "output shape", "params", "MACs")

    def _cells(self) -> list[tuple[str, ...]]:
        return [(str(r.index), r.name, r.layer, _fmt(r.output_shape), f"{r.params:,}",
                 f"{r.macs:,}") for r in self.rows]  # fmt: skip

    def _totals(self) -> str:
        return (f"total params: {self.total_params:,} (trainable {self.trainable_params:,})"
                f" | MACs: {self.total_macs:,} | input {_fmt(self.input_shape)}"
                f" -> output {_fmt(self.output_shape)}")  # fmt: skip

    def __str__(self) -> str:
        return "\n".join([*_table(self._HEADER, self._cells(), {0, 4, 5}), self._totals()])

    __repr__ = __str__

    def _repr_html_(self) -> str:
        def tr(cells: Sequence[str], tag: str) -> str:
            return "<tr>" + "".join(f"<{tag}>{html.escape(c)}</{tag}>" for c in cells) + "</tr>"

        body = "\n".join(tr(c, "td") for c in self._cells())
        foot = f'<tr><td colspan="6">{html.escape(self._totals())}</td></tr>'
        return (f"<table>\n<thead>{tr(self._HEADER, 'th')}</thead>\n<tbody>\n{body}\n</tbody>"
                f"\n<tfoot>{foot}</tfoot>\n</table>")  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        """Plain data (``rows`` as a list of dicts) for tests, pandas or JSON."""
        return asdict(self)


class ShapeMismatchError(RuntimeError):
    """A layer could not take the shape that reached it; the message says how to fix it.

    Attributes: ``layer_index`` (call order), ``layer_name`` (qualified name), ``layer``
    (the module's repr), ``input_shape`` (per example, no batch dimension), ``expected``
    and ``fix`` (text), ``trace`` (the :class:`LayerRow` of each layer that ran before).
    """

    layer_index: int
    layer_name: str
    layer: str
    input_shape: Shape
    expected: str
    fix: str
    trace: list[LayerRow]


class _Detected(Exception):
    """Raised by our hook when PyTorch accepted an input that we know is wrong."""


def _shape(Y: Any) -> Shape:
    """Per-example shape of a tensor (or of the first tensor of a tuple/list output)."""
    if isinstance(Y, (tuple, list)):
        Y = next((y for y in Y if isinstance(y, torch.Tensor)), None)
    return tuple(Y.shape[1:]) if isinstance(Y, torch.Tensor) else ()


def _macs(m: nn.Module, X: Any, Y: Any) -> int:
    """MACs of one call on a batch of ONE example: conv and linear layers only."""
    if not isinstance(Y, torch.Tensor):
        return 0
    if isinstance(m, _ConvNd):
        k = math.prod(m.kernel_size)
        if m.transposed:  # each input element is spread over out_channels/groups * k outputs
            return X.numel() * (m.out_channels // m.groups) * k
        return Y.numel() * (m.in_channels // m.groups) * k
    return Y.numel() * m.in_features if isinstance(m, nn.Linear) else 0


def _trace(rows: list[LayerRow], input_shape: Shape, failing: Sequence[str]) -> str:
    """The last rows as a small table, the failing call marked ``->`` at the bottom."""
    limit = 15
    cells = [("", "input", "", _fmt(input_shape))] if len(rows) <= limit else [
        ("", "...", f"({len(rows) - limit} earlier layers)", "")]
    cells += [(str(r.index), r.name, r.layer, _fmt(r.output_shape)) for r in rows[-limit:]]
    lines = _table(("#", "name", "layer", "output shape"), [*cells, failing], {0})
    return "\n".join(["    " + line for line in lines[:-1]] + [" -> " + lines[-1]])


@dataclass
class _Call:
    module: nn.Module
    X: Any
    diagnosis: _Diagnosis | None


def _explain(model: nn.Module, X: torch.Tensor, rows: list[LayerRow], call: _Call | None,
             name: str, err: Exception) -> ShapeMismatchError:  # fmt: skip
    """The error for a forward pass that failed after ``rows`` were recorded."""
    if call is None:  # the failure is in forward() code between layers (a view, a cat...)
        last = f"layer {rows[-1].index} '{rows[-1].name}' ({rows[-1].layer})" if rows else ""
        shape = rows[-1].output_shape if rows else tuple(X.shape[1:])
        layer = f"{type(model).__name__}.forward()"
        head = f"{layer} failed between layers, after {last or 'the input'}"
        diag = _Diagnosis(f"the code in {layer} after {last or 'the input'} failed on shape "
                          f"{_fmt(shape, batch=True)}",
                          "check the reshapes (view, reshape, flatten, cat) in forward() "
                          "against the shapes below")  # fmt: skip
        failing = ("", "", layer, "fails after this")
    else:
        shape, layer, cls = _shape(call.X), repr(call.module), type(call.module).__name__
        head = f"layer {len(rows)} '{name}' ({layer}) cannot take its input"
        diag = call.diagnosis or _Diagnosis(
            f"{cls} could not process an input of shape {_fmt(shape, batch=True)}",
            "compare what this layer needs with the output shapes of the layers before it")
        if diag.probe:
            size = _size_that_fits(model, X, diag.probe)
            diag.fix += (f", or resize the images to {_xs(size)} (the smallest larger size "
                         "this model runs on)" if size else ", or feed larger images")
        failing = (str(len(rows)), name, cls, f"fails on input {_fmt(shape)}")
    message = (f"{head}\n  input:    {_fmt(shape, batch=True)}  (N = batch size)\n"
               f"  expected: {diag.expected}\n  fix:      {diag.fix}\n"
               f"Shapes so far, per example (the batch dimension N is left out):\n"
               f"{_trace(rows, tuple(X.shape[1:]), failing)}")
    if not isinstance(err, _Detected):
        message += f"\nPyTorch's message: {err}"
    error = ShapeMismatchError(message)
    error.layer_index, error.layer_name, error.layer = len(rows), name, layer
    error.input_shape, error.expected, error.fix = shape, diag.expected, diag.fix
    error.trace = list(rows)
    return error


def summary(model: nn.Module, input_shape: Sequence[int], *,
            device: torch.device | str | None = None,
            dtype: torch.dtype = torch.float32) -> Summary:  # fmt: skip
    """Shapes, parameters and MACs of every layer (lecture ``course/07_lenet.ipynb``).

    Runs one zero example in ``eval()`` mode under ``torch.no_grad()`` (BatchNorm
    statistics stay untouched), then restores each module's training mode and removes
    the hooks, also when the forward pass fails. Lazy layers are initialized first by
    :func:`cnnkit.materialize` (a lazy model that fails is left uninitialized), so a lazy
    model and its eager twin get the same table.

    Args:
        model: the network, e.g. ``lenet5()``.
        input_shape: the shape of ONE example, WITHOUT the batch dimension, e.g.
            ``(1, 28, 28)``.
        device: where to run; default: the device of the model's parameters (or CPU).
        dtype: dtype of the zero example (``torch.long`` for token ids).

    Returns:
        A :class:`Summary`; ``print`` it, or let Jupyter show it as an HTML table.

    Raises:
        ShapeMismatchError: a layer could not take its input (a ``RuntimeError``; the
            PyTorch error is its ``__cause__``). The message names the layer, the shape
            that reached it, what it expected, a fix, and the shapes of the layers before.
        MaterializeError: the pass that initializes lazy layers failed for another reason.
    """
    input_shape = tuple(int(d) for d in input_shape)
    if has_lazy(model):
        try:
            materialize(model, input_shape, device=device, dtype=dtype)
        except MaterializeError as err:
            if isinstance(err.diagnosis, ShapeMismatchError):
                raise err.diagnosis from err.diagnosis.__cause__
            raise
    return _summary(model, input_shape, device=device, dtype=dtype)


def _summary(model: nn.Module, input_shape: Shape, *, device: torch.device | str | None,
             dtype: torch.dtype) -> Summary:  # fmt: skip
    """:func:`summary` without initializing lazy layers first (the hooked pass does it)."""
    if device is None:  # an uninitialized parameter knows its device too
        device = next((p.device for p in model.parameters()), "cpu")
    X = torch.zeros((1, *input_shape), dtype=dtype, device=device)  # a batch of one example
    names = {m: name or "(model)" for name, m in model.named_modules()}
    rows: list[LayerRow] = []
    stack: list[_Call] = []  # leaf calls that started and have not finished

    def pre(module: nn.Module, args: tuple[Any, ...]) -> None:
        X_in = args[0] if args else None
        stack.append(_Call(module, X_in, _diagnose(module, X_in, first=not rows)))

    def post(module: nn.Module, args: tuple[Any, ...], Y: Any) -> None:
        if stack[-1].diagnosis is not None:
            raise _Detected  # PyTorch took it (e.g. Conv2d on an unbatched 3-D input)
        call = stack.pop()
        own = [p for p in module.parameters(recurse=False) if not is_lazy(p)]
        rows.append(LayerRow(
            index=len(rows), name=names.get(module, ""), layer=type(module).__name__,
            input_shape=_shape(call.X), output_shape=_shape(Y),
            params=sum(p.numel() for p in own), macs=_macs(module, call.X, Y),
            trainable=sum(p.numel() for p in own if p.requires_grad)))  # fmt: skip

    modes = {m: m.training for m in model.modules()}
    leaves = [m for m in model.modules() if next(m.children(), None) is None]
    handles = [h for m in leaves
               for h in (m.register_forward_pre_hook(pre), m.register_forward_hook(post))]
    try:
        model.eval()
        with torch.no_grad():
            failure: Exception | None = None
            try:
                Y = model(X)
            except Exception as err:
                diagnosed = bool(stack) and stack[-1].diagnosis is not None
                if not (diagnosed or isinstance(err, (RuntimeError, ValueError, IndexError))):
                    raise  # not about shapes: let it through unchanged
                failure = err
            finally:
                for handle in handles:
                    handle.remove()
            if failure is not None:
                call = stack[-1] if stack else None
                name = names.get(call.module, "") if call else ""
                error = _explain(model, X, rows, call, name, failure)
                raise error from (None if isinstance(failure, _Detected) else failure)
    finally:
        for m, training in modes.items():
            m.training = training
    params = [p for p in model.parameters() if not is_lazy(p)]
    return Summary(rows=rows, input_shape=input_shape, output_shape=_shape(Y),
                   total_params=sum(p.numel() for p in params),
                   trainable_params=sum(p.numel() for p in params if p.requires_grad),
                   total_macs=sum(r.macs for r in rows))  # fmt: skip
