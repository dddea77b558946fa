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

Wall time: the unit tests about 6 s; with the end-to-end part about 3.5 minutes on two busy
cores (grading two submissions, nbgrader autograde once, JupyterLab and Chromium).
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


def test_pathological_markdown_is_read_in_linear_time():
    import time

    start = time.perf_counter()
    for source in ("<div>\n<a" + " " * 200_000, "<div>\n<a" + ' x="1"' * 30_000 + " "):
        assert inert_markdown(source)[1] is not None
    assert time.perf_counter() - start < 10


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


# --- end to end: a hostile submission through both grading paths, the feedback, the browser

HOSTILE_CODE = f"""
from IPython.display import HTML, SVG, Javascript, Markdown, display
import ipywidgets
display(HTML({f'<script>{payload("out_html")}</script><img src=x onerror="{payload("out_img")}">'!r}))
display(Javascript({payload("out_js")!r}))
display(SVG({f'<svg xmlns="http://www.w3.org/2000/svg" onload="{payload("out_svg")}"/>'!r}))
display(Markdown({f'<img src=x onerror="{payload("out_md")}">'!r}))
display(ipywidgets.HTML(value={f'<img src=x onerror="{payload("out_widget")}">'!r}))
print("<script>window.__pwned=1</script> printed")
"""
REMOVED = ("text/html", "application/javascript", "image/svg+xml", "text/markdown",
           "application/vnd.jupyter.widget-view+json")


def _env() -> dict[str, str]:
    """The venv's scripts first on PATH, as an activated venv has them."""
    return os.environ | {"PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}


def _nbgrader(root: Path, *args: str) -> str:
    proc = subprocess.run([str(BIN / "nbgrader"), *args], cwd=root, env=_env(),
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    return proc.stdout + proc.stderr


def _scores(root: Path, student: str) -> dict[str, float | None]:
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        notebook = gb.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, student)
        return {g.name: g.auto_score for g in notebook.grades}


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Course:
    """ps1 built; mallory (and eve, the same) graded once by ``python -m autograder grade``."""
    course = Course(ROOT).copy_to(tmp_path_factory.mktemp("sanitize") / "course",
                                  assignments=[ASSIGNMENT])
    root = str(course.root)
    assert main(["--root", root, "build", ASSIGNMENT]) == 0
    source = nbformat.read(course.source_notebooks(ASSIGNMENT)[0], as_version=4)
    answers = dict(solution_answers(source).answers)
    written = [c.metadata.nbgrader.grade_id for c in source.cells
               if c.cell_type == "markdown" and c.metadata.get("nbgrader", {}).get("solution")]
    assert written, "ps1 has written answers"
    answers["conv_output_shape"] = HOSTILE_CODE + answers["conv_output_shape"]
    answers |= {grade_id: "\n\n".join(HOSTILE_MARKDOWN) for grade_id in written}
    nb = make_submission(course.released_notebooks(ASSIGNMENT)[0], answers)
    first = next(i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {})
                 .get("grade_id") == "conv_output_shape")
    nb.cells.insert(first + 1, new_markdown_cell(  # a cell she added
        f'Added: <img src=x onerror="{payload("added")}"> [x](javascript:window.__pwned=1)'))
    for student in ("mallory", "eve"):
        course.submit(ASSIGNMENT, student, nb, NOTEBOOK)
    assert main(["--root", root, "grade", ASSIGNMENT, "--workers", "1", "--no-progress"]) == 0
    return course


def _autograded(course: Course, student: str) -> nbformat.NotebookNode:
    return nbformat.read(course.root / "autograded" / student / ASSIGNMENT / NOTEBOOK, 4)


def _assert_inert(nb: nbformat.NotebookNode) -> None:
    """Only text and images in outputs, notes for the rest, Markdown that renders inert."""
    assert "widgets" not in nb.metadata
    notes, printed = [], False
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            assert set(out.get("data", {})) <= set(KEPT_TYPES), out
            notes.append(out.get("data", {}).get("text/plain", ""))
            printed |= "<script>window.__pwned=1</script> printed" in out.get("text", "")
        if cell.cell_type == "markdown":
            assert active_parts(_render_markdown(cell.source)) == [], cell.source
    for removed in REMOVED:  # the sandbox did display them, and the page says so
        assert any("not shown" in n and removed in n for n in notes), (removed, notes)
    assert printed, "the printed <script> stays as text"
    answers = [c.source for c in nb.cells if c.cell_type == "markdown"
               and c.metadata.get("nbgrader", {}).get("solution")]
    assert answers and all("Padding keeps the size." in a and "onerror" in a for a in answers)


def _assert_feedback_inert(page: str) -> None:
    assert active_parts(page) == []
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt; printed" in page
    assert "&lt;img src=x onerror=" in page  # her written answer, as the text she typed


def test_grade_writes_inert_notebooks_and_feedback(course):
    nb = _autograded(course, "mallory")
    _assert_inert(nb)
    record = json.loads((course.root / "autograded" / "mallory" / ASSIGNMENT /
                         "grading.json").read_text())
    cells = record["notebooks"][NOTEBOOK]["cells"]
    assert all(c["points"] == c["max_points"] for c in cells.values()), cells  # all pass
    assert any("text/html" in what for what in record["notebooks"][NOTEBOOK]["not_shown"])
    assert main(["--root", str(course.root), "feedback", ASSIGNMENT,
                 "--student", "mallory"]) == 0
    page = (course.root / "feedback" / "mallory" / ASSIGNMENT / f"{ASSIGNMENT}.html")
    _assert_feedback_inert(page.read_text())


def test_nbgrader_autograde_writes_inert_notebooks_and_feedback(course):
    before = _scores(course.root, "mallory")
    _nbgrader(course.root, "autograde", ASSIGNMENT, "--student", "mallory", "--force")
    assert _scores(course.root, "mallory") == before  # the same points as `grade`
    _assert_inert(_autograded(course, "mallory"))
    _nbgrader(course.root, "generate_feedback", ASSIGNMENT, "--student", "mallory", "--force")
    page = (course.root / "feedback" / "mallory" / ASSIGNMENT / f"{ASSIGNMENT}.html")
    _assert_feedback_inert(page.read_text())


def _graded_elsewhere(course: Course) -> nbformat.NotebookNode:
    """eve's graded notebook with hostile outputs, widget state and Markdown put back, as a
    grader without autograder/sanitize.py would have written it."""
    nb = _autograded(course, "eve")
    hostile = _hostile_notebook()
    code = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id")
                == "conv_output_shape")
    code.outputs = hostile.cells[0].outputs
    for cell in nb.cells:
        if cell.cell_type == "markdown" and cell.metadata.get("nbgrader", {}).get("solution"):
            cell.source = "\n\n".join(HOSTILE_MARKDOWN)
    nb.metadata["widgets"] = hostile.metadata["widgets"]
    nbformat.write(nb, course.root / "autograded" / "eve" / ASSIGNMENT / NOTEBOOK)
    return nb


@pytest.mark.skipif(os.environ.get("CNNKIT_SKIP_BROWSER") == "1",
                    reason="CNNKIT_SKIP_BROWSER=1: the browser tests were switched off")
def test_formgrader_runs_no_script_of_a_submission(course, tmp_path):
    from browser_helpers import CHROMIUM, CHROMIUM_ARGS, JupyterLab
    from playwright.sync_api import expect, sync_playwright

    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} not found: `apt-get install chromium`, or set "
                    "CNNKIT_SKIP_BROWSER=1 to skip the browser tests explicitly", pytrace=False)
    root = course.root
    raw = _graded_elsewhere(course)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the PDF nbconvert cannot show
        plain, _ = HTMLExporter(template_name="classic").from_notebook_node(raw)
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        ids = {s: gb.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, s).id
               for s in ("mallory", "eve")}
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with JupyterLab(root, tmp_path / "lab", env=_env()) as lab, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.set_default_timeout(30_000)
        writes: list[str] = []
        page.on("request", lambda r: writes.append(f"{r.method} {r.url}")
                if "/api/contents" in r.url and r.method != "GET" else None)
        try:
            page.goto(f"{lab.url}/lab?token={lab.token}", wait_until="commit")
            for student, submission in ids.items():
                page.goto(f"{lab.url}/formgrader/submissions/{submission}/?index=0")
                expect(page.locator("input.score").first).to_be_visible()  # its own JS ran
                title = page.title()
                expect(page.locator(".text_cell_render").filter(
                    has_text="<img src=x onerror=").first).to_be_visible()
                page.wait_for_timeout(2000)  # time for a fetch() to land, had one started
                page.screenshot(path=str(SCREENSHOTS / f"formgrader_inert_{student}.png"),
                                full_page=True)
                assert page.title() == title != "PWNED", student
                assert page.evaluate("typeof window.__pwned") == "undefined", student
            assert writes == []
            # the control: the same payloads on a plain nbconvert page do run
            control = browser.new_page()
            control.set_content(plain)
            control.wait_for_function("window.__pwned === 1", timeout=10_000)
            control.close()
        finally:
            browser.close()
    assert sorted(p.name for p in root.rglob("pwned_*")) == []
