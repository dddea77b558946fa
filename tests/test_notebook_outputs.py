"""What a student sees in the getting-started notebook, executed in a real Jupyter kernel.

nbmake checks that every notebook runs; this checks the rich outputs: the summary renders
as an HTML table, the progress bar is a widget, and the live plot is ONE image that
`fit(..., plot=True)` updated in place (not one image per epoch).
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
WIDGET = "application/vnd.jupyter.widget-view+json"


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    nb = nbformat.read(ROOT / "course" / "00_getting_started.ipynb", as_version=4)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CNNKIT_QUICK", "1")  # inherited by the kernel: the quick profile
        NotebookClient(nb, timeout=300, kernel_name="python3",
                       resources={"metadata": {"path": str(ROOT / "course")}}).execute()
    return nb


def _cell(nb, needle: str):
    matches = [c for c in nb.cells if c.cell_type == "code" and needle in c.source]
    assert len(matches) == 1, needle
    return matches[0]


def test_summary_renders_as_an_html_table(executed):
    outputs = _cell(executed, "cnnkit.summary(model").outputs
    html = outputs[0]["data"]["text/html"]
    assert "<table>" in html and "61,706" in html and "Conv2d" in html


def test_fit_shows_a_progress_widget_and_one_live_plot(executed):
    outputs = _cell(executed, "plot=True").outputs
    widgets = [o for o in outputs if WIDGET in o.get("data", {})]
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(widgets) == 1, "tqdm.auto should show one progress-bar widget"
    assert len(images) == 1, "the live plot should be one image updated in place"
    assert any("epochs on" in o.get("text", "") for o in outputs if o["output_type"] == "stream")


def test_slider_is_a_widget(executed):
    outputs = _cell(executed, "widgets.IntSlider").outputs
    assert any(WIDGET in o.get("data", {}) for o in outputs)
