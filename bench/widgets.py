"""Section ``widgets``: from a control change to the updated output, per widget.

Each widget of :mod:`cnnkit.widgets` is built as a notebook builds it and one control is
switched back and forth between two values. ipywidgets runs observers synchronously in
Python, so the time of ``control.value = v`` is the time until the widget's images and
state are updated (what the browser then draws is not included). The widget's own
``last_render_s`` is recorded beside it. Target: median < 100 ms for widgets that run no
model; those that run one (marked ``runs_model``) cache its outputs, so their first
change (``first_ms``) is the costly one.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import ipywidgets as widgets
from tqdm.auto import tqdm

from bench.stats import check, summarize

__all__ = ["WIDGETS", "TARGET_MS", "other_value", "time_changes", "run"]

TARGET_MS = 100.0


@dataclass(frozen=True)
class WidgetCase:
    name: str
    build: Callable[[], Any]
    control: str
    runs_model: bool


def _activation_viewer() -> Any:
    from cnnkit.data import load_dataset
    from cnnkit.models import lenet5
    from cnnkit.train import set_seed
    from cnnkit.widgets import activation_viewer

    set_seed(0)  # an untrained LeNet computes exactly as much as a trained one
    return activation_viewer(lenet5(activation="relu", pool="max"),
                             load_dataset("mnist-5k", train=False))  # fmt: skip


def _factory(name: str) -> Callable[[], Any]:
    def build() -> Any:
        import cnnkit.widgets

        return getattr(cnnkit.widgets, name)()

    return build


WIDGETS = (
    WidgetCase("conv_explorer", _factory("conv_explorer"), "stride", runs_model=False),
    WidgetCase("kernel_playground", _factory("kernel_playground"), "preset", runs_model=False),
    WidgetCase("channel_mixer", _factory("channel_mixer"), "preset", runs_model=False),
    WidgetCase("pooling_explorer", _factory("pooling_explorer"), "mode", runs_model=False),
    WidgetCase("activation_viewer", _activation_viewer, "index", runs_model=True),
    WidgetCase("architecture_comparer", _factory("architecture_comparer"), "scale",
               runs_model=True),  # builds the networks and runs a forward pass for the shapes
    WidgetCase("augmentation_viewer", _factory("augmentation_viewer"), "degrees",
               runs_model=False),
)  # fmt: skip


def other_value(control: widgets.Widget) -> Any:
    """A valid value of ``control`` different from its current one."""
    if hasattr(control, "_options_values"):  # Dropdown, ToggleButtons, SelectionSlider, ...
        others = [v for v in control._options_values if v != control.value]
        if others:
            return others[0]
    elif hasattr(control, "step") and hasattr(control, "max"):  # IntSlider, FloatSlider
        up = control.value + control.step
        return up if up <= control.max else control.value - control.step
    raise ValueError(f"no second value for {type(control).__name__} {control.description!r}")


def time_changes(explorer: Any, control_name: str, changes: int) -> dict[str, Any]:
    """Alternate ``control_name`` between its value and another ``changes`` times."""
    control = explorer.controls[control_name]
    values = (other_value(control), control.value)
    wall, render, redraws = [], [], []
    for i in range(changes):
        before = explorer.renders
        start = time.perf_counter()
        control.value = values[i % 2]
        wall.append((time.perf_counter() - start) * 1000)
        render.append(explorer.last_render_s * 1000)
        redraws.append(explorer.renders - before)
    if not any(redraws):
        raise RuntimeError(f"changing {control_name!r} did not redraw the widget")
    return {
        "control": control_name,
        "values": [repr(v) for v in values],
        "changes": changes,
        "ms": summarize(wall),
        "render_ms": summarize(render),
        "first_ms": wall[:2],
        "redraws_per_change": summarize(redraws)["median"],
    }


def run(*, quick: bool = False) -> dict[str, Any]:
    """Every widget, 40 changes each (6 in ``quick``)."""
    changes = 6 if quick else 40
    results: dict[str, Any] = {}
    summary = []
    for case in tqdm(WIDGETS, desc="widgets", unit="widget", leave=False):
        start = time.perf_counter()
        explorer = case.build()
        build_ms = (time.perf_counter() - start) * 1000
        timing = time_changes(explorer, case.control, changes)
        results[case.name] = {"runs_model": case.runs_model, "build_ms": build_ms, **timing}
        median = timing["ms"]["median"]
        if case.runs_model:
            summary.append(check(f"{case.name} median ms (runs a model)", median,
                                 "(no target)", None, timing["ms"]))  # fmt: skip
        else:
            summary.append(check(f"{case.name} median ms", median, f"< {TARGET_MS:.0f}",
                                 median < TARGET_MS, timing["ms"]))  # fmt: skip
    return {"target_ms": TARGET_MS, "widgets": results, "summary": summary}
