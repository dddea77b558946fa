"""Robust summaries of noisy timings, and A/B comparisons run in alternation.

Timings on a shared 2-core machine drift (other processes, CPU frequency, caches), so a
comparison never times one side and then the other: both run in the same process, in
alternation ``A, B, A, B, ...``, and what is reported is the median of the per-pair ratios
with its spread (min-max and the interquartile range), not a ratio of two averages.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Sequence
from typing import Any

from tqdm.auto import tqdm

__all__ = ["summarize", "ratio_summary", "alternate", "check"]


def _quantile(sorted_values: Sequence[float], q: float) -> float:
    """Linear-interpolation quantile (numpy's default) of already sorted values."""
    if len(sorted_values) == 1:
        return float(sorted_values[0])
    pos = q * (len(sorted_values) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    return float(sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo))


def summarize(values: Sequence[float]) -> dict[str, Any]:
    """``n``, ``median``, ``min``, ``max``, ``q1``, ``q3``, ``p95`` and ``mean`` of ``values``."""
    if not values:
        raise ValueError("nothing to summarize: no values were measured")
    s = sorted(float(v) for v in values)
    return {
        "n": len(s),
        "median": statistics.median(s),
        "min": s[0],
        "max": s[-1],
        "q1": _quantile(s, 0.25),
        "q3": _quantile(s, 0.75),
        "p95": _quantile(s, 0.95),
        "mean": statistics.fmean(s),
    }


def ratio_summary(a: Sequence[float], b: Sequence[float]) -> dict[str, Any]:
    """Per-pair ratios ``a[i] / b[i]``: their summary plus the list itself (``per_pair``)."""
    ratios = [x / y for x, y in zip(a, b, strict=True)]
    return {**summarize(ratios), "per_pair": ratios}


def alternate(
    run_a: Callable[[], float],
    run_b: Callable[[], float],
    *,
    pairs: int,
    warmup: int = 1,
    desc: str = "",
) -> dict[str, Any]:
    """Measure ``run_a`` and ``run_b`` in alternation and compare them pair by pair.

    Args:
        run_a: one measurement of side A (e.g. examples per second, or seconds).
        run_b: one measurement of side B, in the same unit.
        pairs: ``A, B`` pairs that count.
        warmup: pairs run first and thrown away (imports, caches, thread pools).
        desc: label of the progress bar.

    Returns:
        ``{"a": summary, "b": summary, "ratio": ratio_summary(a, b), "pairs": pairs}``
        where ``ratio`` is A over B.
    """
    a: list[float] = []
    b: list[float] = []
    for i in tqdm(range(warmup + pairs), desc=desc, unit="pair", leave=False):
        x, y = run_a(), run_b()
        if i >= warmup:
            a.append(x)
            b.append(y)
    return {"a": summarize(a), "b": summarize(b), "ratio": ratio_summary(a, b), "pairs": pairs}


def check(
    metric: str,
    value: float | None,
    target: str,
    ok: bool | None,
    spread: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One row of the results table: ``ok`` is ``None`` when there is nothing to judge.

    ``spread`` (a :func:`summarize` result) adds the IQR and min-max to the row.
    """
    row: dict[str, Any] = {"metric": metric, "value": value, "target": target, "ok": ok}
    if spread is not None:
        row["spread"] = {k: spread[k] for k in ("q1", "q3", "min", "max", "n")}
    return row
