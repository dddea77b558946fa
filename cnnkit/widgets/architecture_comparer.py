"""The modern CNNs side by side: parameters, MACs and shapes (``course/10_modern_cnns.ipynb``).

The numbers come from :func:`cnnkit.models.compare` (cached, models built on the meta
device); :func:`comparison_table` turns its rows into HTML and :func:`cost_figure` draws
parameters and MACs as bars on a log scale. The widget is layout and wiring.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any, Literal

import ipywidgets as widgets
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, NullLocator

from cnnkit.widgets._a11y import AltImage
from cnnkit.widgets._base import Explorer, figure_png

__all__ = ["architecture_comparer", "comparison_table", "cost_figure", "describe_costs", "human"]

DEFAULT_NAMES = ("AlexNet", "VGG-11", "GoogLeNet", "ResNet-18", "EfficientNet-B0")
_SORT_KEYS = {"year": "year", "parameters": "params", "MACs": "macs"}


def human(n: float) -> str:
    """``61_100_840 -> "61.1 M"``: three significant digits and a k/M/G suffix."""
    for factor, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(n) >= factor:
            return f"{n / factor:.3g} {suffix}"
    return f"{n:.3g}"


def comparison_table(rows: Sequence[dict[str, Any]], *, missing: Sequence[str] = ()) -> str:
    """An HTML table of rows from :func:`cnnkit.models.compare` (exact counts, with commas).

    Args:
        rows: dicts with ``name``, ``year``, ``params``, ``macs``, ``output_shape``,
            ``layers`` and ``idea``.
        missing: names without this variant, listed below the table.
    """
    head = ("architecture", "year", "parameters", "MACs per image", "output shape",
            "conv + dense layers", "idea")  # fmt: skip
    def cells(r: dict[str, Any]) -> tuple[object, ...]:
        if r.get("macs") is None:  # a fixed-size classifier that does not take this size
            return (r["name"], r["year"], f"{r['params']:,}", "does not take this input size",
                    "—", "—", r.get("error") or r["idea"])  # fmt: skip
        return (r["name"], r["year"], f"{r['params']:,}", f"{r['macs']:,}",
                "×".join(map(str, r["output_shape"])), r["layers"], r["idea"])  # fmt: skip

    pad = "style='padding: 2px 10px 2px 0; text-align: left; vertical-align: top'"
    body = "".join(
        "<tr>" + "".join(f"<td {pad}>{html.escape(str(c))}</td>" for c in cells(r)) + "</tr>"
        for r in rows
    )
    note = (f"<p><i>no such variant: {html.escape(', '.join(missing))}</i></p>" if missing
            else "")  # fmt: skip
    return (
        "<table style='border-collapse: collapse; font-size: 90%'><thead><tr>"
        + "".join(f"<th {pad}>{h}</th>" for h in head)
        + f"</tr></thead><tbody>{body}</tbody></table>{note}"
    )


def describe_costs(rows: Sequence[dict[str, Any]], *, title: str = "") -> str:
    """The text alternative of :func:`cost_figure`: every bar's number, in words."""
    if not rows:
        return "Empty bar chart: no network chosen."
    bars = "; ".join(
        f"{r['name']}: {human(r['params'])} parameters, "
        + (f"{human(r['macs'])} MACs" if r.get("macs") else "does not take this input size")
        for r in rows
    )
    return (f"Two bar charts on log scales{', ' + title if title else ''}: parameters (left) "
            f"and MACs per image (right), one bar per network, top to bottom: {bars}.")  # fmt: skip


def cost_figure(rows: Sequence[dict[str, Any]], *, title: str = "") -> Figure:
    """Horizontal bars of parameters and MACs per architecture, log-scaled x axes."""
    height = 0.9 + 0.3 * max(len(rows), 1)
    fig = Figure(figsize=(8, height))
    # Fixed margins: a layout engine would triple the time to draw.
    fig.subplots_adjust(left=0.16, right=0.96, top=1 - 0.3 / height, bottom=0.55 / height,
                        wspace=0.06)
    names = [r["name"] for r in rows][::-1]  # top to bottom in table order
    for ax, key, label, color in zip(fig.subplots(1, 2, sharey=True),
                                     ("params", "macs"), ("parameters", "MACs per image"),
                                     ("tab:blue", "tab:orange"), strict=True):  # fmt: skip
        values = [r[key] or 0 for r in rows][::-1]  # no MACs: the input size does not fit
        bars = ax.barh(names, [v or float("nan") for v in values], color=color)
        ax.set_xscale("log")
        # Plain "10 M" tick labels, no minor ticks: log-scale defaults (mathtext 10^7 and
        # many minor ticks) cost most of a redraw.
        ax.xaxis.set_minor_locator(NullLocator())
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: human(v)))
        ax.set_xlabel(f"{label} (log scale)")
        ax.bar_label(bars, labels=[human(v) if v else "does not fit" for v in values],
                     padding=2, fontsize=8)
        shown = [v for v in values if v]
        if shown:
            ax.set_xlim(min(shown) / 3, max(shown) * 12)  # room for the labels
        ax.grid(axis="x", alpha=0.3)
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def architecture_comparer(*, variant: Literal["small", "imagenet"] = "small") -> Explorer:
    """Compare architectures of the zoo (``course/10_modern_cnns.ipynb``).

    Args:
        variant: ``"small"`` (``(1, 28, 28)`` inputs, 10 classes) or ``"imagenet"``
            (``(3, 224, 224)``, 1000 classes); the ``"variant"`` control switches later.

    Returns:
        An :class:`Explorer` with controls ``"names"`` (a ``SelectMultiple`` of
        :data:`cnnkit.models.ARCHITECTURES`), ``"variant"``, ``"sort"`` (``"year"``,
        ``"parameters"``, ``"MACs"``) and ``"scale"`` (the input side in percent of the
        variant's 28 or 224), and state keys ``variant``, ``size`` (the input side),
        ``names`` (in the order shown), ``missing`` (chosen names without this variant),
        ``sort``, ``rows`` (the dicts of :func:`cnnkit.models.compare`) and
        ``description`` (the chart in words, :func:`describe_costs`).
    """
    from cnnkit.models import ARCHITECTURES, compare  # torch and the model zoo, on first use
    from cnnkit.models.zoo import INPUT_SHAPES

    if variant not in ("small", "imagenet"):
        raise ValueError(f"variant must be 'small' or 'imagenet', got {variant!r}")
    all_names = list(ARCHITECTURES)
    names = widgets.SelectMultiple(options=all_names, value=DEFAULT_NAMES, rows=len(all_names),
                                   description="networks")  # fmt: skip
    variant_control = widgets.ToggleButtons(
        options=[("28×28, 10 classes", "small"), ("ImageNet 224×224", "imagenet")],
        value=variant, description="variant")  # fmt: skip
    sort = widgets.ToggleButtons(options=list(_SORT_KEYS), value="year", description="sort by")
    # Input side in percent of the variant's own (28 or 224): which networks take any size?
    scale = widgets.IntSlider(value=100, min=50, max=200, step=25, description="input size %",
                              continuous_update=False, style={"description_width": "initial"})
    table = widgets.HTML()
    chart = AltImage()
    charts: dict[tuple[str, int, tuple[str, ...]], tuple[bytes, str]] = {}  # -> (PNG, alt)

    def render() -> dict[str, Any]:
        v = variant_control.value
        size = round(INPUT_SHAPES[v][1] * scale.value / 100)
        chosen = [n for n in all_names if n in names.value]
        available = [n for n in chosen if v == "small" or ARCHITECTURES[n].full is not None]
        rows = compare(available, variant=v, size=size)  # cached per (name, variant, size)
        rows.sort(key=lambda r: r[_SORT_KEYS[sort.value]] or 0)
        missing = [n for n in chosen if n not in available]
        table.value = comparison_table(rows, missing=missing)
        key = (v, size, tuple(r["name"] for r in rows))
        if key not in charts:  # matplotlib takes ~0.1 s; the table takes microseconds
            shape = "×".join(map(str, rows[0]["input_shape"])) if rows else ""
            shape += " (fixed-size classifiers do not fit)" if any(
                r["macs"] is None for r in rows) else ""
            title = f"input {shape}" if rows else "choose networks"
            charts[key] = (figure_png(cost_figure(rows, title=title)),
                           describe_costs(rows, title=title))  # fmt: skip
        chart.value, chart.alt = charts[key]
        return {"variant": v, "size": size, "names": [r["name"] for r in rows],
                "missing": missing, "sort": sort.value, "rows": rows,
                "description": chart.alt}  # fmt: skip

    controls = {"names": names, "variant": variant_control, "sort": sort, "scale": scale}
    hint = widgets.HTML("<small>ctrl/cmd-click to choose several; by keyboard: "
                        "shift+arrows extend, ctrl+space adds or removes one</small>")
    return Explorer(controls,
                    [widgets.HBox([widgets.VBox([names, hint]),
                                   widgets.VBox([variant_control, sort, scale])]),
                     table, chart],
                    render)  # fmt: skip
