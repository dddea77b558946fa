"""The lecture notebooks in a real browser, as a student uses them.

For every ``course/*.ipynb`` this starts JupyterLab on localhost, opens the notebook in
headless Chromium (Debian's ``chromium`` package, driven by Playwright), picks
**Run > Run All Cells**, and checks that every cell ran without an error, that every widget
rendered (no "Error displaying widget", none left at "Loading widget..."), and that moving
the first widget's slider changes what that widget shows. A screenshot of each notebook is saved to
``test-artifacts/screenshots/<notebook>.png`` (git-ignored), pass or fail.

Needs ``/usr/bin/chromium``: ``apt-get install chromium`` (``make test`` installs it as root). Where
no browser can be installed, ``CNNKIT_SKIP_BROWSER=1`` skips this module explicitly; CI
never sets it, and without it a missing browser is a failure, not a skip.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from browser_helpers import WIDGET_VIEW, NotebookPage
from playwright.sync_api import TimeoutError as PlaywrightTimeout

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "course").glob("*.ipynb"))
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
RUN_TIMEOUT_S = 300  # one notebook, quick profile (CNNKIT_QUICK=1)
REDRAW_TIMEOUT_S = 60  # one widget redraw after a slider moved


# The fixtures lab, browser and page are in conftest.py (shared with test_accessibility.py).


def _errors(cells: list[dict]) -> list[str]:
    return [
        f"cell {i} ({cell['source']!r}...): {out['ename']}: {out['evalue']}"
        for i, cell in enumerate(cells)
        for out in cell["outputs"]
        if out["type"] == "error"
    ]


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[nb.stem for nb in NOTEBOOKS])
def test_notebook_runs_in_jupyterlab_and_its_widgets_work(notebook, lab, page):
    path = notebook.relative_to(ROOT).as_posix()
    nb = NotebookPage(page, lab, path)
    timings = {}
    start = time.monotonic()
    try:
        nb.open()
        timings["open"] = time.monotonic() - start
        nb.run_all(timeout=RUN_TIMEOUT_S)
        timings["run all"] = time.monotonic() - start

        cells = nb.cells()
        errors = _errors(cells)
        assert not errors, "cells raised errors:\n" + "\n".join(errors)
        not_run = [i for i, c in enumerate(cells) if c["type"] == "code" and c["count"] is None]
        assert not not_run, f"code cells {not_run} did not run"

        # Every widget output rendered: none left loading, none failed.
        try:
            nb.page.get_by_text("Loading widget...").first.wait_for(
                state="detached", timeout=30_000
            )
        except PlaywrightTimeout as error:
            raise AssertionError("a widget is still 'Loading widget...' after 30 s") from error
        text = nb.notebook_text()
        assert "Error displaying widget" not in text, (
            f"a widget failed to render; browser console:\n{nb.console}"
        )
        assert nb.renders_widgets(), "JupyterLab has no widget renderer (jupyterlab_widgets)"
        displayed = sum(WIDGET_VIEW in out["mimes"] for c in cells for out in c["outputs"])
        assert displayed > 0, "the notebook displays no widget"
        # (Fewer views than outputs is fine: a closed widget, e.g. a finished progress
        # bar with leave=False, leaves its output empty.)
        assert nb.rendered_widget_count() > 0, (
            f"{displayed} widget outputs, but no widget view rendered; browser console:\n"
            f"{nb.console}"
        )

        # Moving a slider changes what its widget shows.
        found = nb.first_interactive_widget()
        assert found is not None, "no widget with a control to move and something it displays"
        widget, control = found
        assert control["kind"] == "slider", (
            f"the first interactive widget has no slider to move, only {control['kind']} "
            f"{control['name']!r}: every lecture's widget should have one"
        )
        before = nb.shows(widget)
        old, new = nb.move_control(widget, control["kind"])
        moved = f"moved the {control['kind']} {control['name']!r} from {old!r} to {new!r}"
        after = nb.wait_for_redraw(widget, before, timeout=REDRAW_TIMEOUT_S)
        timings["redraw"] = time.monotonic() - start
        print(moved)
        log = nb.log_text() if nb.log_entries() else ""
        assert "Traceback" not in log, f"{moved}: it raised an error:\n{log[-2000:]}"
        assert after != before, (
            f"{moved}, but after {REDRAW_TIMEOUT_S} s the widget still shows the same: "
            f"{before['text'][:300]!r}"
        )
        assert "Traceback" not in after["text"], f"{moved}: it shows an error: {after['text']!r}"
    finally:
        print(f"{path}: " + ", ".join(f"{k} at {v:.1f} s" for k, v in timings.items()))
        try:
            nb.screenshot(SCREENSHOTS / f"{notebook.stem}.png")
        except Exception as error:  # keep the test's own failure, if any
            print(f"no screenshot: {error}")
    assert not lab.saved(path), f"the browser session saved {path}: autosave must stay off"
