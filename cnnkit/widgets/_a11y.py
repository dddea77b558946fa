"""What makes a cnnkit widget usable by keyboard and screen reader (ipywidgets 8.1, JupyterLab 4).

Guarantees, for every widget built on :class:`~cnnkit.widgets._base.Explorer`:

* every picture is an :class:`AltImage`, whose ``alt`` text says in words what it shows
  (ipywidgets' ``Image`` has no ``alt``: the text goes into its ``tooltip``, which the
  browser renders as the ``<img>``'s ``title``, and ``title`` is an image's accessible
  name when it has no ``alt``);
* every control has a name a screen reader reads: its ``description``, a visible label
  (the kernel entries of the kernel playground are labelled ``K[r,c]``), and for the
  icon-only ``Play`` buttons an ``aria-label`` (below);
* the widget shows what it draws as text too (an ``HTML`` under the controls, built by the
  widget's pure ``describe_*`` function), so a reader who cannot see the picture reads the
  same facts, and the tests assert on them;
* ipywidgets 8.1's sliders and ``Play`` buttons are named in the page by
  :data:`ARIA_SCRIPT`, which each Explorer carries in a hidden ``Output``:
  the slider handle (a ``div`` with ``role="slider"`` from noUiSlider) gets
  ``aria-labelledby`` pointing at the slider's own visible label, and the icon-only
  ``Play`` buttons get ``aria-label``\\ s. ipywidgets offers no option for either;
* the same script marks every control ``data-lm-suppress-shortcuts`` (Lumino's own
  opt-out), so that keys pressed on a control reach it: otherwise JupyterLab's notebook
  shortcuts take ArrowUp/ArrowDown (next cell) and Enter (edit mode) from a focused
  dropdown, number box or button. While a control has the focus, JupyterLab's shortcuts
  (Shift+Enter, Ctrl+S...) do not apply: Tab out of the widget, or click the cell, to use
  them again.

What it does not do: the script runs only where the front end executes JavaScript outputs
of trusted cells (JupyterLab, Notebook 7: a notebook you ran yourself); elsewhere the
sliders work by keyboard but a screen reader reads them by value only. Changes are not
announced as they happen (no ``aria-live``: an ``HTML`` widget replaces its whole content,
and a live region must persist); after moving a control, read the description text.
"""

from __future__ import annotations

import ipywidgets as widgets
from traitlets import Unicode

__all__ = ["ARIA_SCRIPT", "EXPLORER_CLASS", "AltImage", "accessible_box", "aria_output", "span"]

#: CSS class of every Explorer's root, which the script looks for.
EXPLORER_CLASS = "cnnkit-explorer"

#: Runs once per rendered view (``element`` is the output's node, as JupyterLab's
#: JavaScript renderer passes it) and again whenever the widget's DOM changes.
ARIA_SCRIPT = """
((tries) => {
  const start = () => {  // the output may be rendered before it is attached to the widget
    const root = element.closest('.ROOT_CLASS');
    if (!root) return void (tries++ < 100 && setTimeout(start, 100));
    if (!root.dataset.cnnkitAria) label(root);
  };
  start();
})(0);

function label(root) {
  root.dataset.cnnkitAria = '1';
  let next = 0;
  const CONTROLS = 'select, input, textarea, button, .noUi-handle, [contenteditable="true"]';
  const PLAY = ['play or pause', 'stop', 'repeat'];
  const name = () => {
    for (const box of root.querySelectorAll('.widget-slider')) {
      const label = box.querySelector('.widget-label');
      const handle = box.querySelector('.noUi-handle');
      if (!label || !handle) continue;
      if (!label.id) label.id = `cnnkit-label-${Date.now()}-${next++}`;
      if (handle.getAttribute('aria-labelledby') !== label.id)
        handle.setAttribute('aria-labelledby', label.id);
    }
    for (const box of root.querySelectorAll('.widget-play')) {
      box.querySelectorAll('button').forEach((button, i) => {
        const text = `${PLAY[i] ?? 'button ' + i} (animation)`;
        if (!button.textContent.trim() && button.getAttribute('aria-label') !== text)
          button.setAttribute('aria-label', text);
      });
    }
  };
  const keys = () => {  // arrow keys, Enter and Space go to the control, not to JupyterLab
    for (const control of root.querySelectorAll(CONTROLS))
      if (!control.hasAttribute('data-lm-suppress-shortcuts'))
        control.setAttribute('data-lm-suppress-shortcuts', 'true');
  };
  const update = () => { name(); keys(); };
  update();
  new MutationObserver(update).observe(root, {childList: true, subtree: true});
}
""".replace("ROOT_CLASS", EXPLORER_CLASS)


class AltImage(widgets.Image):
    """An ipywidgets ``Image`` with a text alternative, ``alt``.

    ``alt`` is stored in ``tooltip``, which the browser shows as the ``<img>``'s ``title``
    (its accessible name). The empty ``description`` is synced because ipywidgets 8.1.9's
    view reads ``description.length`` before it sets a ``title``, and ``Image`` has no
    ``description`` of its own (jupyter-widgets/ipywidgets#3860): without it the view
    throws and the widget does not display.
    """

    description = Unicode("", help="Always empty (see the class docstring).").tag(sync=True)

    def __init__(self, *, alt: str = "", **kwargs) -> None:
        super().__init__(format=kwargs.pop("format", "png"), tooltip=alt or None, **kwargs)

    @property
    def alt(self) -> str:
        """What the picture shows, in words."""
        return self.tooltip or ""

    @alt.setter
    def alt(self, text: str) -> None:
        self.tooltip = text or None


def aria_output() -> widgets.Output:
    """A hidden ``Output`` holding :data:`ARIA_SCRIPT` (added to every Explorer)."""
    out = widgets.Output(layout={"display": "none"})
    script = {"application/javascript": ARIA_SCRIPT}  # no text/plain: nothing to show elsewhere
    out.outputs = ({"output_type": "display_data", "data": script, "metadata": {}},)
    return out


def accessible_box(children: list[widgets.Widget]) -> widgets.VBox:
    """A ``VBox`` of plain ipywidgets with the script every cnnkit widget carries.

    For a quick widget in a notebook (``course/00_getting_started.ipynb``): its sliders get
    their labels as accessible names, its controls keep their keys (see the module
    docstring). ``widgets.VBox(children)`` otherwise.
    """
    box = widgets.VBox([*children, aria_output()])
    box.add_class(EXPLORER_CLASS)
    return box


def span(values: list[int]) -> str:
    """``[2, 3, 4] -> "2–4"``, ``[1, 3, 5] -> "1, 3, 5"``, ``[4] -> "4"``: indices in words."""
    values = sorted(set(values))
    if len(values) > 2 and values == list(range(values[0], values[-1] + 1)):
        return f"{values[0]}–{values[-1]}"
    return ", ".join(map(str, values))
