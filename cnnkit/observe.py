"""Report what a test cell observed to the grader (used by the assignments in ``source/``).

A grade cell computes values from the student's code and hands each one to
:func:`observe`. While a notebook is graded (the sandbox sets ``CNNKIT_OBSERVE=1``),
``observe`` publishes the value as plain JSON in a display message of its own MIME type.
The grader, in another process, collects those messages per cell and compares them with
the values the instructor's solution produced; the rule for the comparison (exact, close,
at least, at most) is taken from the solution's run, never from the student's. Nothing the
student's code patches in the kernel (``assert``, ``torch.allclose``, ``__eq__``) can turn a
wrong value into a right one: the grader decides.

Outside grading (JupyterLab, nbmake) ``observe`` only returns its value, so the cell's own
``assert`` statements give students their immediate feedback.
"""

from __future__ import annotations

import math
import os
import sys
from typing import Any

__all__ = ["MIME", "ENV_VAR", "observe", "encode"]

MIME = "application/vnd.cnn-course.observation+json"
ENV_VAR = "CNNKIT_OBSERVE"
MAX_ELEMENTS = 1_000_000

_PLAIN = (bool, int, str, type(None))


def _float(x: float) -> float | str:
    return x if math.isfinite(x) else repr(x)  # JSON has no nan/inf: "nan", "inf", "-inf"


def encode(value: Any, *, _path: str = "value") -> Any:
    """Turn ``value`` into plain JSON data, refusing anything else.

    Accepted: ``bool``, ``int``, ``float``, ``str``, ``None``, lists/tuples of those, dicts
    with string keys, ``torch.Size``, ``torch.dtype``, tensors and NumPy arrays or scalars
    (as ``{"tensor": {"shape", "dtype", "data"}}``). Types are checked exactly: an object
    that merely claims to be equal to everything is refused, not trusted.

    Raises:
        TypeError: for any other type, naming where in ``value`` it was found.
    """
    kind = type(value)
    if kind in _PLAIN:
        return value
    if kind is float:
        return _float(value)
    if kind in (list, tuple):
        return [encode(v, _path=f"{_path}[{i}]") for i, v in enumerate(value)]
    if kind is dict:
        if not all(type(k) is str for k in value):
            raise TypeError(f"{_path}: dict keys must be strings to be observed")
        return {k: encode(v, _path=f"{_path}[{k!r}]") for k, v in value.items()}
    torch = sys.modules.get("torch")
    if torch is not None:
        if kind is torch.Size:
            return [int(v) for v in value]
        if kind is torch.dtype:
            return str(value)
        if isinstance(value, torch.Tensor):  # subclasses too, read as plain tensors
            return _tensor(value.detach().as_subclass(torch.Tensor), _path)
    np = sys.modules.get("numpy")
    if np is not None and type(value) in (np.bool_, np.int8, np.int16, np.int32, np.int64,
                                          np.uint8, np.uint16, np.uint32, np.uint64,
                                          np.float16, np.float32, np.float64):
        return encode(value.item(), _path=_path)  # a NumPy scalar is a plain number
    if np is not None and isinstance(value, np.ndarray) and torch is not None:
        return _tensor(torch.as_tensor(value), _path)
    raise TypeError(
        f"{_path}: the grader records numbers, strings, lists, dicts and tensors, "
        f"not {kind.__module__}.{kind.__qualname__}"
    )


def _tensor(t: Any, path: str) -> dict[str, Any]:
    if t.numel() > MAX_ELEMENTS:
        raise TypeError(f"{path}: a tensor of {t.numel():,} elements is too large to observe")
    flat = t.cpu().reshape(-1)
    if flat.is_complex():
        raise TypeError(f"{path}: complex tensors cannot be observed")
    data = flat.tolist()
    if flat.is_floating_point():
        data = [_float(float(x)) for x in data]
    else:
        data = [int(x) for x in data]
    return {"tensor": {"shape": list(t.shape), "dtype": str(t.dtype), "data": data}}


def observe(
    key: str,
    value: Any,
    *,
    close: bool = False,
    atol: float = 1e-5,
    rtol: float = 1.3e-6,
    at_least: float | None = None,
    at_most: float | None = None,
) -> Any:
    """Report ``value`` under ``key`` to the grader and return it unchanged.

    Args:
        key: name of the observation, unique within the grade cell.
        value: what the test observed (see :func:`encode` for the accepted types).
        close: compare numbers and tensors with ``atol``/``rtol`` instead of exactly.
        at_least: pass when the observed number is at least this (e.g. an accuracy).
        at_most: pass when the observed number is at most this.

    The comparison options matter only in the instructor's solution run, which sets the
    rule; in a student's run they are ignored.
    """
    if type(key) is not str or not key:
        raise TypeError("observe: key must be a non-empty string")
    if os.environ.get(ENV_VAR) != "1":
        return value
    rule: dict[str, Any] = {"check": "equal"}
    if at_least is not None or at_most is not None:
        rule = {"check": "bounds", "at_least": at_least, "at_most": at_most}
    elif close:
        rule = {"check": "close", "atol": float(atol), "rtol": float(rtol)}
    payload = {"key": key, "value": encode(value), "rule": rule}
    from IPython.display import publish_display_data

    publish_display_data({MIME: payload})
    return value
