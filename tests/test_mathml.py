"""autograder/mathml.py: formulas typeset as MathML where MathML is wanted, and only there."""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from pathlib import Path

import nbformat
import pytest
from bs4 import BeautifulSoup
from nbconvert.exporters import HTMLExporter

from autograder.mathml import formula_to_mathml, tex_to_mathml

ROOT = Path(__file__).resolve().parents[1]
MATHML = "{http://www.w3.org/1998/Math/MathML}"
NOTEBOOKS = sorted((ROOT / "source").glob("*/*.ipynb")) + sorted((ROOT / "course").glob("*.ipynb"))


def _markdown_html(source: str) -> str:
    """A markdown cell as nbconvert renders it for the page (math left for a typesetter)."""
    exporter = HTMLExporter()
    return exporter.markdown2html({"cell": {}, "resources": {}}, source)


def test_a_formula_becomes_one_math_element_with_its_tex():
    out = formula_to_mathml(r"h_{\text{out}} = \left\lfloor \frac{n_h}{s_h} \right\rfloor",
                            display=True)
    math = ET.fromstring(out)
    assert math.tag == f"{MATHML}math"
    assert math.get("display") == "block"
    assert math.get("alttext") == r"h_{\text{out}} = \left\lfloor \frac{n_h}{s_h} \right\rfloor"
    assert math.find(f".//{MATHML}mfrac") is not None
    assert "\u230a" in "".join(math.itertext())  # the floor bracket itself, not "\lfloor"


def test_characters_of_a_formula_stay_text():
    out = formula_to_mathml(r"a < b \text{<b>x&y</b>}", display=False)
    math = ET.fromstring(out)  # well-formed XML: nothing of the formula became markup
    assert math.find(f".//{MATHML}mtext").text == "<b>x&y</b>"
    assert "<b>" not in out


@pytest.mark.parametrize("tex", [r"\frac{a}{", r"\undefinedcommand x"])
def test_a_formula_that_cannot_be_read_is_shown_as_its_tex(tex):
    out = formula_to_mathml(tex, display=False)
    assert out.startswith('<code class="tex">$') and "<math" not in out
    assert BeautifulSoup(out, "html.parser").get_text() == f"${tex}$"


def test_code_is_left_alone_and_prose_around_formulas_is_kept():
    html = _markdown_html("Cost $n_h$ here, `price = $5 and $6` and\n\n$$k_h - 1$$\n")
    out = BeautifulSoup(tex_to_mathml(html), "html.parser")
    assert [m["alttext"] for m in out.find_all("math")] == ["n_h", "k_h - 1"]
    assert out.code.get_text() == "price = $5 and $6"
    assert "Cost" in out.get_text() and "here," in out.get_text()


def test_html_without_formulas_is_returned_unchanged():
    html = '<p>No formula, <a href="x">a link</a> &amp; an entity.</p>'
    assert tex_to_mathml(html) == html


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_formula_of_the_course_is_typeset(notebook):
    """Every formula in the lectures and assignments converts, none falls back to TeX."""
    count = 0
    for cell in nbformat.read(notebook, as_version=4).cells:
        if cell.cell_type != "markdown" or "$" not in cell.source:
            continue
        out = BeautifulSoup(tex_to_mathml(_markdown_html(cell.source)), "html.parser")
        assert not out.select("code.tex"), f"not typeset: {out.select('code.tex')[0].text}"
        for node in out.find_all(string=True):
            if not any(p.name in ("code", "pre", "math") for p in node.parents):
                assert "$" not in node, f"raw TeX left in {notebook.name}: {node[:80]!r}"
        count += len(out.find_all("math"))
    assert count > 0 or notebook.parent.name == "course"


def test_text_full_of_unclosed_delimiters_is_read_quickly():
    """A student's cell of 50,000 opened formulas costs seconds, not hours (bounded length)."""
    html = "<p>" + "\\begin{x} $$ $" * 4000 + "</p>"
    start = time.perf_counter()
    out = tex_to_mathml(html)
    assert time.perf_counter() - start < 20
    assert "\\begin{x}" in BeautifulSoup(out, "html.parser").get_text()
