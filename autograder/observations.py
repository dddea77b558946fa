"""The grader's side of ``cnnkit.observe``: collect observations and decide test cells.

A grade cell earns its points only when, in the cell's own outputs:
- every observation the instructor's solution made in that cell arrived exactly once,
- each passes the solution's rule (exact, close, bounds) against the solution's value,
- and the cell raised no error.
All of this is decided here, in the grader's process, from plain JSON the kernel sent;
the reference values and rules never enter the student's sandbox.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from cnnkit.observe import MIME

__all__ = ["MIME", "Verdict", "collect", "strip", "decide", "references_from"]


@dataclass(frozen=True)
class Verdict:
    passed: bool
    reason: str  # empty when passed; otherwise a sentence for the student


def collect(cell: dict) -> list[tuple[str, Any, dict]]:
    """The (key, value, rule) observations in one cell's outputs, in order."""
    found = []
    for out in cell.get("outputs", []):
        if out.get("output_type") not in ("display_data", "execute_result"):
            continue
        payload = out.get("data", {}).get(MIME)
        if isinstance(payload, dict) and isinstance(payload.get("key"), str):
            rule = payload.get("rule") if isinstance(payload.get("rule"), dict) else {}
            found.append((payload["key"], payload.get("value"), rule))
    return found


def strip(cell: dict) -> None:
    """Remove observation outputs from a cell (they are for the grader, not for people)."""
    if "outputs" in cell:
        cell["outputs"] = [o for o in cell["outputs"] if MIME not in o.get("data", {})]


def references_from(cell: dict) -> dict[str, dict]:
    """Reference entries ``{key: {"value", "rule"}}`` from a solution run's cell.

    Raises:
        ValueError: when the solution observed a key twice in one cell.
    """
    refs: dict[str, dict] = {}
    for key, value, rule in collect(cell):
        if key in refs:
            raise ValueError(f"the solution observed {key!r} twice in one cell")
        refs[key] = {"value": value, "rule": rule or {"check": "equal"}}
    return refs


def _has_error(cell: dict) -> str:
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            return f"{out.get('ename', 'Error')}: {out.get('evalue', '')}".strip()
    return ""


def decide(cell: dict, refs: dict[str, dict]) -> Verdict:
    """Decide one executed grade cell against its reference entries."""
    if not refs:
        return Verdict(False, "the grader has no reference for this test")
    seen: dict[str, list[Any]] = {}
    for key, value, _rule in collect(cell):
        seen.setdefault(key, []).append(value)
    error = _has_error(cell)
    for key, ref in refs.items():
        values = seen.get(key, [])
        if not values:
            return Verdict(False, error or f"the test stopped before checking {key!r}")
        if len(values) > 1:
            return Verdict(False, f"{key!r} was reported {len(values)} times; expected once")
        problem = _compare(values[0], ref["value"], ref["rule"])
        if problem:
            return Verdict(False, f"{key!r}: {problem}")
    if error:
        return Verdict(False, error)
    return Verdict(True, "")


def _compare(got: Any, want: Any, rule: dict) -> str:
    check = rule.get("check", "equal")
    if check == "bounds":
        if type(got) not in (int, float):
            return "expected a number"
        lo, hi = rule.get("at_least"), rule.get("at_most")
        if lo is not None and not got >= lo:
            return f"{got:.4g} is below the required {lo:g}"
        if hi is not None and not got <= hi:
            return f"{got:.4g} is above the allowed {hi:g}"
        return ""
    if check == "close":
        return _close(got, want, float(rule.get("atol", 1e-5)), float(rule.get("rtol", 1.3e-6)))
    return "" if _same(got, want) else "the value is not the expected one"


def _same(a: Any, b: Any) -> bool:
    """Exact equality of JSON data, with types compared too (1 is not True, 1 is not 1.0)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return a == b


def _num(x: Any) -> float | None:
    if type(x) in (int, float):
        return float(x)
    if x in ("nan", "inf", "-inf"):
        return float(x)
    return None


def _close(got: Any, want: Any, atol: float, rtol: float) -> str:
    if isinstance(want, dict) and "tensor" in want:
        if not (isinstance(got, dict) and isinstance(got.get("tensor"), dict)):
            return "expected a tensor"
        g, w = got["tensor"], want["tensor"]
        if g.get("shape") != w["shape"]:
            return f"shape {g.get('shape')} differs from the expected shape {w['shape']}"
        gd = g.get("data")
        if not isinstance(gd, list) or len(gd) != len(w["data"]):
            return "malformed tensor data"
        worst = 0.0
        for x, y in zip(gd, w["data"], strict=True):
            fx, fy = _num(x), _num(y)
            if fx is None or fy is None:
                return "the tensor holds something other than numbers"
            if math.isnan(fy) and math.isnan(fx):
                continue
            diff = abs(fx - fy)
            if not diff <= atol + rtol * abs(fy):
                worst = max(worst, diff) if math.isfinite(diff) else math.inf
        if worst:
            return f"values differ from the expected ones (largest difference {worst:.3g})"
        return ""
    if isinstance(want, list):
        if not isinstance(got, list) or len(got) != len(want):
            return "expected a list of the same length"
        for x, y in zip(got, want, strict=True):
            problem = _close(x, y, atol, rtol)
            if problem:
                return problem
        return ""
    fw, fg = _num(want), _num(got)
    if fw is not None and fg is None and isinstance(got, dict) and "tensor" in got:
        data = got["tensor"].get("data")  # a one-element tensor stands for its number
        fg = _num(data[0]) if isinstance(data, list) and len(data) == 1 else None
    if fw is not None:
        if fg is None:
            return "expected a number"
        if math.isnan(fw) and math.isnan(fg):
            return ""
        if not abs(fg - fw) <= atol + rtol * abs(fw):
            return f"{fg:.6g} differs from the expected value"
        return ""
    return "" if _same(got, want) else "the value is not the expected one"
