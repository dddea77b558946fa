"""Plotting helpers: each takes the matplotlib ``ax`` first (``course/04_lenet.ipynb``)."""

from __future__ import annotations

import io
import math
from typing import TYPE_CHECKING

from matplotlib.axes import Axes
from matplotlib.figure import Figure

if TYPE_CHECKING:
    from cnnkit.train import History

__all__ = ["LivePlot", "in_notebook", "plot_history"]


def in_notebook() -> bool:
    """True inside a Jupyter kernel (where rich output can be displayed and updated)."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython ships with Jupyter
        return False
    shell = get_ipython()
    return shell is not None and hasattr(shell, "kernel")


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
        from IPython.display import Image, display

        image = Image(data=self._png(), format="png")
        if self._handle is None:
            self._handle = display(image, display_id=True)
        else:
            self._handle.update(image)

    def close(self) -> None:
        """Stop updating; the last image stays in the notebook."""
        self._handle = None
