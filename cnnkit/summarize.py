"""Layer-by-layer summary of a model, and explanations of shape errors (``course/04_lenet.ipynb``).

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
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm
from torch.nn.modules.conv import _ConvNd
from torch.nn.parameter import is_lazy

__all__ = ["LayerRow", "ShapeMismatchError", "Summary", "summary"]

Shape = tuple[int, ...]
_POOLS = {nn.MaxPool1d: 1, nn.MaxPool2d: 2, nn.MaxPool3d: 3,
          nn.AvgPool1d: 1, nn.AvgPool2d: 2, nn.AvgPool3d: 3}  # fmt: skip
_LAYOUTS = {1: "(N, C, L)", 2: "(N, C, H, W)", 3: "(N, C, D, H, W)"}


@dataclass(frozen=True)
class LayerRow:
    """One call of a leaf module: shapes are per example (no batch dimension)."""

    index: int
    name: str
    layer: str
    input_shape: Shape
    output_shape: Shape
    params: int
    macs: int
    trainable: int = 0


def _fmt(shape: Sequence[int], batch: bool = False) -> str:
    """``(6, 28, 28)``, ``(10,)``, or with ``batch=True`` ``(N, 6, 28, 28)``."""
    dims = ["N"] * batch + [str(d) for d in shape]
    return "(" + ", ".join(dims) + ("," if len(dims) == 1 else "") + ")"


def _table(header: Sequence[str], cells: list[Sequence[str]], right: set[int]) -> list[str]:
    widths = [max(len(str(c[i])) for c in [header, *cells]) for i in range(len(header))]
    return [
        "  ".join(str(c).rjust(w) if i in right else str(c).ljust(w)
                  for i, (c, w) in enumerate(zip(line, widths, strict=True))).rstrip()
        for line in [header, *cells]
    ]  # fmt: skip


@dataclass(frozen=True, repr=False)
class Summary:
    """What :func:`summary` returns: ``rows`` plus totals; prints as a table."""

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
        return (f"<table>\n<thead>{tr(self._HEADER, 'th')}</thead>\n<tbody>\n{body}\n</tbody>\n"
                f"<tfoot><tr><td colspan=\"6\">{html.escape(self._totals())}</td></tr></tfoot>"
                "\n</table>")  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        """Plain data (``rows`` as a list of dicts) for tests, pandas or JSON."""
        return asdict(self)


class ShapeMismatchError(RuntimeError):
    """A layer could not take the shape that reached it; the message says how to fix it.

    Attributes: ``layer_index`` (call order), ``layer_name`` (qualified name), ``layer``
    (the module's repr), ``input_shape`` (per example, no batch dimension), ``expected``
    and ``fix`` (text), ``trace`` (the rows of the layers that ran before).
    """

    def __init__(self, message: str, *, layer_index: int, layer_name: str, layer: str,
                 input_shape: Shape, expected: str, fix: str, trace: list[LayerRow]) -> None:
        super().__init__(message)  # fmt: skip
        self.layer_index, self.layer_name, self.layer = layer_index, layer_name, layer
        self.input_shape, self.expected, self.fix, self.trace = input_shape, expected, fix, trace


class _Detected(Exception):
    """Raised by our hook when PyTorch accepted an input that we know is wrong."""


@dataclass
class _Diagnosis:
    expected: str
    fix: str
    probe: int = 0  # > 0: search for an image size that fits (number of spatial dims)


def _xs(seq: Sequence[int]) -> str:
    return "x".join(map(str, seq))


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def _check_linear(m: nn.Linear, X: torch.Tensor) -> _Diagnosis | None:
    if X.dim() < 2 or X.shape[-1] == m.in_features:
        return None
    n_in, n_out, shape = m.in_features, m.out_features, _fmt(X.shape[1:], batch=True)
    bias = "" if m.bias is not None else ", bias=False"
    if X.dim() >= 3:  # (N, C, H, W) reaching a Linear: the Flatten is missing
        n = math.prod(X.shape[1:])
        fix = f"add nn.Flatten() before this layer; then in_features must be {'*'.join(map(str, X.shape[1:]))} = {n}"  # noqa: E501
        fix += ", which already matches" if n == n_in else (
            f": use nn.Linear({n}, {n_out}{bias}) here, or nn.LazyLinear({n_out}) to infer it")
        return _Diagnosis(f"Linear expected in_features={n_in} features per example, but the "
                          f"input still has shape {shape}: it was not flattened", fix)
    return _Diagnosis(
        f"Linear expected in_features={n_in} but received {X.shape[-1]} features per example "
        f"(input shape {shape})",
        f"use nn.Linear({X.shape[-1]}, {n_out}{bias}) here, or nn.LazyLinear({n_out}) to infer "
        f"it; or change the layers before it so that they output {n_in} features",
    )


def _check_window(cls: str, kernel: Any, padding: Any, dilation: Any, X: torch.Tensor, n: int,
                  first: bool, conv: bool) -> _Diagnosis | None:  # fmt: skip
    """Does a kernel (conv or pool window) fit the padded input?"""
    if X.dim() < n + 1 or padding == "same":
        return None
    k, d = nn.modules.utils._ntuple(n)(kernel), nn.modules.utils._ntuple(n)(dilation)
    p = (0,) * n if padding == "valid" else nn.modules.utils._ntuple(n)(padding)
    size = tuple(X.shape[-n:])
    span = [d_ * (k_ - 1) + 1 for k_, d_ in zip(k, d, strict=True)]
    padded = [s + 2 * p_ for s, p_ in zip(size, p, strict=True)]
    if all(pd >= sp for pd, sp in zip(padded, span, strict=True)):
        return None
    expected = (f"{cls} kernel {_xs(k)} does not fit the padded input {_xs(padded)} "
                f"(input {_xs(size)}, padding {_xs(p) if len(set(p)) > 1 else p[0]})")
    if any(d_ > 1 for d_ in d):
        expected += f"; with dilation {_xs(d)} the kernel spans {_xs(span)}"
    fixes = []
    if conv:  # the padding that keeps the size (odd kernels), or at least enough to fit
        need = [max((sp - 1) // 2, -(-(sp - s) // 2)) for sp, s in zip(span, size, strict=True)]
        fixes.append(f"add padding={need[0] if len(set(need)) == 1 else tuple(need)}")
    small = [(pd - 1) // d_ + 1 for pd, d_ in zip(padded, d, strict=True)]
    fixes.append(f"use a smaller kernel (at most {_xs(small)} here)")
    if not first:
        fixes.append("remove a pooling layer (or a stride) earlier")
    return _Diagnosis(expected, ", ".join(fixes), probe=n)


def _check_conv(m: _ConvNd, X: torch.Tensor, first: bool) -> _Diagnosis | None:
    cls, n, c_i = type(m).__name__, len(m.kernel_size), m.in_channels
    per, want = tuple(X.shape[1:]), len(m.kernel_size) + 2
    if X.dim() != want:
        expected = (f"{cls} expects {want}-D input {_LAYOUTS.get(n, '')} but received "
                    f"{X.dim()}-D input of shape {_fmt(per, batch=True)}")
        if X.dim() > want:
            fix = "remove the extra dimension"
            if first and per[0] == 1:
                fix += f": summary()'s input_shape leaves out the batch: use {per[1:]}"
            return _Diagnosis(expected, fix)
        target: Shape | None = (1, *per) if X.dim() == want - 1 else None
        s = round((math.prod(per) / c_i) ** (1 / n)) if per else 0
        if target is None and c_i * s**n == math.prod(per):
            target = (c_i, *(s,) * n)
        if target is None:
            fix = f"reshape the input to {_LAYOUTS.get(n, '')} before this layer"
        elif first:
            fix = (f"give each example its channel dimension: input_shape={target}; for a "
                   f"batch X use X.reshape(-1, {', '.join(map(str, target))})")
        else:
            fix = f"add nn.Unflatten(1, {target}) before this layer"
        if X.dim() == 2 and not first:
            fix += ", or remove the nn.Flatten() before it"
        return _Diagnosis(expected, fix)
    if per[0] != c_i:
        rest = m.extra_repr().split(", ", 1)[1]
        fix = f"use nn.{cls}({per[0]}, {rest}) here, or nn.Lazy{cls}({rest}) to infer it"
        if first and per[0] == 1:
            fix += (f"; or convert the images, e.g. repeat the gray channel: "
                    f"X.repeat(1, {c_i}, 1, 1) or transforms.Grayscale(num_output_channels={c_i})")
        elif first and c_i == 1:
            fix += "; or convert the images to gray: transforms.Grayscale()"
        return _Diagnosis(f"{cls} expected {_plural(c_i, 'input channel')} (in_channels={c_i}) "
                          f"but the input has {_plural(per[0], 'channel')}, shape "
                          f"{_fmt(per, batch=True)}", fix)  # fmt: skip
    if m.transposed:
        return None
    return _check_window(cls, m.kernel_size, m.padding, m.dilation, X, n, first, conv=True)


def _diagnose(m: nn.Module, X: Any, first: bool) -> _Diagnosis | None:
    """Explain, before the layer runs, why it cannot take ``X``; ``None`` if it can."""
    if not isinstance(X, torch.Tensor):
        return None
    if isinstance(m, nn.Linear):
        return _check_linear(m, X)
    if isinstance(m, _ConvNd):
        return _check_conv(m, X, first)
    if isinstance(m, _BatchNorm) and X.dim() >= 2 and X.shape[1] != m.num_features:
        cls, c = type(m).__name__, X.shape[1]
        lazy = f", or nn.Lazy{cls}() to infer it" if hasattr(nn, f"Lazy{cls}") else ""
        return _Diagnosis(f"{cls} expected num_features={m.num_features} channels but the "
                          f"input has {_plural(c, 'channel')}, shape {_fmt(X.shape[1:], True)}",
                          f"use nn.{cls}({c}) here (the channels of the layer before){lazy}")  # fmt: skip
    n = next((n for cls, n in _POOLS.items() if isinstance(m, cls)), 0)
    if n and not m.ceil_mode:
        return _check_window(type(m).__name__, m.kernel_size, m.padding,
                             getattr(m, "dilation", 1), X, n, first, conv=False)  # fmt: skip
    return None


def _image_size_that_fits(model: nn.Module, X: torch.Tensor, n: int) -> Shape | None:
    """The smallest growth of the last ``n`` input dims that lets the whole model run."""
    if any(is_lazy(p) for p in model.parameters()):
        return None  # running would initialize lazy layers: leave the model as it is
    start = time.perf_counter()
    for t in range(1, 129):
        if time.perf_counter() - start > 2.0:
            return None
        size = tuple(d + t for d in X.shape[-n:])
        try:
            model(X.new_zeros((*X.shape[:-n], *size)))
        except Exception:  # noqa: S112 - any failure means: try a larger size
            continue
        return size
    return None


@dataclass
class _Call:
    module: nn.Module
    X: Any
    diagnosis: _Diagnosis | None


def _shape(Y: Any) -> Shape:
    """Per-example shape of a tensor (or of the first tensor of a tuple/list output)."""
    if isinstance(Y, (tuple, list)):
        Y = next((y for y in Y if isinstance(y, torch.Tensor)), None)
    return tuple(Y.shape[1:]) if isinstance(Y, torch.Tensor) else ()


def _macs(m: nn.Module, X: Any, Y: Any) -> int:
    """MACs of one call (the batch has one example): conv and linear layers only."""
    if not isinstance(Y, torch.Tensor):
        return 0
    if isinstance(m, _ConvNd):
        k = math.prod(m.kernel_size)
        if m.transposed:  # every input element is spread over out_channels/groups * k outputs
            return X.numel() * (m.out_channels // m.groups) * k
        return Y.numel() * (m.in_channels // m.groups) * k
    return Y.numel() * m.in_features if isinstance(m, nn.Linear) else 0


def _trace_text(rows: list[LayerRow], input_shape: Shape, failing: Sequence[str]) -> str:
    """The last rows as a small table, the failing call marked ``->`` at the bottom."""
    limit = 15
    cells = [("", "input", "", _fmt(input_shape))] if len(rows) <= limit else [
        ("", "...", f"({len(rows) - limit} earlier layers)", "")]
    cells += [(str(r.index), r.name, r.layer, _fmt(r.output_shape)) for r in rows[-limit:]]
    lines = _table(("#", "name", "layer", "output shape"), [*cells, failing], {0})
    return "\n".join(["    " + line for line in lines[:-1]] + [" -> " + lines[-1]])


def _explain(model: nn.Module, X: torch.Tensor, rows: list[LayerRow], call: _Call | None,
             names: dict[nn.Module, str], err: Exception) -> ShapeMismatchError:  # fmt: skip
    """Build the error for a forward pass that failed after ``rows`` were recorded."""
    index = len(rows)
    if call is None:  # the failure is in forward() code between layers (a view, a cat...)
        last = f"layer {rows[-1].index} '{rows[-1].name}' ({rows[-1].layer})" if rows else ""
        shape = rows[-1].output_shape if rows else tuple(X.shape[1:])
        name, layer = "", f"{type(model).__name__}.forward()"
        expected = (f"the code in {layer} after {last or 'the input'} failed on shape "
                    f"{_fmt(shape, batch=True)}")
        fix = "check the reshapes (view, reshape, flatten, cat) in forward() against the shapes"
        head = f"{layer} failed between layers, after {last or 'the input'}"
        failing = ("", "", layer, "fails after this")
    else:
        shape, name, layer = _shape(call.X), names.get(call.module, ""), repr(call.module)
        diag = call.diagnosis or _Diagnosis(
            f"{type(call.module).__name__} could not process an input of shape "
            f"{_fmt(shape, batch=True)}",
            "compare what this layer needs with the output shapes of the layers before it")
        expected, fix = diag.expected, diag.fix
        if diag.probe:
            size = _image_size_that_fits(model, X, diag.probe)
            fix += (f", or resize the images to {_xs(size)} (the smallest larger size this model"
                    f" runs on)" if size else ", or feed larger images")  # fmt: skip
        head = f"layer {index} '{name}' ({layer}) cannot take its input"
        failing = (str(index), name, type(call.module).__name__, f"fails on input {_fmt(shape)}")
    message = (f"{head}\n  input:    {_fmt(shape, batch=True)}  (N = batch size)\n"
               f"  expected: {expected}\n  fix:      {fix}\n"
               f"Shapes so far, per example (the batch dimension N is left out):\n"
               f"{_trace_text(rows, tuple(X.shape[1:]), failing)}")
    if not isinstance(err, _Detected):
        message += f"\nPyTorch's message: {err}"
    return ShapeMismatchError(message, layer_index=index, layer_name=name, layer=layer,
                              input_shape=shape, expected=expected, fix=fix, trace=list(rows))  # fmt: skip


def summary(model: nn.Module, input_shape: Sequence[int], *, device: torch.device | str | None = None,
            dtype: torch.dtype = torch.float32) -> Summary:  # fmt: skip
    """Shapes, parameters and MACs of every layer, as in lecture ``course/04_lenet.ipynb``.

    Runs one zero example in ``eval()`` mode under ``torch.no_grad()`` (so BatchNorm
    statistics are untouched), then restores every module's training mode and removes
    the hooks, also when the forward pass fails. Lazy layers get initialized.

    Args:
        model: the network, e.g. ``lenet5()``.
        input_shape: the shape of ONE example WITHOUT the batch dimension, e.g.
            ``(1, 28, 28)``.
        device: where to run; default: the device of the model's parameters (or CPU).
        dtype: dtype of the zero example (``torch.long`` for token ids).

    Returns:
        A :class:`Summary`; ``print`` it, or let Jupyter show it as an HTML table.

    Raises:
        ShapeMismatchError: a layer could not take its input (a ``RuntimeError``; the
            PyTorch error is its ``__cause__``). The message names the layer, the shape
            that reached it, what it expected, a fix, and the shapes of the layers before.
    """
    input_shape = tuple(int(d) for d in input_shape)
    if device is None:
        device = next((p.device for p in model.parameters() if not is_lazy(p)), "cpu")
    X = torch.zeros((1, *input_shape), dtype=dtype, device=device)  # a batch of one example
    names = {m: name or "(model)" for name, m in model.named_modules()}
    rows: list[LayerRow] = []
    stack: list[_Call] = []  # the leaf calls that started and have not finished

    def pre(module: nn.Module, args: tuple[Any, ...]) -> None:
        X_in = args[0] if args else None
        stack.append(_Call(module, X_in, _diagnose(module, X_in, first=not rows)))

    def post(module: nn.Module, args: tuple[Any, ...], Y: Any) -> None:
        call = stack[-1]
        if call.diagnosis is not None:
            raise _Detected
        stack.pop()
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
                    raise
                failure = err
            finally:
                for handle in handles:
                    handle.remove()
            if failure is not None:
                error = _explain(model, X, rows, stack[-1] if stack else None, names, failure)
                raise error from (None if isinstance(failure, _Detected) else failure)
    finally:
        for m, mode in modes.items():
            m.training = mode
    params = [p for p in model.parameters() if not is_lazy(p)]
    return Summary(rows=rows, input_shape=input_shape, output_shape=_shape(Y),
                   total_params=sum(p.numel() for p in params),
                   trainable_params=sum(p.numel() for p in params if p.requires_grad),
                   total_macs=sum(r.macs for r in rows))  # fmt: skip
