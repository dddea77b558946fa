"""A submission's HTML and JavaScript never run on a page that shows it (autograder/sanitize.py).

Unit tests of :func:`autograder.sanitize.make_inert` on hostile notebooks (script in
outputs of every active type, widget views and widget state, attachments, raw HTML and
``javascript:`` links in Markdown) and on benign ones (the instructor's Markdown, a plain
answer with formulas and code: unchanged), and the formgrader's own template rendering a
hostile notebook that was not made inert when graded (``nbgrader_config.py``'s
``HTMLExporter.preprocessors``). Every HTML page is read by :func:`active_parts`, an
``html.parser`` reader independent of the sanitizer's own check.

End to end, in a scratch course with ``ps1_output_shapes``: mallory's submission has the
right answers, and her first answer cell displays HTML with ``<script>`` and ``onerror``,
JavaScript, SVG with ``onload``, Markdown with ``<img onerror>``, an ipywidgets ``HTML``
widget (a widget view and the notebook's widget state) and a ``<script>`` printed as text;
her written answers and a cell she added hold ``<img onerror>``, ``<svg onload>``,
``<iframe>``, ``<style>`` and ``javascript:`` links. Graded by ``python -m autograder
grade`` and again by ``nbgrader autograde``: each autograded notebook and feedback page
has nothing active, the printed ``<script>`` is escaped text, and every test still scores
full marks. In Chromium, her page in the formgrader and the page of a notebook whose
hostile outputs were put back after grading (as if graded elsewhere) run no payload: the
title is unchanged, no ``PUT /api/contents`` was sent, no file appeared, and the flag
every payload sets is undefined; the same payload does run on a plain nbconvert page.

Wall time: the unit tests about 3 s; the end-to-end module about ... (see the report).
"""

from __future__ import annotations

import copy
import html
import json
import os
import subprocess
import sys
import warnings
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest
from nbconvert import HTMLExporter
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output
from nbgrader.api import Gradebook

from autograder.cli import main
from autograder.course import Course
from autograder.merge import solution_answers
from autograder.sanitize import KEPT_TYPES, InertNotebook, inert_markdown, make_inert
from autograder.submissions import make_submission

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT = "ps1_output_shapes"
NOTEBOOK = f"{ASSIGNMENT}.ipynb"
BIN = Path(sys.executable).parent
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
MARK = "pwned"  # in every payload: found anywhere active on a page, the test fails

pytestmark = pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning")


def payload(tag: str) -> str:
    """JavaScript that, run on a page of the Jupyter server, sets ``window.__pwned``,
    changes the title and writes ``pwned_<tag>.txt`` through the server's contents API
    with the instructor's session (its XSRF cookie)."""
    return ("window.__pwned=1;document.title='PWNED';fetch('/api/contents/pwned_" + tag
            + ".txt',{method:'PUT',headers:{'Content-Type':'application/json','X-XSRFToken':"
            "decodeURIComponent((document.cookie.match(/_xsrf=([^;]+)/)||[])[1]||'')},"
            "body:JSON.stringify({type:'file',format:'text',content:'x'})})")


HOSTILE_MARKDOWN = [
    f'Padding keeps the size. <img src=x onerror="{payload("img")}">',
    f"<svg onload=\"{payload('svg')}\"><circle r=5 /></svg>",
    "[see this](javascript:window.__pwned=1)",
    "[obfuscated](JaVa&#115;cript:window.__pwned=1)",
    "[prefixed](files/javascript:window.__pwned=1)",
    "<javascript:window.__pwned=1>",
    "<iframe src=\"/api/contents\"></iframe> pwned",
    "<style>body { display: none } /* pwned */</style>",
    f"<script>{payload('script')}</script>",
    f'<a href="#x" onclick="{payload("a")}">click</a>',
    f"<div>\n<img src=x onerror={payload('block').replace(' ', '')}//\n</div>",
    "![tracker](http://evil.example/pwned.png)",
    f"<details ontoggle=\"{payload('details')}\" open>x</details>",
]
BENIGN_MARKDOWN = (
    "## My answer\n\nA $k \\times k$ kernel without padding loses $k - 1$ rows, so for "
    "$x < y$ and `h < 3`:\n\n$$h_{out} = \\left\\lfloor \\frac{h + 2p - k}{s} \\right\\rfloor"
    " + 1$$\n\n| k | lost |\n|:-|-:|\n| 3 | 2 |\n\n- [x] *checked* **twice**\n\n```python\n"
    "print(1 < 2)\n```\n\nH<sub>2</sub>O, see [the notes](https://d2l.ai/#conv).\n"
)


class _Active(HTMLParser):
    """What on an HTML page could run: scripts, event handlers, script URLs, frames."""

    DANGEROUS_TAGS = {"iframe", "object", "embed", "frame", "base", "form", "svg", "math"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._script = False

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            url = "".join((value or "").split()).lower()
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}=...>")
            elif url.startswith(("javascript:", "vbscript:", "data:text")):
                self.found.append(f"<{tag} {name}={url[:30]}>")
            elif tag == "img" and name == "src" and not url.startswith("data:image/"):
                self.found.append(f"<img src={url[:30]}>")
        if tag in self.DANGEROUS_TAGS and tag != "math":
            self.found.append(f"<{tag}>")
        self._script = tag in ("script", "style")
        if self._script and any(MARK in (v or "") for _, v in attrs):
            self.found.append(f"<{tag}> with {MARK}")

    def handle_endtag(self, tag):
        self._script = False

    def handle_data(self, data):
        if self._script and (MARK in data or "__pwned" in data):
            self.found.append(f"a script or style holding {MARK}: {data[:60]!r}")


def active_parts(page: str) -> list[str]:
    parser = _Active()
    parser.feed(page)
    parser.close()
    return parser.found


def _render_markdown(source: str) -> str:
    return HTMLExporter().markdown2html({"cell": {}}, source)


def _display(data: dict) -> dict:
    return new_output("display_data", data=data, metadata={})


def _hostile_notebook() -> nbformat.NotebookNode:
    """Outputs of every active type, widget state, attachments, hostile Markdown."""
    code = new_code_cell("x = 1", outputs=[
        _display({"text/html": f"<script>{payload('html')}</script>", "text/plain": "<HTML>"}),
        _display({"application/javascript": payload("js")}),
        _display({"image/svg+xml": f"<svg onload=\"{payload('svg')}\"/>"}),
        _display({"text/markdown": f"<img src=x onerror=\"{payload('md')}\">"}),
        _display({"application/vnd.jupyter.widget-view+json":
                  {"model_id": "abc", "version_major": 2, "version_minor": 0},
                  "text/plain": "HTML(value='...')"}),
        _display({"application/pdf": "JVBER", "application/json": {"a": MARK}}),
        new_output("execute_result", data={"text/html": f"<b onmouseover=\"{payload('r')}\">"},
                   metadata={"text/html": {"isolated": True}}, execution_count=1),
        new_output("stream", name="stdout", text=f"<script>{payload('text')}</script>\n"),
        _display({"image/png": "iVBORw0KGgo=", "text/plain": "<Figure>"}),
    ])
    code.outputs[-1].metadata = {"image/png": {"width": 200, "height": "1 onerror=x"},
                                 "filenames": {"image/png": "javascript:x"}}
    cells = [code] + [new_markdown_cell(m) for m in HOSTILE_MARKDOWN]
    svg = {"image/svg+xml": f"<svg onload=\"{payload('att')}\"/>"}
    cells[1].attachments = {"evil.svg": svg, "plot.png": {"image/png": "iVBORw0KGgo="}}
    nb = new_notebook(cells=cells)
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {
        "state": {"abc": {"model_name": "HTMLModel", "state": {
            "value": f"<img src=x onerror=\"{payload('widget')}\">"}}},
        "version_major": 2, "version_minor": 0}}
    return nb


def test_outputs_keep_only_text_and_images():
    nb = _hostile_notebook()
    changed = make_inert(nb)
    outputs = nb.cells[0].outputs
    for out in outputs:
        assert set(out.get("data", {})) <= set(KEPT_TYPES), out
    notes = [o.data["text/plain"] for o in outputs if "data" in o]
    for removed in ("text/html", "application/javascript", "image/svg+xml", "text/markdown",
                    "application/vnd.jupyter.widget-view+json", "application/pdf"):
        assert any(f"not shown: " in n and removed in n for n in notes), (removed, notes)
    assert notes[0].startswith("<HTML>\n[grader: not shown: text/html")  # text/plain kept
    assert outputs[6].output_type == "execute_result" and outputs[6].metadata == {}
    assert outputs[7].text.startswith("<script>")  # text stays text (escaped when shown)
    assert outputs[8].data["image/png"] == "iVBORw0KGgo="
    assert outputs[8].metadata == {"image/png": {"width": 200}}
    assert "widgets" not in nb.metadata
    assert list(nb.cells[1].attachments) == ["plot.png"]
    assert any("widget state" in c for c in changed) and any("evil.svg" in c for c in changed)
    nbformat.validate(nb)
    assert make_inert(copy.deepcopy(nb)) == []  # idempotent


@pytest.mark.parametrize("source", HOSTILE_MARKDOWN)
def test_hostile_markdown_renders_inert(source):
    shown, found = inert_markdown(source)
    assert found is not None
    assert active_parts(_render_markdown(shown)) == []
    assert inert_markdown(shown) == (shown, None)  # idempotent


def test_benign_markdown_is_unchanged():
    assert inert_markdown(BENIGN_MARKDOWN) == (BENIGN_MARKDOWN, None)
    instructor = [c.source for path in sorted((ROOT / "source").glob("**/*.ipynb"))
                  for c in nbformat.read(path, as_version=4).cells if c.cell_type == "markdown"]
    assert len(instructor) > 20
    assert [s for s in instructor if inert_markdown(s)[1] is not None] == []


def test_text_with_script_is_escaped_on_the_page():
    nb = _hostile_notebook()
    make_inert(nb)
    page, _ = HTMLExporter(template_name="classic").from_notebook_node(nb)
    assert html.escape(f"<script>{payload('text')}</script>", quote=False) in page
    assert active_parts(page) == []


def test_formgrader_template_renders_a_hostile_notebook_inert():
    """The formgrader's exporter with the course's configuration, on a notebook that was
    not made inert when it was graded (nbgrader_config.py: HTMLExporter.preprocessors)."""
    from nbgrader.apps import NbGrader
    from nbgrader.server_extensions.formgrader import handlers

    app = NbGrader(config_dir=str(ROOT))
    app.load_cwd_config = True
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        app.load_config_file()
    finally:
        os.chdir(cwd)
    config = copy.deepcopy(app.config)
    assert "autograder.sanitize.InertNotebook" in config.HTMLExporter.preprocessors
    config.HTMLExporter.template_name = "formgrade"
    config.HTMLExporter.extra_template_basedirs = [handlers.template_path]
    resources = {"assignment_id": ASSIGNMENT, "notebook_id": ASSIGNMENT, "submission_id": "1",
                 "index": 0, "total": 1, "base_url": "", "student": "mallory",
                 "last_name": None, "first_name": None, "notebook_path": "x.ipynb"}
    exporter = HTMLExporter(config=config)
    page, _ = exporter.from_notebook_node(_hostile_notebook(), resources=dict(resources))
    own, _ = exporter.from_notebook_node(new_notebook(), resources=dict(resources))
    assert active_parts(own) == ['<span onclick=...>'] * 2  # the template's own (names)
    assert active_parts(page) == active_parts(own)
    with warnings.catch_warnings():  # nbconvert: "not able to be represented" (the PDF)
        warnings.simplefilter("ignore", UserWarning)
        raw, _ = HTMLExporter(template_name="classic").from_notebook_node(_hostile_notebook())
    assert len(active_parts(raw)) > 5  # the reader sees them where nothing removed them


def test_preprocessor_is_make_inert():
    nb = _hostile_notebook()
    expected = copy.deepcopy(nb)
    make_inert(expected)
    assert InertNotebook().preprocess(nb, {})[0] == expected
