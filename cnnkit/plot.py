"""Plotting helpers: each takes the matplotlib ``ax`` first (``course/07_lenet.ipynb``).

:func:`show` displays a figure with a text alternative: JupyterLab renders a plain
``image/png`` output as an ``<img>`` without ``alt`` (it ignores the output's metadata),
so the figure is sent as HTML, ``<img alt="...">``, with the PNG and the alt text as plain
text beside it for front ends that do not render HTML.
"""

from __future__ import annotations

import base64
import html
import io
import math
from typing import TYPE_CHECKING

from matplotlib.axes import Axes
from matplotlib.figure import Figure

if TYPE_CHECKING:
    from cnnkit.train import History

__all__ = ["LivePlot", "describe_history", "figure_bundle", "in_notebook", "plot_history", "show"]


def in_notebook() -> bool:
    """True inside a Jupyter kernel (where rich output can be displayed and updated)."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython ships with Jupyter
        return False
    shell = get_ipython()
    return shell is not None and hasattr(shell, "kernel")


def figure_bundle(png: bytes, alt: str) -> dict[str, str]:
    """A display bundle of a PNG with its text alternative (``display(b, raw=True)``).

    Raises:
        ValueError: ``alt`` is empty: say in words what the picture shows.
    """
    if not isinstance(alt, str) or not alt.strip():
        raise ValueError(
            "alt must say in words what the figure shows (what is plotted, the trend, the "
            "numbers a reader needs), e.g. alt='Test accuracy per epoch, rising from 0.62 "
            "to 0.91'"
        )
    data = base64.b64encode(png).decode("ascii")
    return {
        "text/html": f'<img src="data:image/png;base64,{data}" alt="{html.escape(alt)}">',
        "image/png": data,
        "text/plain": alt,
    }


def show(fig: Figure, alt: str, *, dpi: int = 90) -> None:
    """Display ``fig`` with a text alternative, instead of ``plt.show()``.

    Introduced in ``course/00_getting_started.ipynb``. A pyplot figure is closed, so that
    the inline backend does not display it a second time.

    Args:
        fig: a matplotlib figure (``fig, ax = plt.subplots()``).
        alt: what the figure shows, in words, for a reader who cannot see it.
        dpi: resolution of the PNG.
    """
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    bundle = figure_bundle(buffer.getvalue(), alt)
    if fig.canvas.manager is not None:  # made by pyplot: the inline backend would show it
        import matplotlib.pyplot as plt

        plt.close(fig)
    from IPython.display import display

    display(bundle, raw=True)


def describe_history(history: History) -> str:
    """The text alternative of :func:`plot_history`: each curve's first and last value."""
    n = history.num_epochs

    def curve(name: str, values: list[float]) -> str:
        return f"{name} from {values[0]:.3f} to {values[-1]:.3f}" if n > 1 else (
            f"{name} {values[0]:.3f}")

    curves = [curve("train loss", history.train_loss), curve("train accuracy", history.train_acc)]
    markers = "loss: circles, train accuracy: squares"
    if any(not math.isnan(a) for a in history.test_acc):
        curves.append(curve("test accuracy", history.test_acc))
        markers += ", test accuracy: triangles"
    return (f"Training curves over {n} epoch{'s' if n != 1 else ''} ({markers}): "
            f"{'; '.join(curves)}.")


def plot_history(ax: Axes, history: History, *, num_epochs: int | None = None) -> Axes:
    """Draw train loss and train/test accuracy per epoch of a :class:`History` on ``ax``."""
    epochs = range(1, history.num_epochs + 1)
    ax.plot(epochs, history.train_loss, "o-", label="train loss")
    ax.plot(epochs, history.train_acc, "s--", label="train acc")
    if any(not math.isnan(a) for a in history.test_acc):
        ax.plot(epochs, history.test_acc, "^-.", label="test acc")
    ax.set_xlabel("epoch")
    ax.set_xlim(0.5, max(num_epochs or 0, history.num_epochs, 1) + 0.5)
    ax.grid(True, alpha=0.3)
    ax.legend(loc="center right")
    return ax


class LivePlot:
    """A loss/accuracy figure that ``fit(..., plot=True)`` redraws in place after each epoch.

    In Jupyter the figure is displayed once with a display id and then updated, so the
    notebook shows one plot that grows, not one plot per epoch. Outside Jupyter the
    figure is kept in :attr:`figure` (nothing is shown), e.g. to save it.
    """

    def __init__(self, num_epochs: int | None = None, figsize: tuple[float, float] = (5, 3.2)):
        # A bare Figure, not pyplot: the inline backend would display a pyplot figure a
        # second time at the end of the cell.
        self.figure = Figure(figsize=figsize, layout="tight")
        self.ax = self.figure.add_subplot()
        self.num_epochs = num_epochs
        self._handle = None
        self._live = in_notebook()

    def _png(self) -> bytes:
        buffer = io.BytesIO()
        self.figure.savefig(buffer, format="png", dpi=90)
        return buffer.getvalue()

    def update(self, history: History) -> None:
        """Redraw from ``history`` and refresh the displayed image."""
        self.ax.clear()
        plot_history(self.ax, history, num_epochs=self.num_epochs)
        if not self._live:
            return
        from IPython.display import display

        bundle = figure_bundle(self._png(), describe_history(history))
        if self._handle is None:
            self._handle = display(bundle, raw=True, display_id=True)
        else:
            self._handle.update(bundle, raw=True)

    def close(self) -> None:
        """Stop updating; the last image stays in the notebook."""
        self._handle = None
